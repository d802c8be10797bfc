import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalArgsHash,
  MemoryApprovalStore,
  newApprovalId,
  type ApprovalRecord,
  type ApprovalStore,
} from '../../src/governance/approvals.js';
import { RedisApprovalStore } from '../../src/governance/redis-approval-store.js';
import { keyId } from '../../src/http/auth.js';
import { AUTH, TEST_KEY, testHub, untilReady, type TestHub } from '../helpers/app.js';
import { answerApproval } from '../helpers/approval-page.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { REDIS_URL, testConnection, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';

describe('canonical arguments', () => {
  it('ignores key order and the gate fields, and sees every other change', () => {
    const a = canonicalArgsHash({ service_name: 'api', env: { B: '2', A: '1' }, confirm: true });
    expect(canonicalArgsHash({ env: { A: '1', B: '2' }, service_name: 'api', dry_run: false, approval_id: 'apr_x' })).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalArgsHash({ service_name: 'api', env: { A: '1', B: '3' } })).not.toBe(a);
    expect(canonicalArgsHash({ service_name: 'api', env: { A: '1', B: '2' }, region: 'x' })).not.toBe(a);
    // Array order is part of the call.
    expect(canonicalArgsHash({ tags: ['a', 'b'] })).not.toBe(canonicalArgsHash({ tags: ['b', 'a'] }));
  });
});

function record(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  const now = Date.now();
  return {
    id: newApprovalId(),
    tool: 'fixture_delete',
    level: 'CRITICAL',
    principal: 'key:aaaa0000',
    transport: 'rest',
    args_hash: canonicalArgsHash({ thing: 'x' }),
    args: { thing: 'x', tags: [] },
    action: 'delete the thing "x"',
    created_at: now,
    expires_at: now + 60_000,
    state: 'pending',
    ...overrides,
  };
}

const decision = (state: 'approved' | 'denied', by = 'key:op') => ({ state, by, via: 'page' as const, at: Date.now() });

/** One contract, two stores: the embedded and the Redis implementation behave alike. */
function approvalContract(name: string, open: () => Promise<ApprovalStore>) {
  describe(`approval store contract: ${name}`, () => {
    let store: ApprovalStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store.close());

    it('creates, reads and lists a pending approval (arguments kept as given)', async () => {
      const r = record();
      await store.create(r);
      expect(await store.get(r.id)).toEqual(r);
      expect((await store.pending()).map((p) => p.id)).toContain(r.id);
      expect(await store.get(newApprovalId())).toBeNull();
    });

    it('answers once; a pending approval is not consumed', async () => {
      const r = record();
      await store.create(r);
      expect(await store.consume(r.id, r)).toMatchObject({ status: 'pending' });
      const answered = await store.decide(r.id, decision('approved'));
      expect(answered).toMatchObject({ state: 'approved', decision: { state: 'approved', by: 'key:op', via: 'page' } });
      expect(await store.decide(r.id, decision('denied'))).toBeNull();
      expect((await store.pending()).map((p) => p.id)).not.toContain(r.id);
    });

    it('is used once, only with its binding, even under concurrent consumers', async () => {
      const r = record();
      await store.create(r);
      await store.decide(r.id, decision('approved'));
      expect(await store.consume(r.id, { ...r, args_hash: canonicalArgsHash({ thing: 'y' }) })).toMatchObject({ status: 'mismatch' });
      expect(await store.consume(r.id, { ...r, principal: 'key:other' })).toMatchObject({ status: 'mismatch' });
      expect(await store.consume(r.id, { ...r, tool: 'other_tool' })).toMatchObject({ status: 'mismatch' });
      const results = await Promise.all(Array.from({ length: 20 }, () => store.consume(r.id, r)));
      expect(results.filter((x) => x.status === 'used')).toHaveLength(1);
      expect(results.filter((x) => x.status === 'missing')).toHaveLength(19);
      expect(await store.get(r.id)).toBeNull();
    });

    it('hands a denial out once, as used', async () => {
      const r = record();
      await store.create(r);
      await store.decide(r.id, decision('denied'));
      const used = await store.consume(r.id, r);
      expect(used).toMatchObject({ status: 'used', record: { state: 'denied', decision: { by: 'key:op' } } });
      expect(await store.consume(r.id, r)).toEqual({ status: 'missing' });
    });

    it('lets only one of two concurrent answers win', async () => {
      const r = record();
      await store.create(r);
      const [a, b] = await Promise.all([store.decide(r.id, decision('approved', 'key:a')), store.decide(r.id, decision('denied', 'key:b'))]);
      expect([a, b].filter(Boolean)).toHaveLength(1);
    });

    it('expires: no answer, no use, and each expired approval is taken once', async () => {
      const r = record({ expires_at: Date.now() + 1_000 });
      await store.create(r);
      const later = r.expires_at + 1;
      expect(await store.consume(r.id, r, later)).toMatchObject({ status: 'expired' });
      expect((await store.pending(later)).map((p) => p.id)).not.toContain(r.id);
      const [first, second] = await Promise.all([store.takeExpired(later), store.takeExpired(later)]);
      expect([...first, ...second].filter((x) => x.id === r.id)).toHaveLength(1);
      expect(await store.get(r.id)).toBeNull();
    });

    it('finds the open approval of a call until it is denied, used or expired', async () => {
      const r = record({ args_hash: canonicalArgsHash({ thing: `find-${Math.random()}` }) });
      expect(await store.findOpen(r)).toBeNull();
      await store.create(r);
      expect((await store.findOpen(r))?.id).toBe(r.id);
      expect(await store.findOpen({ ...r, principal: 'key:other' })).toBeNull();
      expect(await store.findOpen(r, r.expires_at)).toBeNull();
      await store.decide(r.id, decision('approved'));
      expect(await store.findOpen(r)).toMatchObject({ id: r.id, state: 'approved' });
      await store.consume(r.id, r);
      expect(await store.findOpen(r)).toBeNull();

      const d = record({ args_hash: canonicalArgsHash({ thing: `deny-${Math.random()}` }) });
      await store.create(d);
      await store.decide(d.id, decision('denied'));
      expect(await store.findOpen(d)).toBeNull();
    });

    it('stashes a sign-in value for one read', async () => {
      await store.stash('state-1', '{"id":"x"}', 60_000);
      expect(await store.unstash('state-1')).toBe('{"id":"x"}');
      expect(await store.unstash('state-1')).toBeNull();
    });
  });
}

approvalContract('memory', async () => new MemoryApprovalStore());

warnIfNoRedis('the Redis approval store contract and the two-instance approval test');
describe.skipIf(!REDIS_URL)('with Redis', () => {
  useRedisAdmin('omni:approval:');
  approvalContract('redis', async () => {
    const connection = testConnection();
    await connection.waitUntilReady(5_000);
    return new RedisApprovalStore(connection);
  });

  describe('two hub instances sharing one Redis', () => {
    let a: TestHub;
    let b: TestHub;
    beforeAll(async () => {
      a = await testHub({ REDIS_URL: REDIS_URL! }, { systems: [fixtureSystem] });
      b = await testHub({ REDIS_URL: REDIS_URL! }, { systems: [fixtureSystem] });
      expect(await untilReady(a)).toBe(true);
      expect(await untilReady(b)).toBe(true);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('asks on one instance, is approved on the other, and runs once on either', async () => {
      const asked = await a.app.inject({ method: 'POST', url: '/v1/tools/fixture_delete', headers: AUTH, payload: { thing: 'shared' } });
      expect(asked.statusCode).toBe(428);
      const id = String(asked.json().error.approval_id);
      const listed = (await b.app.inject({ method: 'GET', url: '/v1/approvals', headers: AUTH })).json().approvals;
      expect(listed.map((x: { id: string }) => x.id)).toContain(id);
      expect((await answerApproval(b.app, `/approvals/${id}`, 'approve', TEST_KEY)).statusCode).toBe(200);

      const runs = await Promise.all(
        [a, b].map((hub) => hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_delete', headers: AUTH, payload: { thing: 'shared', approval_id: id } })),
      );
      expect(runs.map((r) => r.statusCode).sort()).toEqual([200, 428]);
      const winner = runs[0]!.statusCode === 200 ? a : b;
      await winner.deps.audit.flush();
      const { records } = await winner.deps.audit.list({ tool: 'fixture_delete', outcome: 'ok', limit: 5 });
      expect(records[0]).toMatchObject({ approved_by: { who: keyId(TEST_KEY), via: 'page', approval_id: id } });
    });
  });
});
