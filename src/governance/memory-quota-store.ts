import { decision } from './decision.js';
import { HOUR_MS, type QuotaDecision, type QuotaStore } from './quota-store.js';

/** The timestamps (ms) of the calls recorded for one key, oldest first; `head` skips pruned entries without shifting. */
interface SlidingLog {
  times: number[];
  head: number;
  windowMs: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * In-process rolling-window store (the embedded default): an exact sliding log per key. One Node process is
 * single-threaded, so check + record in one synchronous step is atomic.
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly kind = 'memory' as const;
  private readonly logs = new Map<string, SlidingLog>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    // Drops keys whose calls all left their window, so idle keys do not accumulate.
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async take(key: string, limit: number, windowMs = HOUR_MS): Promise<QuotaDecision> {
    return this.evaluate(key, limit, windowMs, true);
  }

  async peek(key: string, limit: number, windowMs = HOUR_MS): Promise<QuotaDecision> {
    return this.evaluate(key, limit, windowMs, false);
  }

  /** Keys currently tracked (idle ones are swept every minute). */
  get keyCount(): number {
    return this.logs.size;
  }

  isHealthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.logs.clear();
  }

  private evaluate(key: string, limit: number, windowMs: number, record: boolean): QuotaDecision {
    const now = this.now();
    let log = this.logs.get(key);
    if (log) prune(log, now - windowMs);
    const count = log ? log.times.length - log.head : 0;
    const allowed = count < limit;
    let used = count;
    if (allowed && record) {
      if (!log) {
        log = { times: [], head: 0, windowMs };
        this.logs.set(key, log);
      }
      log.windowMs = windowMs;
      log.times.push(now);
      used += 1;
    }
    if (!log || used === 0) return decision(allowed, used, limit, 0, windowMs);
    const oldest = log.times[log.head];
    // The call that has to leave the window before one more fits is the (used - limit + 1)-th oldest.
    const blocking = limit > 0 ? log.times[log.head + used - limit] : undefined;
    const retryMs = blocking === undefined ? windowMs : blocking + windowMs - now;
    return decision(allowed, used, limit, oldest + windowMs - now, retryMs);
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, log] of this.logs) {
      prune(log, now - log.windowMs);
      if (log.times.length === log.head) this.logs.delete(key);
    }
  }
}

/** Forgets calls at or before `cutoff`; compacts the array once the skipped prefix dominates it. */
function prune(log: SlidingLog, cutoff: number): void {
  while (log.head < log.times.length && log.times[log.head] <= cutoff) log.head += 1;
  if (log.head > 64 && log.head * 2 > log.times.length) {
    log.times = log.times.slice(log.head);
    log.head = 0;
  }
}
