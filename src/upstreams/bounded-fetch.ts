import { AsyncLocalStorage } from 'node:async_hooks';

/** What a response stream does when it passes the byte cap: the call it answers is failed at once. */
export interface OverflowTarget {
  overflow(bytes: number): void;
}

/**
 * The call whose request is being sent. The SDK's HTTP transport issues each request's POST from inside the
 * `callTool` that made it, so the POST (and the response stream that carries the answer) inherits this context.
 */
export const currentCall = new AsyncLocalStorage<OverflowTarget>();

/** Statuses whose responses never carry a body (a Response cannot be built with one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for the SDK's HTTP transports that stops reading a response body once it passed `maxBytes`: the stream
 * errors, the call that sent the request is told (its answer will not come) and nothing past the cap is buffered.
 * Streams opened outside a call (the standalone GET stream, the legacy SSE stream) tell `onStreamOverflow`.
 */
export function boundedFetch(maxBytes: number, onStreamOverflow: (bytes: number) => void, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const target = currentCall.getStore();
    const response = await base(input, init);
    if (!response.body || NULL_BODY.has(response.status)) return response;
    const tell = (bytes: number) => (target ? target.overflow(bytes) : onStreamOverflow(bytes));
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      tell(declared);
      throw new ResultTooLargeError(maxBytes);
    }
    let seen = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          tell(seen);
          controller.error(new ResultTooLargeError(maxBytes));
          return;
        }
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

export class ResultTooLargeError extends Error {
  override name = 'ResultTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`the upstream's answer passed ${maxBytes} bytes (UPSTREAM_RESULT_MAX_BYTES)`);
  }
}
