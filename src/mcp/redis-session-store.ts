import type { Redis } from 'ioredis';
import { silentLog, type StoreLog } from '../log.js';
import type { RedisConnection } from '../redis/connection.js';
import type { McpSessionStore, SessionRecord } from './session-store.js';

export interface RedisSessionStoreOptions {
  idleMs: number;
  /** Key prefix: records at `${prefix}session:<id>`, per-principal LRU sets at `${prefix}principal:<principal>`. */
  prefix?: string;
  /** How long a record read from Redis is reused locally (ms). Bounds how stale an ended session can look. */
  cacheMs?: number;
  /** Most records cached locally (oldest dropped first). */
  cacheEntries?: number;
  log?: StoreLog;
}

/**
 * Atomically: at the principal's cap, forget members whose record expired, then end its least recently used sessions
 * (publishing each id so every instance drops it), then save the new record. Session keys are built from ARGV[1]: this
 * runs on one Redis, not a cluster.
 */
const CREATE = `
local zkey = KEYS[1]
local prefix = ARGV[1]
local max = tonumber(ARGV[6])
if redis.call('ZCARD', zkey) >= max then
  for _, id in ipairs(redis.call('ZRANGE', zkey, 0, -1)) do
    if redis.call('EXISTS', prefix .. id) == 0 then redis.call('ZREM', zkey, id) end
  end
end
local excess = redis.call('ZCARD', zkey) - max + 1
if excess > 0 then
  for _, id in ipairs(redis.call('ZRANGE', zkey, 0, excess - 1)) do
    redis.call('DEL', prefix .. id)
    redis.call('ZREM', zkey, id)
    redis.call('PUBLISH', ARGV[7], id)
  end
end
redis.call('SET', prefix .. ARGV[2], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', zkey, ARGV[5], ARGV[2])
redis.call('PEXPIRE', zkey, ARGV[4])
return excess
`;

/** The script registered with defineCommand (ioredis sends EVALSHA, and EVAL on NOSCRIPT). */
interface CreateCommand {
  omniHubSessionCreate(
    principalKey: string,
    recordPrefix: string,
    id: string,
    record: string,
    idleMs: number,
    now: number,
    maxPerPrincipal: number,
    channel: string,
  ): Promise<number>;
}

/**
 * Session records in Redis, so any instance serves any session. A request costs at most one Redis read (`GETEX`, which
 * also pushes the idle expiry back), and none while the record is in the local cache (`cacheMs`: MCP_SESSION_CACHE_MS, 1 s by default). Ending a session
 * (DELETE, eviction) publishes its id on one channel: every instance drops its cached record and its transport at
 * once; the short cache lifetime covers a missed message and sessions that expired in Redis.
 */
export class RedisSessionStore implements McpSessionStore {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly channel: string;
  private readonly idleMs: number;
  private readonly cacheMs: number;
  private readonly cacheEntries: number;
  private readonly log: StoreLog;
  private readonly cache = new Map<string, { record: SessionRecord; at: number }>();
  private readonly listeners = new Set<(id: string) => void>();
  private readonly subscriber: Redis;
  private readonly client: Redis & CreateCommand;

  constructor(
    private readonly connection: RedisConnection,
    options: RedisSessionStoreOptions,
  ) {
    this.prefix = options.prefix ?? 'omni:mcp:';
    this.channel = `${this.prefix}sessions:ended`;
    this.idleMs = options.idleMs;
    this.cacheMs = Math.min(options.cacheMs ?? 1_000, Math.floor(options.idleMs / 2));
    this.cacheEntries = options.cacheEntries ?? 50_000;
    this.log = options.log ?? silentLog;
    connection.acquire();
    if (!('omniHubSessionCreate' in connection.client)) {
      connection.client.defineCommand('omniHubSessionCreate', { numberOfKeys: 1, lua: CREATE });
    }
    // defineCommand adds the method at run time; the cast names it for the compiler.
    this.client = connection.client as Redis & CreateCommand;
    // A subscribed connection can run nothing else: a second socket, subscribing again on every (re)connection.
    this.subscriber = connection.client.duplicate({ connectionName: 'omni-hub-sessions', autoResubscribe: false });
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.channel).catch((err: unknown) => this.log.warn({ store: 'redis', err: String(err) }, 'session channel subscribe failed'));
    });
    this.subscriber.on('error', () => undefined); // the shared connection already logs outages
    this.subscriber.on('message', (_channel: string, id: string) => this.ended(id));
  }

  private recordKey(id: string): string {
    return `${this.prefix}session:${id}`;
  }

  private principalKey(principal: string): string {
    return `${this.prefix}principal:${principal}`;
  }

  async create(record: SessionRecord, maxPerPrincipal: number): Promise<void> {
    await this.client.omniHubSessionCreate(
      this.principalKey(record.principal),
      `${this.prefix}session:`,
      record.id,
      JSON.stringify(record),
      this.idleMs,
      Date.now(),
      maxPerPrincipal,
      this.channel,
    );
    this.remember(record);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const cached = this.cache.get(id);
    if (cached && Date.now() - cached.at < this.cacheMs) return cached.record;
    const client = this.client;
    const raw = await client.getex(this.recordKey(id), 'PX', this.idleMs);
    if (raw === null) {
      this.cache.delete(id);
      return undefined;
    }
    const record = JSON.parse(raw) as SessionRecord;
    this.remember(record);
    // The LRU order for eviction: not awaited, it rides in the next pipelined write.
    const zkey = this.principalKey(record.principal);
    void Promise.all([client.zadd(zkey, 'XX', Date.now(), id), client.pexpire(zkey, this.idleMs)]).catch(() => undefined);
    return record;
  }

  async update(id: string, patch: Pick<SessionRecord, 'logLevel'>): Promise<void> {
    const record = await this.get(id);
    if (!record) return;
    const next = { ...record, ...patch };
    await this.client.set(this.recordKey(id), JSON.stringify(next), 'PX', this.idleMs, 'XX');
    this.remember(next);
  }

  async delete(id: string): Promise<void> {
    const principal = this.cache.get(id)?.record.principal;
    const client = this.client;
    await Promise.all([
      client.del(this.recordKey(id)),
      principal ? client.zrem(this.principalKey(principal), id) : Promise.resolve(0),
      client.publish(this.channel, id),
    ]);
    this.ended(id);
  }

  onEnded(listener: (id: string) => void): void {
    this.listeners.add(listener);
  }

  sweep(): void {
    const cutoff = Date.now() - this.cacheMs;
    for (const [id, entry] of this.cache) if (entry.at < cutoff) this.cache.delete(id);
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.subscriber.disconnect();
    await this.connection.release();
  }

  private remember(record: SessionRecord): void {
    this.cache.delete(record.id);
    this.cache.set(record.id, { record, at: Date.now() });
    if (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value as string);
  }

  private ended(id: string): void {
    // Our own publish comes back through the subscriber too: listeners see each id at most twice and must be idempotent.
    this.cache.delete(id);
    for (const listener of this.listeners) listener(id);
  }
}
