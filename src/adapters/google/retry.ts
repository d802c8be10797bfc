import { cancelledBy, HubError } from '../../tools/errors.js';

/** Attempts after the first for idempotent Google calls. */
export const GOOGLE_RETRIES = 2;
const BASE_BACKOFF_MS = 200;

/** Retry only what may succeed on a second try: 429, 5xx and network failures (never auth or argument errors). */
export function isRetryableGoogleError(err: unknown): boolean {
  if (!(err instanceof HubError) || err.code !== 'upstream_error') return false;
  if (err.details.network === true) return true;
  const status = err.details.upstream_status;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

/** Full-jitter exponential backoff: 0..200 ms, then 0..400 ms; rejects with `timeout` when the call is aborted. */
export function backoff(attempt: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new HubError('timeout', 'the call ran out of time while retrying'));
  const ms = Math.random() * BASE_BACKOFF_MS * 2 ** (attempt - 1);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new HubError('timeout', 'the call ran out of time while retrying'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn`, retrying retryable failures GOOGLE_RETRIES times; callers use it for idempotent requests only. */
export async function withRetries<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= GOOGLE_RETRIES || !isRetryableGoogleError(err) || signal.aborted) throw err;
      await backoff(attempt + 1, signal);
    }
  }
}

/** Settles with `promise`, or rejects with HubError('timeout') as soon as `signal` aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  // A call its client cancelled ends with that, not as a timeout.
  const stopped = () => cancelledBy(signal) ?? new HubError('timeout', `timed out ${what}`);
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(stopped());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
