import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, MCP_HEADERS, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

/**
 * Property-based fuzzing of the REST and MCP surfaces through app.inject: whatever the body, the hub answers with a
 * 4xx or a 2xx (never a 5xx, never a crash), Object.prototype stays clean, /healthz still answers, and the quota of
 * fixture_echo grows by exactly the number of calls that actually ran (an invalid call uses none).
 */

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];

/** JSON values with the awkward parts over-represented: pollution keys, unicode, huge strings, odd numbers. */
const awkwardString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...POLLUTION_KEYS, '', '\u0000', '\ud800', '\u202e', 'ｆｉｘｔｕｒｅ', 'fixture_echo', 'tools/call'),
  fc.nat(200_000).map((n) => 'x'.repeat(n)),
);
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -0, 1e308, -1, 2 ** 53 + 1, 0.5),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    awkwardString,
    fc.array(tie('json'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(awkwardString, fc.constantFrom(...POLLUTION_KEYS, 'message', 'repeat', 'api_key')), tie('json'), { maxKeys: 5 }),
  ),
}));

/** Arguments near fixture_echo's schema: right and wrong types for each field. */
const echoArgs = fc.record(
  {
    message: fc.oneof(fc.string({ maxLength: 1200 }), json),
    repeat: fc.oneof(fc.integer({ min: -2, max: 5 }), json),
    api_key: fc.oneof(fc.string(), json),
  },
  { requiredKeys: [] },
);

/** Percent-encodes every byte (lone surrogates become U+FFFD, as any HTTP client would send them). */
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Raw bodies JSON.stringify cannot make: own `__proto__` keys, deep nesting, broken JSON, huge text. */
const rawBodies = [
  '{"message":"x","__proto__":{"polluted":"yes"}}',
  '{"message":"x","constructor":{"prototype":{"polluted":"yes"}}}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fixture_echo","arguments":{"__proto__":{"polluted":"yes"},"message":"x"}}}',
  '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fixture_echo","__proto__":{"polluted":"yes"},"arguments":{"message":"x"}}}',
  '{"jsonrpc":"2.0","id":{"__proto__":{"polluted":"yes"}},"method":"tools/list"}',
  nested(5_000),
  nestedObject(5_000),
  `{"message":${nested(2_000)}}`,
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fixture_echo","arguments":{"message":${nestedObject(3_000)}}}}`,
  '{"message":"x"',
  '{"message":"\\ud800"}',
  '\u0000',
  '',
  'null',
  '[]',
  '"just a string"',
  `{"message":"${'é'.repeat(500_000)}"}`,
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${'n'.repeat(100_000)}","arguments":{}}}`,
];

function expectNotPolluted(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(CLEAN_PROTO);
}
const CLEAN_PROTO = Object.getOwnPropertyNames(Object.prototype).sort();

async function used(hub: TestHub, tool = 'fixture_echo'): Promise<number> {
  const res = await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH });
  expect(res.statusCode).toBe(200);
  const row = (res.json().tools as { name: string; used: number }[]).find((t) => t.name === tool);
  return row!.used;
}

describe.each([
  ['stateless (fast path)', { MCP_SESSION_MODE: 'stateless' }, true],
  ['stateless (SDK path)', { MCP_SESSION_MODE: 'stateless' }, false],
  ['stateful', { MCP_SESSION_MODE: 'stateful' }, true],
] as const)('fuzzing, MCP %s', (_label, env, fastPath) => {
  let hub: TestHub;
  let ran = 0;
  let usedBefore = 0;

  beforeAll(async () => {
    hub = await testHub({ ...env, RATE_LIMIT_PER_MINUTE: '1000000', GOVERNANCE_OVERRIDES: '{"fixture_echo":{"limit":1000000}}' }, { systems: [fixtureSystem], fastPath });
    usedBefore = await used(hub);
  });
  afterAll(async () => hub?.close());

  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    hub.app.inject({ method: 'POST', url, headers: { ...AUTH, 'content-type': 'application/json', ...headers }, payload });

  /** A REST body that ran the tool answers 200 with `echo`; everything else must be a 4xx. */
  const checkRest = (res: { statusCode: number; body: string }) => {
    expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
    if (res.statusCode === 200) {
      expect(typeof JSON.parse(res.body).echo).toBe('string');
      ran++;
    }
  };

  /** An MCP answer: never 5xx; a tools/call of fixture_echo that succeeded counts as a call that ran. */
  const checkMcp = (res: { statusCode: number; body: string }, calledEcho: boolean) => {
    expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
    if (calledEcho && res.statusCode === 200) {
      const text = res.body.startsWith('event:') || res.body.includes('\ndata: ') ? res.body.split('data: ')[1] ?? '' : res.body;
      const answer = JSON.parse(text) as { result?: { isError?: boolean; structuredContent?: { echo?: unknown } } };
      if (answer.result && !answer.result.isError && typeof answer.result.structuredContent?.echo === 'string') ran++;
    }
  };

  it('REST POST /v1/tools/fixture_echo: random arguments never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(echoArgs, json), async (body) => {
        checkRest(await post('/v1/tools/fixture_echo', JSON.stringify(body)));
      }),
      { numRuns: 150 },
    );
  });

  it('REST: raw hostile bodies (pollution keys, deep nesting, broken JSON, huge strings) never give a 5xx', async () => {
    for (const body of rawBodies) checkRest(await post('/v1/tools/fixture_echo', body));
    expectNotPolluted();
  });

  it('REST: other routes with random names and query strings never give a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(awkwardString, json, async (name, body) => {
        const tool = await post(`/v1/tools/${pct(name.slice(0, 300))}`, JSON.stringify(body));
        expect(tool.statusCode).toBeLessThan(500);
        if (tool.statusCode === 200) expect(name).toBe('fixture_echo');
        if (tool.statusCode === 200) ran++;
        const q = pct(name.slice(0, 200));
        for (const url of [`/v1/tools/%E0%A4%A`, `/v1/audit?limit=%`, `/v1/audit?limit[]=1&limit[]=2`, `/v1/audit?limit=${q}`, `/v1/audit?tool=${q}&outcome=${q}`, `/v1/audit?cursor=${q}`, `/openapi.json?systems=${q}`, `/v1/tools?x=${q}`]) {
          const res = await hub.app.inject({ method: 'GET', url, headers: AUTH });
          expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('MCP POST /mcp: random JSON-RPC-ish bodies never give a 5xx', async () => {
    const method = fc.constantFrom('tools/call', 'tools/list', 'initialize', 'ping', 'prompts/list', 'resources/list', 'notifications/initialized', 'nope', '__proto__');
    const message = fc.record(
      {
        jsonrpc: fc.oneof(fc.constant('2.0'), json),
        id: fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), json),
        method: fc.oneof(method, json),
        params: fc.oneof(
          fc.record({ name: fc.oneof(fc.constantFrom('fixture_echo', 'fixture_delete', 'unknown_tool'), json), arguments: fc.oneof(echoArgs, json) }, { requiredKeys: [] }),
          json,
        ),
      },
      { requiredKeys: [] },
    );
    const headers = fc.record({
      accept: fc.constantFrom('application/json, text/event-stream', 'application/json', 'text/event-stream', '*/*'),
      'mcp-protocol-version': fc.constantFrom('2025-06-18', '2025-03-26', '2025-11-25', '1999-01-01', ''),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(message, fc.array(message, { maxLength: 3 }), json), headers, async (body, h) => {
        const hdrs: Record<string, string> = { accept: h.accept };
        if (h['mcp-protocol-version']) hdrs['mcp-protocol-version'] = h['mcp-protocol-version'];
        const res = await post('/mcp', JSON.stringify(body), hdrs);
        const calledEcho =
          !Array.isArray(body) && typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'tools/call';
        checkMcp(res, calledEcho);
      }),
      { numRuns: 200 },
    );
  });

  it('MCP: raw hostile bodies never give a 5xx and pollute nothing', async () => {
    for (const body of rawBodies) checkMcp(await post('/mcp', body, { accept: MCP_HEADERS.accept }), false);
    expectNotPolluted();
  });

  it('the hub still answers /healthz, and quota grew only by the calls that ran', async () => {
    const health = await hub.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    // A valid call still works after all that.
    const ok = await post('/v1/tools/fixture_echo', JSON.stringify({ message: 'still here' }));
    expect(ok.json().echo).toBe('STILL HERE');
    ran++;
    expect(await used(hub)).toBe(usedBefore + ran);
    expectNotPolluted();
  });
});
