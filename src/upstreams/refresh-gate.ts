export interface RefreshLimits {
  /** Least time between the starts of two re-lists of one upstream. */
  minRefreshIntervalMs: number;
  /** Most re-lists of one upstream started in any 60 s. */
  maxRefreshesPerMinute: number;
}

const MINUTE_MS = 60_000;

/**
 * Coalesces an upstream's `list_changed` notifications into re-lists: at most one in flight, none sooner than the
 * minimum interval after the previous start, at most `maxRefreshesPerMinute` a minute. Notifications that arrive
 * meanwhile collapse into one more re-list after the current one, so the last change is never lost.
 */
export class RefreshGate {
  private running = false;
  private pending = false;
  private timer?: NodeJS.Timeout;
  /** Start times of the re-lists of the last minute, oldest first (never more than maxRefreshesPerMinute). */
  private readonly starts: number[] = [];
  private closed = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly limits: RefreshLimits,
  ) {}

  notify(): void {
    if (this.closed) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    if (this.timer) return;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const now = Date.now();
    while (this.starts.length && now - this.starts[0]! >= MINUTE_MS) this.starts.shift();
    let at = now;
    const last = this.starts.at(-1);
    if (last !== undefined) at = Math.max(at, last + this.limits.minRefreshIntervalMs);
    if (this.starts.length >= this.limits.maxRefreshesPerMinute) at = Math.max(at, this.starts[0]! + MINUTE_MS);
    this.timer = setTimeout(() => void this.start(), Math.max(0, at - now));
    this.timer.unref();
  }

  private async start(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    this.running = true;
    this.pending = false;
    this.starts.push(Date.now());
    if (this.starts.length > this.limits.maxRefreshesPerMinute) this.starts.shift();
    try {
      await this.run();
    } finally {
      this.running = false;
      if (this.pending && !this.closed) {
        this.pending = false;
        this.schedule();
      }
    }
  }
}
