/**
 * What graceful shutdown needs to know about the calls in flight: how many there are (to wait for them) and their
 * abort controllers (to stop those still running when the grace period ends).
 *
 * Kept without a Set: a long-lived Set that every call is added to and deleted from made the objects of calls in
 * flight survive a second scavenge, so V8 promoted them to the old generation. A count and a doubly linked list
 * through the calls' own entries do the same work with plain property writes.
 */
export interface RunningCall {
  readonly controller: AbortController;
  prev: RunningCall | undefined;
  next: RunningCall | undefined;
}

export class CallTracker {
  private inFlight = 0;
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  private head: RunningCall | undefined;

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
    const entry: RunningCall = { controller, prev: undefined, next: this.head };
    if (this.head) this.head.prev = entry;
    this.head = entry;
    return entry;
  }

  finish(entry: RunningCall): void {
    if (entry.prev) entry.prev.next = entry.next;
    else if (this.head === entry) this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
  }

  /** Aborts every running call. */
  abortAll(reason: unknown): void {
    for (let entry = this.head; entry; ) {
      const next = entry.next;
      entry.controller.abort(reason);
      entry = next;
    }
  }
}
