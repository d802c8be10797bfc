import type { Redis } from 'ioredis';
import type { RedisConnection } from '../redis/connection.js';

/**
 * Failed-key limiter: counts wrong or missing bearer keys per client address in a fixed minute; past the bound the
 * address gets 429 (even with the right key) until its minute ends. The address is `request.ip`, which TRUST_PROXY
 * makes the real client address behind a proxy (the right-most untrusted X-Forwarded-For entry), so a client can
 * neither dodge the limit by forging entries nor lock out other clients behind the same proxy.
 */
export interface FailedAuthLimiter {
  /**
   * Seconds the address must still wait (0 when it may try): a number when known without asking a store (so the auth
   * hook's hot path needs no promise), a promise when the shared counter has to be read.
   */
  blocked(ip: string): number | Promise<number>;
  /** Records one failed attempt from the address. */
  fail(ip: string): Promise<void>;
  close(): Promise<void>;
}

export const FAILED_AUTH_PER_MINUTE = 30;
const WINDOW_MS = 60_000;
const MAX_TRACKED = 10_000;

/** An address's failures in its current minute. */
interface Window {
  count: number;
  resetAt: number;
}

/** Seconds an address with this window must still wait: 0 once the window is over or while under the bound. */
function secondsBlocked(window: Window | undefined, maxPerMinute: number, now: number): number {
  if (!window || window.resetAt <= now || window.count < maxPerMinute) return 0;
  return Math.ceil((window.resetAt - now) / 1000);
}

/** One process's counters (the default without REDIS_URL, and the fallback while Redis is unreachable). */
export class MemoryFailedAuthLimiter implements FailedAuthLimiter {
  private readonly failures = new Map<string, Window>();

  constructor(private readonly maxPerMinute = FAILED_AUTH_PER_MINUTE) {}

  blocked(ip: string): number {
    return this.blockedNow(ip, Date.now());
  }

  fail(ip: string): Promise<void> {
    this.failNow(ip, Date.now());
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  blockedNow(ip: string, now: number): number {
    return secondsBlocked(this.failures.get(ip), this.maxPerMinute, now);
  }

  failNow(ip: string, now: number): void {
    const f = this.failures.get(ip);
    if (!f || f.resetAt <= now) {
      if (this.failures.size > MAX_TRACKED) this.sweep(now);
      this.failures.set(ip, { count: 1, resetAt: now + WINDOW_MS });
    } else f.count++;
  }

  private sweep(now: number): void {
    for (const [ip, f] of this.failures) if (f.resetAt <= now) this.failures.delete(ip);
  }
}

/** INCR + expiry of a new window in one atomic step; returns {count, ms left in the window}. */
const FAIL_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`;
/** Reads {count, ms left} of an address's window in one step. */
const READ_SCRIPT = `
return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}
`;

interface FailedAuthCommands {
  omniHubAuthFail(key: string, windowMs: number): Promise<[number, number]>;
  omniHubAuthRead(key: string): Promise<[number, number]>;
}

/** How long one instance trusts what it last read for an address: a correct key costs at most one Redis read per second. */
const CACHE_MS = 1_000;

/**
 * Counters shared by every instance on one Redis, so guesses spread over instances add up. Each instance caches an
 * address's counter for up to one second (so the right key does not cost a Redis read per request); an instance may
 * therefore let a blocked address through for at most that second.
 *
 * Redis outage: the limiter falls back to this instance's own counters (the memory limiter) instead of refusing every
 * key (which would lock everybody out) or letting guesses through unlimited; shared counting resumes when Redis answers.
 */
export class RedisFailedAuthLimiter implements FailedAuthLimiter {
  private readonly client: Redis & FailedAuthCommands;
  private readonly local: MemoryFailedAuthLimiter;
  private readonly cache = new Map<string, Window & { readAt: number }>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly maxPerMinute = FAILED_AUTH_PER_MINUTE,
    private readonly prefix = 'omni:authfail:',
  ) {
    connection.acquire();
    this.local = new MemoryFailedAuthLimiter(maxPerMinute);
    if (!('omniHubAuthFail' in connection.client)) {
      connection.client.defineCommand('omniHubAuthFail', { numberOfKeys: 1, lua: FAIL_SCRIPT });
      connection.client.defineCommand('omniHubAuthRead', { numberOfKeys: 1, lua: READ_SCRIPT });
    }
    // defineCommand adds the methods at run time; the cast names them for the compiler.
    this.client = connection.client as Redis & FailedAuthCommands;
  }

  blocked(ip: string): number | Promise<number> {
    const now = Date.now();
    const entry = this.cache.get(ip);
    return entry && now - entry.readAt < CACHE_MS ? secondsBlocked(entry, this.maxPerMinute, now) : this.read(ip, now);
  }

  private async read(ip: string, now: number): Promise<number> {
    try {
      return secondsBlocked(this.remember(ip, await this.client.omniHubAuthRead(this.prefix + ip), now), this.maxPerMinute, now);
    } catch {
      return this.local.blockedNow(ip, now);
    }
  }

  async fail(ip: string): Promise<void> {
    const now = Date.now();
    this.local.failNow(ip, now);
    try {
      this.remember(ip, await this.client.omniHubAuthFail(this.prefix + ip, WINDOW_MS), now);
    } catch {
      // Counted locally above; see the class comment.
    }
  }

  close(): Promise<void> {
    return this.connection.release();
  }

  private remember(ip: string, [count, pttl]: [number, number], now: number) {
    if (this.cache.size > MAX_TRACKED) {
      for (const [k, e] of this.cache) if (now - e.readAt >= CACHE_MS) this.cache.delete(k);
      if (this.cache.size > MAX_TRACKED) this.cache.clear();
    }
    const entry = { count: Number(count), resetAt: now + Math.max(0, Number(pttl)), readAt: now };
    this.cache.set(ip, entry);
    return entry;
  }
}
