import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HubError } from '../tools/errors.js';
import { decision } from './decision.js';
import { QUOTA_SCRIPT } from './quota-script.js';
import { HOUR_MS, type QuotaDecision, type QuotaStore } from './quota-store.js';
import type { RedisConnection } from './redis-connection.js';

type ScriptReply = [number, number, number, number];

/** The Lua command registered with defineCommand (ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT). */
interface QuotaCommand {
  omniHubQuota(key: string, limit: number, windowMs: number, record: '0' | '1', nonce: string): Promise<ScriptReply>;
}

export interface RedisQuotaStoreOptions {
  /** Prepended to every counter key. */
  keyPrefix?: string;
}

/** Rolling-window quotas in Redis: one sorted set per key, one atomic Lua script per call (see quota-script.ts). */
export class RedisQuotaStore implements QuotaStore {
  readonly kind = 'redis' as const;
  private readonly prefix: string;
  private readonly nonceBase = randomBytes(6).toString('hex');
  private counter = 0;
  private readonly client: Redis & QuotaCommand;

  constructor(
    private readonly connection: RedisConnection,
    options: RedisQuotaStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? 'omni:quota:';
    connection.acquire();
    if (!('omniHubQuota' in connection.client)) {
      connection.client.defineCommand('omniHubQuota', { numberOfKeys: 1, lua: QUOTA_SCRIPT });
    }
    // defineCommand adds the method at run time; the cast names it for the compiler.
    this.client = connection.client as Redis & QuotaCommand;
  }

  take(key: string, limit: number, windowMs = HOUR_MS): Promise<QuotaDecision> {
    return this.call(key, limit, windowMs, '1');
  }

  peek(key: string, limit: number, windowMs = HOUR_MS): Promise<QuotaDecision> {
    return this.call(key, limit, windowMs, '0');
  }

  isHealthy(): boolean {
    return this.connection.isHealthy();
  }

  close(): Promise<void> {
    return this.connection.release();
  }

  private async call(key: string, limit: number, windowMs: number, record: '0' | '1'): Promise<QuotaDecision> {
    const nonce = `${this.nonceBase}:${(this.counter = (this.counter + 1) % Number.MAX_SAFE_INTEGER)}`;
    let reply: ScriptReply;
    try {
      reply = await this.client.omniHubQuota(this.prefix + key, limit, Math.max(1, Math.round(windowMs)), record, nonce);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new HubError('governance_unavailable', `quota store (redis) unavailable: ${message}`, { store: 'redis' });
    }
    const [allowed, used, oldestUs, retryUs] = reply.map(Number);
    return decision(allowed === 1, used, limit, oldestUs / 1000, retryUs / 1000);
  }
}
