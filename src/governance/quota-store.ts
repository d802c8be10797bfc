/** Rolling-window quota counters. Two implementations (memory, redis) pass one contract suite. */

export const HOUR_MS = 3_600_000;

export interface QuotaDecision {
  allowed: boolean;
  /** Calls recorded in the window after this decision. */
  used: number;
  limit: number;
  remaining: number;
  /** Seconds until the oldest recorded call leaves the window (0 when nothing is recorded). */
  reset_s: number;
  /** Seconds until one more call would be admitted (0 when allowed). */
  retry_after_s: number;
}

export interface QuotaStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Atomically: count the calls in (now - windowMs, now]; if fewer than `limit`, record this one.
   * Throws HubError('governance_unavailable') when the store cannot answer within its bound.
   */
  take(key: string, limit: number, windowMs?: number): Promise<QuotaDecision>;
  /** Usage without recording (for /v1/governance). Throws like take(). */
  peek(key: string, limit: number, windowMs?: number): Promise<QuotaDecision>;
  /** True while the store is reachable (drives /readyz); cheap and synchronous. */
  isHealthy(): boolean;
  close(): Promise<void>;
}
