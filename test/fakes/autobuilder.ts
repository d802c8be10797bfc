import type http from 'node:http';
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from '../helpers/fake-server.js';

/**
 * A stand-in for the ChatGPT Auto Builder endpoint, speaking the hub's contract (docs/intelligence-chatgpt.md):
 * `POST {base}/execute` with `{command, context, correlation_id, callback_url}` → 200 `{status: "success", result}`,
 * or 202 and a later `POST callback_url` with `{correlation_id, status, result}`; errors as `{error: {message}}`.
 * `GET {base}` answers 200 (what the hub's connection check probes). `mode` picks the behaviour per test.
 */
export type AutoBuilderMode =
  | { kind: 'success'; result?: unknown; httpStatus?: number }
  | { kind: 'accepted' }
  | { kind: 'error'; httpStatus: number; message: string }
  | { kind: 'error-envelope'; message: string }
  | { kind: 'hang' }
  | { kind: 'huge'; bytes: number; declareLength: boolean }
  /** Redirects `POST /execute` to `location`; any other execute path (the redirect target) answers like success. */
  | { kind: 'redirect'; location: string; httpStatus?: number; result?: unknown };

export interface ExecuteBody {
  command: string;
  context: unknown;
  correlation_id: string;
  callback_url: string | null;
}

export interface FakeAutoBuilder extends FakeServer {
  mode: AutoBuilderMode;
  /** When set, the fake posts `{correlation_id, ...callback}` to the request's callback_url after answering. */
  callback: { status: string; result: unknown } | null;
  /** Bearer key the fake sends with callbacks. */
  callbackKey: string | null;
  /** Bodies of the execute requests received, parsed. */
  executes(): ExecuteBody[];
  /** Callback POSTs made so far (await them to know the hub answered). */
  deliveries: Promise<{ status: number; body: unknown }>[];
}

export async function startFakeAutoBuilder(opts: { token?: string } = {}): Promise<FakeAutoBuilder> {
  const state: Pick<FakeAutoBuilder, 'mode' | 'callback' | 'callbackKey' | 'deliveries'> = {
    mode: { kind: 'success' },
    callback: null,
    callbackKey: null,
    deliveries: [],
  };
  const server = await startFakeServer((req, res) => handle(req, res));

  function handle(req: RecordedRequest, res: http.ServerResponse): void {
    const path = new URL(req.url, 'http://fake').pathname;
    if (req.method === 'GET' && !path.endsWith('/execute')) return sendJson(res, 200, { service: 'fake auto builder' });
    if (!path.endsWith('/execute')) return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    if (req.method !== 'POST') return sendJson(res, 405, { error: { message: 'use POST' } });
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      return sendJson(res, 401, { error: { message: 'invalid bearer token' } });
    }
    let body: ExecuteBody;
    try {
      body = JSON.parse(req.body) as ExecuteBody;
    } catch {
      return sendJson(res, 400, { error: { message: 'body is not JSON' } });
    }
    if (typeof body.command !== 'string' || typeof body.correlation_id !== 'string') {
      return sendJson(res, 400, { error: { message: 'command and correlation_id are required' } });
    }

    const mode: AutoBuilderMode =
      state.mode.kind === 'redirect' && path !== '/execute' ? { kind: 'success', result: state.mode.result } : state.mode;
    switch (mode.kind) {
      case 'success':
        sendJson(res, mode.httpStatus ?? 200, {
          status: 'success',
          result: mode.result ?? { summary: `done: ${body.command}`, files: ['src/app.ts'] },
        });
        break;
      case 'accepted':
        sendJson(res, 202, { status: 'accepted', correlation_id: body.correlation_id });
        break;
      case 'error':
        sendJson(res, mode.httpStatus, { error: { message: mode.message } });
        return;
      case 'error-envelope':
        sendJson(res, 200, { status: 'error', error: mode.message });
        return;
      case 'hang':
        return;
      case 'huge':
        writeHuge(res, mode.bytes, mode.declareLength);
        return;
      case 'redirect':
        res.writeHead(mode.httpStatus ?? 307, { location: mode.location, 'content-length': 0 });
        res.end();
        return;
    }
    if (state.callback && body.callback_url) deliver(body.callback_url, body.correlation_id, state.callback);
  }

  function deliver(url: string, correlationId: string, cb: { status: string; result: unknown }): void {
    state.deliveries.push(
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(state.callbackKey ? { authorization: `Bearer ${state.callbackKey}` } : {}) },
        body: JSON.stringify({ correlation_id: correlationId, ...cb }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown })),
    );
  }

  const fake = server as FakeAutoBuilder;
  Object.defineProperties(fake, {
    mode: { get: () => state.mode, set: (m: AutoBuilderMode) => (state.mode = m) },
    callback: { get: () => state.callback, set: (c: FakeAutoBuilder['callback']) => (state.callback = c) },
    callbackKey: { get: () => state.callbackKey, set: (k: string | null) => (state.callbackKey = k) },
    deliveries: { get: () => state.deliveries },
  });
  fake.executes = () =>
    server.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/execute')).map((r) => JSON.parse(r.body) as ExecuteBody);
  return fake;
}

/** A JSON-looking body of `bytes` bytes, written in chunks (chunked encoding unless the length is declared). */
function writeHuge(res: http.ServerResponse, bytes: number, declareLength: boolean): void {
  res.writeHead(200, { 'content-type': 'application/json', ...(declareLength ? { 'content-length': bytes } : {}) });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('error', () => {});
  pump();
}
