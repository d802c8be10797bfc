import { STATUS_CODES } from 'node:http';
import type { ToolContext } from '../../tools/types.js';
import { HubError } from '../../tools/errors.js';
import { googleAccessToken, googleCredentialLabel, googleCredentialSource } from './credentials.js';
import { assertNoDotSegments } from './path.js';
import { withRetries } from './retry.js';

export { GOOGLE_RETRIES } from './retry.js';

export type GoogleHttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type GoogleQuery = Record<string, string | number | boolean | undefined | string[]>;
export type GoogleAuthMode = { scopes: string[] } | 'api_key' | { scopes: string[]; apiKeyFallback: true };

export interface GoogleRequestOptions {
  /** The API's usual host, e.g. 'gmail.googleapis.com'; replaced by GOOGLE_API_BASE_URL when set. */
  host: string;
  /** Path with leading slash, e.g. '/gmail/v1/users/me/messages/send'. */
  path: string;
  method?: GoogleHttpMethod;
  query?: GoogleQuery;
  /** JSON body. */
  body?: unknown;
  /** Non-JSON body (media uploads). */
  rawBody?: { data: Buffer | string; contentType: string };
  /**
   * OAuth scopes for a bearer token; 'api_key' sends GOOGLE_API_KEY; apiKeyFallback uses the key only when no
   * credential source exists.
   */
  auth: GoogleAuthMode;
  /** Safe to repeat: retried on 429, 5xx and network errors. Defaults to true for GET. */
  idempotent?: boolean;
  responseType?: 'json' | 'text' | 'arraybuffer';
  /** Extra request headers (e.g. X-Goog-FieldMask); auth and content-type set here win over them. */
  headers?: Record<string, string>;
}

const MAX_ERROR_MESSAGE = 1_000;

/** Google's JSON error envelope (google.rpc.Status mapped to HTTP). */
interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: unknown[]; errors?: { message?: string; reason?: string }[] } | string;
  error_description?: string;
}

export function googleBaseUrl(ctx: Pick<ToolContext, 'config'>, host: string): string {
  return ctx.config.google.apiBaseUrl ?? `https://${host}`;
}

/**
 * The request URL, parsed once: the HTTP client takes its origin and path as they are. The query is serialized before
 * the parse (setting `url.searchParams` re-serializes the URL on every set; the same bytes, serialized once).
 */
export function buildGoogleUrl(base: string, path: string, query?: GoogleQuery): URL {
  assertNoDotSegments(path);
  const target = `${base}${path.startsWith('/') ? path : `/${path}`}`;
  if (!query) return new URL(target);
  if (path.includes('?')) {
    // A path that carries its own query keeps it, and `query` is merged into it (a name in both takes query's value).
    const url = new URL(target);
    appendQuery(url.searchParams, query);
    return url;
  }
  const params = new URLSearchParams();
  appendQuery(params, query);
  const search = params.toString();
  return new URL(search ? `${target}?${search}` : target);
}

function appendQuery(params: URLSearchParams, query: GoogleQuery): void {
  for (const k in query) {
    const v = query[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else params.set(k, String(v));
  }
}

/**
 * One call to a Google REST API with the hub's credential chain, retries for idempotent requests, and
 * Google's error body mapped to HubError. Tokens and keys never appear in errors or logs.
 */
export async function googleRequest<T>(ctx: ToolContext, opts: GoogleRequestOptions): Promise<T> {
  const method = opts.method ?? 'GET';
  const idempotent = opts.idempotent ?? method === 'GET';
  const url = buildGoogleUrl(googleBaseUrl(ctx, opts.host), opts.path, opts.query);

  const once = () => sendOnce<T>(ctx, opts, method, url);
  return idempotent ? withRetries(once, ctx.signal) : once();
}

/**
 * The upstream HTTP client of every Google call: undici's `request` on one keep-alive agent shared by the process.
 * WHATWG `fetch` builds Headers, Request, Response and stream objects for every call, all of which this path would
 * throw away. Loaded on first use so cold start does not pay for it.
 *
 * undici's own header and body timeouts (300 s by default) are off: every request here carries the call's signal,
 * which the pipeline aborts at the tool's time budget (a connection check's has its own timeout), far sooner. Those
 * timers cost a timer object and a WeakRef per request that stayed alive about a second (undici sweeps them once a
 * second).
 */
let upstream: Promise<import('undici').Agent> | undefined;
/** Set once the agent exists, so calls after the first skip an await. */
let agent: import('undici').Agent | undefined;
function upstreamClient(): Promise<import('undici').Agent> {
  upstream ??= import('undici').then(({ Agent }) => (agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 128, headersTimeout: 0, bodyTimeout: 0 })));
  return upstream;
}

/** Copies the caller's extra headers with lower-case names, so the ones set here replace them instead of doubling. */
function baseHeaders(extra: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (extra) for (const k in extra) headers[k.toLowerCase()] = extra[k]!;
  headers.accept = 'application/json';
  return headers;
}

async function sendOnce<T>(ctx: ToolContext, opts: GoogleRequestOptions, method: GoogleHttpMethod, url: URL): Promise<T> {
  const headers = baseHeaders(opts.headers);
  const authorized = authorize(ctx, opts.auth, headers);
  const credential = typeof authorized === 'string' ? authorized : await authorized;

  let body: string | Buffer | undefined;
  if (opts.rawBody) {
    headers['content-type'] = opts.rawBody.contentType;
    body = opts.rawBody.data;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json; charset=utf-8';
    body = JSON.stringify(opts.body);
  }

  const dispatcher = agent ?? (await upstreamClient());
  let res: import('undici').Dispatcher.ResponseData;
  try {
    res = await dispatcher.request({ origin: url.origin, path: `${url.pathname}${url.search}`, method, headers, body, signal: ctx.signal });
  } catch (err) {
    throw networkError(err, opts.host, ctx.signal);
  }

  const status = res.statusCode;
  if (status < 200 || status > 299) {
    const text = await res.body.text().catch(() => '');
    throw responseError({ status, text, retryAfter: res.headers['retry-after'] }, opts.host, credential);
  }

  try {
    if (opts.responseType === 'arraybuffer') return Buffer.from(await res.body.arrayBuffer()) as T;
    const text = await res.body.text();
    if (opts.responseType === 'text') return text as T;
    return (text ? JSON.parse(text) : {}) as T;
  } catch {
    if (ctx.signal.aborted) throw new HubError('timeout', `${opts.host} did not answer in time`);
    throw new HubError('upstream_error', `${opts.host} returned an unreadable response (HTTP ${status})`, { upstream_status: status });
  }
}

/** Sets the auth header; returns a label naming the credential used (for auth_error messages); an API key needs no await. */
function authorize(ctx: ToolContext, auth: GoogleAuthMode, headers: Record<string, string>): string | Promise<string> {
  const config = ctx.config;
  const useKey = auth === 'api_key' || ('apiKeyFallback' in auth && !googleCredentialSource(config));
  if (useKey) {
    const key = config.google.apiKey;
    if (!key) throw new HubError('not_configured', 'Google API key is not configured: set GOOGLE_API_KEY', { variable: 'GOOGLE_API_KEY' });
    headers['x-goog-api-key'] = key;
    return 'GOOGLE_API_KEY';
  }
  return googleAccessToken(config, (auth as { scopes: string[] }).scopes, ctx.signal).then((token) => {
    headers.authorization = `Bearer ${token}`;
    return googleCredentialLabel(config);
  });
}

function networkError(err: unknown, host: string, signal: AbortSignal): HubError {
  if (err instanceof HubError) return err;
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  if (signal.aborted || e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new HubError('timeout', `${host} did not answer in time`);
  }
  // undici puts the system error code (ECONNREFUSED, ...) on the error itself; fetch put it on `cause`.
  const why = e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return new HubError('upstream_error', `cannot reach ${host}: ${why}`, { network: true });
}

/** An upstream answer outside 2xx: its status, body text and Retry-After header. */
export interface UpstreamFailure {
  status: number;
  text: string;
  retryAfter?: string | string[];
}

/** Maps `{"error": {code, message, status, details}}` (or an OAuth-style error) to HubError. */
export function responseError(res: UpstreamFailure, host: string, credential: string): HubError {
  const { text } = res;
  const statusText = STATUS_CODES[res.status] ?? '';
  let parsed: GoogleErrorBody | undefined;
  try {
    parsed = text ? (JSON.parse(text) as GoogleErrorBody) : undefined;
  } catch {
    parsed = undefined;
  }
  const err = parsed?.error;
  let status: string | undefined;
  let message: string;
  let details: unknown[] | undefined;
  if (err && typeof err === 'object') {
    status = err.status;
    message = err.message ?? err.errors?.[0]?.message ?? statusText;
    details = err.details;
  } else if (typeof err === 'string') {
    status = err;
    message = parsed?.error_description ?? statusText;
  } else {
    message = text ? text.slice(0, 200) : statusText || `HTTP ${res.status}`;
  }
  status ??= httpStatusName(res.status);
  message = message.slice(0, MAX_ERROR_MESSAGE);

  const extra: Record<string, unknown> = { upstream_status: res.status, upstream_code: status };
  if (details?.length) extra.upstream_details = details.slice(0, 5);
  const retryAfter = typeof res.retryAfter === 'string' ? res.retryAfter : undefined;
  if (retryAfter && /^\d+$/.test(retryAfter)) extra.retry_after_s = Number(retryAfter);

  // Google answers a bad API key with 400/403 and reason API_KEY_INVALID: the credential is present but rejected.
  const keyRejected = credential === 'GOOGLE_API_KEY' && (JSON.stringify(details ?? []).includes('API_KEY_INVALID') || /API key not valid/i.test(message));
  if (res.status === 401 || status === 'UNAUTHENTICATED' || keyRejected) {
    return new HubError('auth_error', `${host} rejected ${credential}: ${status}: ${message}`, { ...extra, source: credential });
  }
  return new HubError('upstream_error', `${status}: ${message}`, extra);
}

/** The canonical google.rpc.Code name for an HTTP status, when the body does not give one. */
export function httpStatusName(httpStatus: number): string {
  const names: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ALREADY_EXISTS',
    412: 'FAILED_PRECONDITION',
    429: 'RESOURCE_EXHAUSTED',
    499: 'CANCELLED',
    500: 'INTERNAL',
    501: 'UNIMPLEMENTED',
    503: 'UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return names[httpStatus] ?? `HTTP_${httpStatus}`;
}
