import { HubError } from '../tools/errors.js';

/** Principals tracked at once; past it, windows that ended are forgotten (and, if all are live, the oldest). */
const MAX_PRINCIPALS = 10_000;
const WINDOW_MS = 60_000;

/**
 * Per-principal budget of refused calls (unknown tool, invalid arguments, denials): they use no quota, so without it
 * one key could flood the audit trail and the log at no cost. A fixed one-minute window per principal, in process
 * (each instance bounds what it writes). Over the budget a refusal is answered `rate_limited` (429 with Retry-After),
 * counted in metrics, and not audited or logged.
 */
export class RefusalLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one refusal of `principal`; the error to answer instead when over the budget, else null. */
  take(principal: string): HubError | null {
    const now = this.now();
    let w = this.windows.get(principal);
    if (!w || now - w.start >= WINDOW_MS) {
      if (!w && this.windows.size >= MAX_PRINCIPALS) this.evict(now);
      w = { start: now, count: 0 };
      this.windows.set(principal, w);
    }
    w.count += 1;
    if (w.count <= this.perMinute) return null;
    const retry = Math.max(1, Math.ceil((w.start + WINDOW_MS - now) / 1000));
    return new HubError(
      'rate_limited',
      `too many refused calls from this key: more than ${this.perMinute} per minute (REFUSED_CALLS_PER_MINUTE); retry in ${retry} s`,
      { limit: this.perMinute, window_s: WINDOW_MS / 1000, retry_after_s: retry },
    );
  }

  private evict(now: number): void {
    for (const [principal, w] of this.windows) if (now - w.start >= WINDOW_MS) this.windows.delete(principal);
    if (this.windows.size >= MAX_PRINCIPALS) this.windows.delete(this.windows.keys().next().value as string);
  }
}
