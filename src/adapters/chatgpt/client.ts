import { HubError } from '../../tools/errors.js';

/** Largest Auto Builder reply read into memory; a bigger one is cut off and reported as an upstream error. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Same-origin redirects followed per request (others are refused). */
export const MAX_REDIRECTS = 3;
/** Bound of the connection probe, whatever CHATGPT_TIMEOUT_MS says. */
export const CHECK_TIMEOUT_MS = 5_000;

export interface AutoBuilderTarget {
  /** CHATGPT_MCP_ENDPOINT without trailing slash. */
  endpoint: string;
  token?: string;
  timeoutMs: number;
}

export interface ExecuteRequest {
  command: string;
  context: unknown;
  correlation_id: string;
  callback_url: string | null;
}

export interface UpstreamReply {
  status: number;
  /** Parsed JSON when the reply is JSON, otherwise the text. */
  body: unknown;
}

/**
 * POSTs to `${endpoint}/execute`. Bounded by `timeoutMs` and the caller's signal; follows only same-origin redirects
 * (307/308 and 301/302 repeat the POST, 303 switches to GET); refuses replies over MAX_RESPONSE_BYTES.
 * Any HTTP status is returned to the caller; transport failures throw HubError (`timeout` or `upstream_error`).
 */
export async function postExecute(target: AutoBuilderTarget, request: ExecuteRequest, signal: AbortSignal): Promise<UpstreamReply> {
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  const start = new URL(`${target.endpoint}/execute`);
  let url = start;
  let method: 'POST' | 'GET' = 'POST';
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, {
        method,
        headers: headers(target, method === 'POST'),
        body: method === 'POST' ? JSON.stringify(request) : undefined,
        redirect: 'manual',
        signal: combined,
      });
      if (!isRedirect(res.status)) return { status: res.status, body: await readCapped(res) };
      await res.body?.cancel();
      const location = res.headers.get('location');
      if (!location) throw upstream(`Auto Builder answered ${res.status} without a Location header`, res.status);
      const next = new URL(location, url);
      if (next.origin !== start.origin) {
        throw upstream(`Auto Builder redirected to another host (${next.origin}); redirects are only followed within ${start.origin}`, res.status, {
          location: next.origin,
        });
      }
      if (hop >= MAX_REDIRECTS) throw upstream(`Auto Builder redirected more than ${MAX_REDIRECTS} times`, res.status);
      if (res.status === 303) method = 'GET';
      url = next;
    }
  } catch (err) {
    if (err instanceof HubError) throw err;
    if (timeout.aborted) {
      throw new HubError('timeout', `Auto Builder did not answer within ${target.timeoutMs} ms (CHATGPT_TIMEOUT_MS)`, {
        timeout_ms: target.timeoutMs,
      });
    }
    if (signal.aborted) throw new HubError('timeout', 'the call ran out of time waiting for Auto Builder');
    throw upstream(`cannot reach Auto Builder at ${start.origin}: ${transportReason(err)}`, null);
  }
}

/** GET on the endpoint base, no side effects. Resolves with the HTTP status; throws on transport failure. */
export async function probe(target: AutoBuilderTarget, signal: AbortSignal): Promise<number> {
  const res = await fetch(target.endpoint, {
    method: 'GET',
    headers: headers(target, false),
    redirect: 'manual',
    signal: AbortSignal.any([signal, AbortSignal.timeout(Math.min(CHECK_TIMEOUT_MS, target.timeoutMs))]),
  });
  await res.body?.cancel();
  return res.status;
}

/** The upstream's own error text, from the usual JSON error shapes or the start of a text body. */
export function upstreamMessage(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 500) || '(empty body)';
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const err = b.error;
    if (err && typeof err === 'object' && typeof (err as Record<string, unknown>).message === 'string') {
      return ((err as Record<string, unknown>).message as string).slice(0, 500);
    }
    for (const v of [err, b.message, b.detail]) if (typeof v === 'string') return v.slice(0, 500);
    return JSON.stringify(body).slice(0, 500);
  }
  return String(body);
}

export function upstream(message: string, status: number | null, extra: Record<string, unknown> = {}): HubError {
  return new HubError('upstream_error', message, { upstream_status: status, ...extra });
}

function headers(target: AutoBuilderTarget, withBody: boolean): Record<string, string> {
  return {
    accept: 'application/json, text/plain;q=0.9',
    'user-agent': 'omni-hub',
    ...(withBody ? { 'content-type': 'application/json' } : {}),
    ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
  };
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400 && status !== 304;
}

async function readCapped(res: Response): Promise<unknown> {
  const tooBig = () =>
    upstream(`Auto Builder reply exceeds the ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB response cap; not read`, res.status, {
      cap_bytes: MAX_RESPONSE_BYTES,
    });
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > MAX_RESPONSE_BYTES) {
    await res.body?.cancel();
    throw tooBig();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        await reader.cancel();
        throw tooBig();
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = res.headers.get('content-type') ?? '';
  if (/\bjson\b/i.test(type) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

function transportReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
