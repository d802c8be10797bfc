import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HubError } from '../tools/errors.js';
import { decision } from './decision.js';
import { QUOTA_SCRIPT } from './quota-script.js';
import { HOUR_MS, type QuotaDecision, type QuotaStore } from './quota-store.js';
import { SELF_BATCHED_SCRIPTS, type RedisConnection } from '../redis/connection.js';

/** The Lua command registered with defineCommand (ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT). */
interface QuotaCommand {
  [SELF_BATCHED_SCRIPTS.quota](numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<number[]>;
}

export interface RedisQuotaStoreOptions {
  /** Prepended to every counter key. */
  keyPrefix?: string;
}

interface Check {
  key: string;
  limit: number;
  windowMs: number;
  record: '0' | '1';
  resolve(d: QuotaDecision): void;
  reject(err: HubError): void;
}

/** Checks per script call; a larger turn is split. */
const MAX_BATCH = 256;

/**
 * Rolling-window quotas in Redis: one sorted set per key, checked by one atomic Lua script (see quota-script.ts).
 * The checks asked for in one turn of the event loop go out together in one script call, as auto-pipelining would
 * send them in one write, but with one script run and one reply for all of them.
 */
export class RedisQuotaStore implements QuotaStore {
  readonly kind = 'redis' as const;
  private readonly prefix: string;
  private readonly nonceBase = randomBytes(6).toString('hex');
  private counter = 0;
  private readonly client: Redis & QuotaCommand;
  private pending: Check[] = [];

  constructor(
    private readonly connection: RedisConnection,
    options: RedisQuotaStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? 'omni:quota:';
    connection.acquire();
    // The number of keys varies per call, so it is the script command's first argument.
    if (!(SELF_BATCHED_SCRIPTS.quota in connection.client)) connection.client.defineCommand(SELF_BATCHED_SCRIPTS.quota, { lua: QUOTA_SCRIPT });
    // defineCommand adds the method at run time; the cast names it for the compiler.
    this.client = connection.client as Redis & QuotaCommand;
  }

  take(key: string, limit: number, windowMs = HOUR_MS): Promise<QuotaDecision> {
    return this.ask(key, limit, windowMs, '1');
  }

  peek(key: string, limit: number, windowMs = HOUR_MS): Promise<QuotaDecision> {
    return this.ask(key, limit, windowMs, '0');
  }

  isHealthy(): boolean {
    return this.connection.isHealthy();
  }

  close(): Promise<void> {
    return this.connection.release();
  }

  private ask(key: string, limit: number, windowMs: number, record: '0' | '1'): Promise<QuotaDecision> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key: this.prefix + key, limit, windowMs: Math.max(1, Math.round(windowMs)), record, resolve, reject });
      if (this.pending.length === 1) setImmediate(this.flush);
    });
  }

  private readonly flush = (): void => {
    while (this.pending.length > 0) void this.send(this.pending.splice(0, MAX_BATCH));
  };

  private async send(checks: Check[]): Promise<void> {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const c of checks) {
      keys.push(c.key);
      args.push(c.limit, c.windowMs, c.record, `${this.nonceBase}:${(this.counter = (this.counter + 1) % Number.MAX_SAFE_INTEGER)}`);
    }
    let reply: number[];
    try {
      reply = await this.client[SELF_BATCHED_SCRIPTS.quota](keys.length, ...keys, ...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      for (const c of checks) c.reject(new HubError('governance_unavailable', `quota store (redis) unavailable: ${message}`, { store: 'redis' }));
      return;
    }
    checks.forEach((c, i) => {
      const [allowed, used, oldestUs, retryUs] = reply.slice(i * 4, i * 4 + 4).map(Number) as [number, number, number, number];
      c.resolve(decision(allowed === 1, used, c.limit, oldestUs / 1000, retryUs / 1000));
    });
  }
}
