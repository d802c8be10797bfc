import { LinkedEntries, type Linked } from './linked-entries.js';

/**
 * What graceful shutdown needs to know about the calls in flight: how many there are (to wait for them) and their
 * abort controllers (to stop those still running when the grace period ends). Kept as a count and a linked list of
 * the running calls' own entries, never in a Set (see LinkedEntries).
 */
export interface RunningCall extends Linked<RunningCall> {
  readonly controller: AbortController;
}

export class CallTracker {
  private inFlight = 0;
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly running = new LinkedEntries<RunningCall>();

  /** Calls started and not yet settled. */
  get count(): number {
    return this.inFlight;
  }

  /** A call started: counted until `settled()`. */
  started(): void {
    this.inFlight += 1;
  }

  /** A call settled (whatever its outcome). */
  readonly settled = (): void => {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.idle) {
      this.idle.resolve();
      this.idle = undefined;
    }
  };

  /** Resolves once no call is in flight (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    return this.idle.promise;
  }

  /** Registers a running call's controller; `finish` the returned entry when the call ends. */
  run(controller: AbortController): RunningCall {
    return this.running.push({ controller, prev: undefined, next: undefined });
  }

  finish(entry: RunningCall): void {
    this.running.remove(entry);
  }

  /** Aborts every running call. */
  abortAll(reason: unknown): void {
    for (let entry = this.running.head; entry; ) {
      const next = entry.next;
      entry.controller.abort(reason);
      entry = next;
    }
  }
}
