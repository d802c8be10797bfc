/**
 * Upstream (federated) calls the 2025 fast path runs, by session and JSON-RPC id, so that the client's
 * `notifications/cancelled` still stops them: the SDK transport only knows the requests it runs itself.
 * Invariant: an entry lives exactly as long as its call (removed in the call's `finally`), so the map holds only
 * calls in flight.
 */
export class InFlightCalls {
  private readonly calls = new Map<string, AbortController>();

  /** A signal for the call `id` of `session`, and the function that forgets it once the call is over. */
  start(session: string, id: string | number): { signal: AbortSignal; done: () => void } {
    const key = keyOf(session, id);
    const controller = new AbortController();
    this.calls.set(key, controller);
    return {
      signal: controller.signal,
      done: () => {
        if (this.calls.get(key) === controller) this.calls.delete(key);
      },
    };
  }

  /** Aborts the call `id` of `session` if it runs here; false when it does not (done, unknown, or another process). */
  cancel(session: string, id: unknown, reason: unknown): boolean {
    if (typeof id !== 'string' && typeof id !== 'number') return false;
    const controller = this.calls.get(keyOf(session, id));
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  get size(): number {
    return this.calls.size;
  }
}

/** JSON-RPC ids 1 and "1" are different requests. */
const keyOf = (session: string, id: string | number): string => `${session}\u0000${typeof id}\u0000${id}`;

/** The request id a single `notifications/cancelled` message names, else undefined. */
export function cancelledRequestOf(body: unknown): { requestId: unknown; reason: unknown } | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const message = body as { method?: unknown; params?: unknown };
  if (message.method !== 'notifications/cancelled' || !message.params || typeof message.params !== 'object') return undefined;
  const params = message.params as { requestId?: unknown; reason?: unknown };
  return { requestId: params.requestId, reason: params.reason };
}
