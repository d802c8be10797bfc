import type { Redis } from 'ioredis';
import { bindingKey, type ApprovalBinding, type ApprovalDecision, type ApprovalRecord, type ApprovalStore, type ConsumeResult } from './approvals.js';
import type { RedisConnection } from '../redis/connection.js';

/**
 * Approvals in Redis (REDIS_URL set), so a person may approve on one instance and the call run on another. One hash
 * per approval (`<prefix><id>`: the record as created, its state, its decision, and the binding fields the scripts
 * compare), one sorted set of open approvals scored by expiry (`<prefix>open`), and per call the id of its newest
 * approval (`<prefix>call:<hash of the binding>`, expiring with it). Answering and consuming are each
 * one Lua script, so two instances can neither both answer nor both use one approval.
 */

/** KEYS: approval, open set. ARGV: state, decision JSON, now (ms). */
const DECIDE_SCRIPT = `
local f = redis.call('HMGET', KEYS[1], 'state', 'expires_at')
if not f[1] or f[1] ~= 'pending' or tonumber(f[2]) <= tonumber(ARGV[3]) then return false end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'decision', ARGV[2])
return redis.call('HMGET', KEYS[1], 'body', 'state', 'decision')
`;

/** KEYS: approval, open set. ARGV: principal, tool, args hash, now (ms), id. */
const CONSUME_SCRIPT = `
local f = redis.call('HMGET', KEYS[1], 'body', 'state', 'decision', 'principal', 'tool', 'args_hash', 'expires_at')
if not f[1] then return {'missing'} end
local out = {'', f[1], f[2], f[3] or ''}
if f[4] ~= ARGV[1] or f[5] ~= ARGV[2] or f[6] ~= ARGV[3] then out[1] = 'mismatch' return out end
if tonumber(f[7]) <= tonumber(ARGV[4]) then out[1] = 'expired' return out end
if f[2] == 'pending' then out[1] = 'pending' return out end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[5])
out[1] = 'used'
return out
`;

interface ApprovalCommands {
  omniApprovalDecide(key: string, open: string, state: string, decision: string, now: number): Promise<[string, string, string] | null>;
  omniApprovalConsume(key: string, open: string, principal: string, tool: string, hash: string, now: number, id: string): Promise<string[]>;
}

/** An expired approval stays readable this long, so the instance that sweeps it can still audit what it was. */
const GRACE_MS = 60 * 60_000;
const SWEEP_BATCH = 100;

function restore(body: string, state: string | null | undefined, decision: string | null | undefined): ApprovalRecord {
  const record = JSON.parse(body) as ApprovalRecord;
  if (state) record.state = state as ApprovalRecord['state'];
  if (decision) record.decision = JSON.parse(decision) as ApprovalDecision;
  return record;
}

export class RedisApprovalStore implements ApprovalStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis & ApprovalCommands;
  private readonly open: string;

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix = 'omni:approval:',
  ) {
    connection.acquire();
    this.open = `${prefix}open`;
    const named = connection.client as Redis & Partial<ApprovalCommands>;
    if (!named.omniApprovalDecide) connection.client.defineCommand('omniApprovalDecide', { numberOfKeys: 2, lua: DECIDE_SCRIPT });
    if (!named.omniApprovalConsume) connection.client.defineCommand('omniApprovalConsume', { numberOfKeys: 2, lua: CONSUME_SCRIPT });
    // defineCommand adds the methods at run time; the cast names them for the compiler.
    this.client = connection.client as Redis & ApprovalCommands;
  }

  private key(id: string): string {
    return this.prefix + id;
  }

  async create(record: ApprovalRecord): Promise<void> {
    const key = this.key(record.id);
    await this.client
      .multi()
      .hset(key, {
        body: JSON.stringify(record),
        state: record.state,
        principal: record.principal,
        tool: record.tool,
        args_hash: record.args_hash,
        expires_at: String(record.expires_at),
      })
      .pexpireat(key, record.expires_at + GRACE_MS)
      .zadd(this.open, record.expires_at, record.id)
      .set(`${this.prefix}call:${bindingKey(record)}`, record.id, 'PXAT', record.expires_at)
      .exec();
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    const [body, state, decision] = await this.client.hmget(this.key(id), 'body', 'state', 'decision');
    return body ? restore(body, state, decision) : null;
  }

  async decide(id: string, decision: ApprovalDecision): Promise<ApprovalRecord | null> {
    const out = await this.client.omniApprovalDecide(this.key(id), this.open, decision.state, JSON.stringify(decision), decision.at);
    return out ? restore(out[0], out[1], out[2]) : null;
  }

  async consume(id: string, binding: ApprovalBinding, now = Date.now()): Promise<ConsumeResult> {
    const [status, body, state, decision] = await this.client.omniApprovalConsume(this.key(id), this.open, binding.principal, binding.tool, binding.args_hash, now, id);
    if (status === 'missing' || !body) return { status: 'missing' };
    return { status: status as Exclude<ConsumeResult['status'], 'missing'>, record: restore(body, state, decision) };
  }

  async findOpen(binding: ApprovalBinding, now = Date.now()): Promise<ApprovalRecord | null> {
    const id = await this.client.get(`${this.prefix}call:${bindingKey(binding)}`);
    const r = id ? await this.get(id) : null;
    if (!r || r.state === 'denied' || r.expires_at <= now) return null;
    // The index only points at approvals of this binding; checked anyway, the lookup must never hand out another call's.
    return r.principal === binding.principal && r.tool === binding.tool && r.args_hash === binding.args_hash ? r : null;
  }

  async pending(now = Date.now()): Promise<ApprovalRecord[]> {
    const ids = await this.client.zrangebyscore(this.open, `(${now}`, '+inf');
    if (!ids.length) return [];
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hmget(this.key(id), 'body', 'state', 'decision');
    const rows = (await pipeline.exec()) ?? [];
    const out: ApprovalRecord[] = [];
    for (const [err, fields] of rows) {
      const [body, state, decision] = (fields ?? []) as (string | null)[];
      if (err || !body) continue;
      const record = restore(body, state, decision);
      if (record.state === 'pending') out.push(record);
    }
    return out.sort((a, b) => a.created_at - b.created_at);
  }

  async takeExpired(now = Date.now()): Promise<ApprovalRecord[]> {
    const ids = await this.client.zrangebyscore(this.open, '-inf', now, 'LIMIT', 0, SWEEP_BATCH);
    const out: ApprovalRecord[] = [];
    for (const id of ids) {
      // Only the instance whose ZREM removed the id reports it.
      if ((await this.client.zrem(this.open, id)) !== 1) continue;
      const [body, state, decision] = await this.client.hmget(this.key(id), 'body', 'state', 'decision');
      await this.client.del(this.key(id));
      if (body) out.push(restore(body, state, decision));
    }
    return out;
  }

  async stash(key: string, value: string, ttlMs: number): Promise<void> {
    await this.client.set(`${this.prefix}signin:${key}`, value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  unstash(key: string): Promise<string | null> {
    return this.client.getdel(`${this.prefix}signin:${key}`);
  }

  close(): Promise<void> {
    return this.connection.release();
  }
}
