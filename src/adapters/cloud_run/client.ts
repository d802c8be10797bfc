import type { ServicesClient } from '@google-cloud/run';
import type { Config } from '../../config.js';
import { HubError } from '../../tools/errors.js';
import { CLOUD_PLATFORM_SCOPE, googleAuthClient, googleCredentialLabel } from '../google/credentials.js';
import { httpStatusName } from '../google/rest.js';

export type { ServicesClient };
type RunClientOptions = NonNullable<ConstructorParameters<typeof ServicesClient>[0]>;

export const RUN_API_HOST = 'run.googleapis.com';

/**
 * Every call disables the library's own retries: reads are retried by the adapter (2 jittered retries, bounded by
 * the call's deadline) and writes are never repeated. The library default retries reads for up to 10 minutes.
 */
const NO_LIBRARY_RETRIES = {
  interfaces: {
    // A null method config means "no retry settings" in google-gax's constructSettings.
    'google.cloud.run.v2.Services': {
      methods: Object.fromEntries(
        ['CreateService', 'GetService', 'ListServices', 'UpdateService', 'DeleteService', 'GetIamPolicy', 'SetIamPolicy', 'TestIamPermissions'].map((m) => [m, null]),
      ),
    },
  },
};

let runModule: Promise<typeof import('@google-cloud/run')> | undefined;
const clients = new WeakMap<Config, Promise<ServicesClient>>();

/** The endpoint options for ServicesClient: GOOGLE_API_BASE_URL's origin, or the real API over HTTPS. */
export function runEndpoint(config: Config): { apiEndpoint: string; port: number; protocol: 'http' | 'https' } {
  if (!config.google.apiBaseUrl) return { apiEndpoint: RUN_API_HOST, port: 443, protocol: 'https' };
  const url = new URL(config.google.apiBaseUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { apiEndpoint: url.hostname, port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443, protocol };
}

/**
 * One ServicesClient per config, created on first use (the library and its protos load lazily: cold start).
 * Always the REST (HTTP/1.1 JSON) transport: the same path in production and in tests, no gRPC/HTTP2 stack,
 * works through ordinary HTTP proxies, and honours GOOGLE_API_BASE_URL for emulators and local test servers.
 */
export function servicesClient(config: Config): Promise<ServicesClient> {
  let client = clients.get(config);
  if (!client) {
    client = (runModule ??= import('@google-cloud/run')).then(
      ({ ServicesClient: Client }) =>
        new Client({
          fallback: true,
          ...runEndpoint(config),
          // Two copies of google-auth-library are installed (ours and google-gax's); the client only duck-types it.
          authClient: googleAuthClient(config, [CLOUD_PLATFORM_SCOPE]) as unknown as RunClientOptions['authClient'],
          clientConfig: NO_LIBRARY_RETRIES,
        }),
    );
    client.catch(() => clients.delete(config));
    clients.set(config, client);
  }
  return client;
}

/** google.rpc.Code number → name and the HTTP status Google's REST surface uses for it. */
const RPC_CODES: Record<number, [string, number]> = {
  1: ['CANCELLED', 499],
  2: ['UNKNOWN', 500],
  3: ['INVALID_ARGUMENT', 400],
  4: ['DEADLINE_EXCEEDED', 504],
  5: ['NOT_FOUND', 404],
  6: ['ALREADY_EXISTS', 409],
  7: ['PERMISSION_DENIED', 403],
  8: ['RESOURCE_EXHAUSTED', 429],
  9: ['FAILED_PRECONDITION', 400],
  10: ['ABORTED', 409],
  11: ['OUT_OF_RANGE', 400],
  12: ['UNIMPLEMENTED', 501],
  13: ['INTERNAL', 500],
  14: ['UNAVAILABLE', 503],
  15: ['DATA_LOSS', 500],
  16: ['UNAUTHENTICATED', 401],
};

interface LibraryError {
  name?: string;
  code?: number | string;
  message?: string;
  reason?: string;
  cause?: { code?: string };
  details?: unknown;
}

/**
 * Turns whatever the client library threw into a HubError: Google errors keep their HTTP status and
 * google.rpc code; NOT_FOUND becomes `not_found` when `notFound` names what was looked up.
 */
export function runError(err: unknown, config: Config, opts: { notFound?: string } = {}): HubError {
  if (err instanceof HubError) return err;
  const e = (err ?? {}) as LibraryError;
  if (e.name === 'AbortError') return new HubError('timeout', 'the Cloud Run API did not answer in time');
  if (typeof e.code === 'number' && RPC_CODES[e.code]) {
    const [status, httpStatus] = RPC_CODES[e.code]!;
    const message = (e.message ?? status).replace(/^\d+ [A-Z_]+: /, '').slice(0, 1000);
    const details: Record<string, unknown> = { upstream_status: httpStatus, upstream_code: status };
    if (e.reason) details.upstream_reason = e.reason;
    if (status === 'UNAUTHENTICATED') {
      const source = googleCredentialLabel(config);
      return new HubError('auth_error', `Cloud Run API rejected ${source}: ${message}`, { ...details, source });
    }
    if (status === 'NOT_FOUND' && opts.notFound) return new HubError('not_found', `${opts.notFound} not found: ${message}`, details);
    if (status === 'DEADLINE_EXCEEDED') return new HubError('timeout', `Cloud Run API: ${message}`, details);
    return new HubError('upstream_error', `${status}: ${message}`, details);
  }
  const gaxiosStatus = (err as { response?: { status?: number } })?.response?.status;
  if (typeof gaxiosStatus === 'number') {
    return new HubError('upstream_error', `${httpStatusName(gaxiosStatus)}: Cloud Run API answered HTTP ${gaxiosStatus}`, { upstream_status: gaxiosStatus, upstream_code: httpStatusName(gaxiosStatus) });
  }
  const why = e.cause?.code ?? (typeof e.code === 'string' ? e.code : undefined) ?? e.message ?? String(err);
  return new HubError('upstream_error', `cannot reach the Cloud Run API: ${String(why).slice(0, 300)}`, { network: true });
}
