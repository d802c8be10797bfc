import type { ClientAsker, ClientLogger, ClientRequestMethod } from '../tools/types.js';

interface TrackedCall {
  ask?: ClientAsker;
  log?: ClientLogger;
  signal: AbortSignal;
}

/**
 * Routes an upstream's `elicitation/create` and `sampling/createMessage` requests to the hub's client whose tool call
 * made the upstream ask. One upstream connection carries the calls of many clients and a 2025 request names no call,
 * so a request is relayed only while exactly one call is in flight on the connection; otherwise, or when that call's
 * client cannot answer (it did not declare the capability, or speaks 2026-07-28, where the hub does not relay), the
 * upstream gets an error saying why.
 */
export class ClientRequestRelay {
  private readonly calls = new Set<TrackedCall>();

  /** Tracks a call while it runs; the returned function ends the tracking. */
  track(call: TrackedCall): () => void {
    this.calls.add(call);
    return () => this.calls.delete(call);
  }

  /**
   * An upstream's log message (`notifications/message`) goes to the client of the call in flight, by the same rule as
   * requests: with no call or several, nobody can be named and it is dropped (the hub's own log keeps nothing of it).
   */
  log(message: Parameters<ClientLogger>[0]): void {
    if (this.calls.size !== 1) return;
    const [call] = this.calls;
    call!.log?.(message);
  }

  async relay(method: ClientRequestMethod, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.calls.size !== 1) {
      throw new Error(
        this.calls.size === 0
          ? `${method} outside a tool call: the hub relays it only to the client of the call that asked`
          : `${method} while ${this.calls.size} calls are in flight on this upstream: the hub cannot tell which client should answer`,
      );
    }
    const [call] = this.calls;
    if (!call!.ask) throw new Error(`the hub's client of this call cannot answer ${method}`);
    return call!.ask(method, params, call!.signal);
  }
}
