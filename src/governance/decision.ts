import type { QuotaDecision } from './quota-store.js';

/** Whole seconds, rounded up, so a client that waits `n` seconds is never early. */
export function ceilSeconds(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000);
}

/**
 * Builds a QuotaDecision from the window's state. `oldestMs` is how long until the oldest recorded call leaves the
 * window; `retryMs` how long until one more call fits (ignored when allowed).
 */
export function decision(allowed: boolean, used: number, limit: number, oldestMs: number, retryMs: number): QuotaDecision {
  return {
    allowed,
    used,
    limit,
    remaining: Math.max(0, limit - used),
    reset_s: used > 0 ? Math.max(1, ceilSeconds(oldestMs)) : 0,
    retry_after_s: allowed ? 0 : Math.max(1, ceilSeconds(retryMs)),
  };
}
