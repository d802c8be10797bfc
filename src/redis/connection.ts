import { Redis } from 'ioredis';
import { silentLog, type StoreLog } from '../log.js';

export interface RedisConnectionOptions {
  url: string;
  /** Bound on every command (ms); a slow or vanished Redis fails the call instead of hanging it. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** PING interval (ms) that notices a Redis which stopped answering without closing the socket. */
  heartbeatMs?: number;
  log?: StoreLog;
}

/**
 * The Lua scripts of the quota and audit stores (registered with defineCommand). Each store already sends one script call
 * per batch of calls, so auto-pipelining would only wrap every such call in a pipeline of its own, client work that
 * batches nothing: these go out directly.
 */
export const SELF_BATCHED_SCRIPTS = { quota: 'omniHubQuotaBatch', audit: 'omniHubAuditAppend' } as const;

const ERROR_LOG_INTERVAL_MS = 30_000;
/** Consecutive failed heartbeats before the connection counts as unhealthy. */
const HEARTBEAT_FAILURES = 2;

/**
 * One ioredis client shared by the quota and audit stores, with fail-fast settings (no offline queue, no resending
 * of unanswered commands: a take() whose reply was lost must not be recorded twice) and a health flag for /readyz.
 * Reference-counted: the last release() closes the socket.
 */
export class RedisConnection {
  readonly client: Redis;
  private healthy = false;
  private failures = 0;
  private refs = 0;
  private closed = false;
  private lastErrorLog = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly log: StoreLog;
  private readonly readyListeners = new Set<() => void>();

  constructor(options: RedisConnectionOptions) {
    this.log = options.log ?? silentLog;
    this.client = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 250,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      connectionName: 'omni-hub',
      // Other commands issued in the same tick go out in one write; the stores' scripts batch themselves.
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: Object.values(SELF_BATCHED_SCRIPTS),
      // Exponential backoff with jitter, capped at 1 s so a returning Redis is picked up well within 10 s.
      retryStrategy: (times: number) => Math.min(1_000, 50 * 2 ** Math.min(times, 5)) + Math.floor(Math.random() * 100),
    });
    this.client.on('ready', () => {
      const wasHealthy = this.healthy;
      this.healthy = true;
      this.failures = 0;
      if (!wasHealthy) this.log.info({ store: 'redis' }, 'redis connection ready');
      for (const listener of this.readyListeners) listener();
    });
    this.client.on('close', () => this.markDown());
    this.client.on('end', () => this.markDown());
    this.client.on('error', (err: Error) => {
      this.markDown();
      const now = Date.now();
      if (now - this.lastErrorLog >= ERROR_LOG_INTERVAL_MS) {
        this.lastErrorLog = now;
        this.log.warn({ store: 'redis', err: err.message }, 'redis connection error (retrying with backoff)');
      }
    });
    this.heartbeat = setInterval(() => void this.probe(), options.heartbeatMs ?? 1_000);
    this.heartbeat.unref();
  }

  isHealthy(): boolean {
    return this.healthy && this.client.status === 'ready';
  }

  /** Called on every (re)connection, e.g. to flush queued audit records. */
  onReady(listener: () => void): void {
    this.readyListeners.add(listener);
  }

  /** Resolves true once connected, false after `timeoutMs` (start-up does not block on a missing Redis). */
  waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.isHealthy()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.readyListeners.delete(onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.readyListeners.add(onReady);
    });
  }

  acquire(): this {
    this.refs += 1;
    return this;
  }

  async release(): Promise<void> {
    this.refs -= 1;
    if (this.refs > 0 || this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.healthy = false;
    if (this.client.status === 'ready') {
      await Promise.race([this.client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 500).unref())]);
    }
    this.client.disconnect();
  }

  private markDown(): void {
    if (this.healthy && !this.closed) this.log.warn({ store: 'redis' }, 'redis connection lost');
    this.healthy = false;
  }

  private async probe(): Promise<void> {
    if (this.closed || this.client.status !== 'ready') return;
    try {
      await this.client.ping();
      this.failures = 0;
      this.healthy = true;
    } catch {
      this.failures += 1;
      if (this.failures >= HEARTBEAT_FAILURES) this.markDown();
    }
  }
}
