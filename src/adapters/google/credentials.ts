import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AuthClient, JWT, UserRefreshClient, gaxios } from 'google-auth-library';
import type { Config } from '../../config.js';
import { HubError } from '../../tools/errors.js';
import { raceSignal } from './retry.js';

/**
 * The Google credential chain shared by every Google adapter:
 * GOOGLE_OAUTH_TOKEN → service-account key (GOOGLE_SERVICE_ACCOUNT_JSON, then GOOGLE_APPLICATION_CREDENTIALS) →
 * Application Default Credentials from the metadata server, only when running on Google Cloud.
 */
export type GoogleCredentialSource = 'oauth_token' | 'service_account' | 'adc';

export const GOOGLE_CREDENTIAL_VARIABLES = 'GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Google's own token endpoint; the JWT client always posts here, so a key with another token_uri is redirected. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const DEFAULT_METADATA_HOST = 'metadata.google.internal';
const METADATA_TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';
/** The metadata server answers in milliseconds on Google Cloud; never let a lookup stall a call. */
const METADATA_TIMEOUT_MS = 3_000;
const TOKEN_ENDPOINT_TIMEOUT_MS = 15_000;
/** Tokens are refreshed this long before they expire, so a call never starts with a token about to lapse. */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;

const requireCjs = createRequire(import.meta.url);
let authLibrary: typeof import('google-auth-library') | undefined;

/** google-auth-library (about 70 ms to load) is required on first use, keeping it off the hub's cold start. */
function authLib(): typeof import('google-auth-library') {
  return (authLibrary ??= requireCjs('google-auth-library') as typeof import('google-auth-library'));
}

export function googleCredentialSource(config: Config): GoogleCredentialSource | null {
  const g = config.google;
  if (g.oauthToken) return 'oauth_token';
  if (g.serviceAccountJson || g.applicationCredentials) return 'service_account';
  if (g.onGoogleCloud) return 'adc';
  return null;
}

/** Human name of the active source for error messages and check(); never contains the secret itself. */
export function googleCredentialLabel(config: Config): string {
  const g = config.google;
  switch (googleCredentialSource(config)) {
    case 'oauth_token':
      return 'GOOGLE_OAUTH_TOKEN';
    case 'service_account':
      if (g.serviceAccountJson) return isInlineJson(g.serviceAccountJson) ? 'GOOGLE_SERVICE_ACCOUNT_JSON (inline key)' : `GOOGLE_SERVICE_ACCOUNT_JSON (${g.serviceAccountJson})`;
      return `GOOGLE_APPLICATION_CREDENTIALS (${g.applicationCredentials})`;
    case 'adc':
      return 'Application Default Credentials (metadata server)';
    default:
      return 'no Google credentials';
  }
}

/**
 * Null when a credential source exists (or, for APIs that accept keys, GOOGLE_API_KEY is set); otherwise the
 * variables to set, as `not_configured` names them.
 */
export function googleMissingConfig(config: Config, opts: { apiKeyAccepted?: boolean } = {}): string | null {
  if (googleCredentialSource(config)) return null;
  if (opts.apiKeyAccepted) return config.google.apiKey ? null : `${GOOGLE_CREDENTIAL_VARIABLES} or GOOGLE_API_KEY`;
  return GOOGLE_CREDENTIAL_VARIABLES;
}

interface CachedToken {
  token: string;
  /** Epoch ms (one hour after issue when the token endpoint gives no expiry). */
  expiresAt: number;
}

const tokenCache = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<CachedToken>>();

/** Forgets every cached token (tests, and after a credential rotation). */
export function clearGoogleTokenCache(): void {
  tokenCache.clear();
  inFlight.clear();
}

/**
 * An access token for `scopes` from the active source. Cached per (source, scopes) and refreshed
 * TOKEN_REFRESH_MARGIN_MS before expiry; concurrent callers share one refresh.
 */
export async function googleAccessToken(config: Config, scopes: string[], signal?: AbortSignal): Promise<string> {
  const source = googleCredentialSource(config);
  if (!source) throw new HubError('not_configured', `Google APIs are not configured: set ${GOOGLE_CREDENTIAL_VARIABLES}`, { variable: GOOGLE_CREDENTIAL_VARIABLES });
  if (source === 'oauth_token') return config.google.oauthToken!;

  const key = cacheKey(config, source, scopes);
  const cached = tokenCache.get(key);
  if (cached && cached.expiresAt - TOKEN_REFRESH_MARGIN_MS > Date.now()) return cached.token;

  let pending = inFlight.get(key);
  if (!pending) {
    if (signal?.aborted) throw new HubError('timeout', 'timed out obtaining a Google access token');
    // The refresh itself is not tied to one caller's signal: another caller may be sharing it.
    pending = (source === 'adc' ? fetchMetadataToken(config, scopes) : fetchServiceAccountToken(config, scopes))
      .then((t) => {
        tokenCache.set(key, t);
        return t;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const fresh = await raceSignal(pending, signal, 'obtaining a Google access token');
  return fresh.token;
}

function cacheKey(config: Config, source: GoogleCredentialSource, scopes: string[]): string {
  const g = config.google;
  const identity = source === 'service_account' ? (g.serviceAccountJson ?? g.applicationCredentials ?? '') : (g.metadataHost ?? DEFAULT_METADATA_HOST);
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return `${source}:${digest}:${[...new Set(scopes)].sort().join(' ')}`;
}

function isInlineJson(value: string): boolean {
  return value.trimStart().startsWith('{');
}

interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

interface AuthorizedUserKey {
  type: 'authorized_user';
  client_id: string;
  client_secret: string;
  refresh_token: string;
}

type CredentialFile = ServiceAccountKey | AuthorizedUserKey;

/** Reads and validates the key; errors name the variable and the reason, never the key's content. */
async function readCredentialFile(config: Config): Promise<{ key: CredentialFile; label: string }> {
  const g = config.google;
  const variable = g.serviceAccountJson ? 'GOOGLE_SERVICE_ACCOUNT_JSON' : 'GOOGLE_APPLICATION_CREDENTIALS';
  const value = (g.serviceAccountJson ?? g.applicationCredentials)!;
  const label = googleCredentialLabel(config);
  let text: string;
  if (g.serviceAccountJson && isInlineJson(value)) {
    text = value;
  } else {
    try {
      text = await readFile(value, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new HubError('auth_error', `${variable}: cannot read key file ${value} (${code})`, { source: variable });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HubError('auth_error', `${label}: the key is not valid JSON`, { source: variable });
  }
  const obj = (parsed ?? {}) as Record<string, unknown>;
  if (obj.type === 'authorized_user') {
    if (typeof obj.client_id !== 'string' || typeof obj.client_secret !== 'string' || typeof obj.refresh_token !== 'string') {
      throw new HubError('auth_error', `${label}: authorized_user credentials need client_id, client_secret and refresh_token`, { source: variable });
    }
    return { key: obj as unknown as AuthorizedUserKey, label };
  }
  if (typeof obj.client_email !== 'string' || typeof obj.private_key !== 'string') {
    throw new HubError('auth_error', `${label}: not a service-account key (client_email and private_key are required)`, { source: variable });
  }
  if (obj.token_uri !== undefined && (typeof obj.token_uri !== 'string' || !/^https?:\/\//.test(obj.token_uri))) {
    throw new HubError('auth_error', `${label}: token_uri is not an http(s) URL`, { source: variable });
  }
  return { key: { ...(obj as unknown as ServiceAccountKey), type: 'service_account' }, label };
}

async function fetchServiceAccountToken(config: Config, scopes: string[]): Promise<CachedToken> {
  const { key, label } = await readCredentialFile(config);
  const variable = label.split(' ')[0]!;
  let client: JWT | UserRefreshClient;
  if (key.type === 'authorized_user') {
    client = new (authLib().UserRefreshClient)({ clientId: key.client_id, clientSecret: key.client_secret, refreshToken: key.refresh_token });
  } else {
    const tokenUri = key.token_uri ?? GOOGLE_TOKEN_URL;
    client = new (authLib().JWT)({
      email: key.client_email,
      key: key.private_key,
      keyId: key.private_key_id,
      scopes,
      // The assertion's audience must be the endpoint it is presented to.
      additionalClaims: tokenUri === GOOGLE_TOKEN_URL ? undefined : { aud: tokenUri },
    });
    adjustTokenRequests(client, tokenUri);
  }
  client.transporter.defaults = { ...client.transporter.defaults, timeout: TOKEN_ENDPOINT_TIMEOUT_MS };
  try {
    const creds = await client.getAccessToken();
    const expiry = client.credentials.expiry_date;
    if (!creds.token) throw new HubError('auth_error', `${label}: the token endpoint returned no access_token`, { source: variable });
    return { token: creds.token, expiresAt: typeof expiry === 'number' ? expiry : Date.now() + 3_600_000 };
  } catch (err) {
    throw tokenEndpointError(err, label, variable);
  }
}

/**
 * The JWT client posts to Google's fixed token URL: send it to the key's own token_uri instead (private clouds, local
 * test servers). Its default of 3 retries is cut to 1 so a failing token endpoint answers within the call's budget.
 */
function adjustTokenRequests(client: JWT, tokenUri: string): void {
  client.transporter.interceptors.request.add({
    resolved: async (opts) => {
      if (String(opts.url) === GOOGLE_TOKEN_URL) {
        if (tokenUri !== GOOGLE_TOKEN_URL) opts.url = new URL(tokenUri);
        opts.retryConfig = { ...opts.retryConfig, retry: 1 };
      }
      return opts;
    },
  });
}

function tokenEndpointError(err: unknown, label: string, variable: string): HubError {
  if (err instanceof HubError) return err;
  const e = err as { name?: string; code?: string; status?: number; response?: { status?: number; data?: unknown }; message?: string };
  if (e?.name === 'AbortError' || e?.code === 'ETIMEDOUT' || e?.code === 'ECONNABORTED') {
    return new HubError('timeout', `${label}: the token endpoint did not answer in time`, { source: variable });
  }
  const status = e?.response?.status ?? e?.status;
  const data = e?.response?.data as { error?: unknown; error_description?: unknown } | undefined;
  const reason = data && typeof data === 'object' && typeof data.error === 'string'
    ? `${data.error}${typeof data.error_description === 'string' ? `: ${data.error_description}` : ''}`
    : undefined;
  if (status && status < 500) {
    return new HubError('auth_error', `${label}: the token endpoint refused the credentials (HTTP ${status}${reason ? `, ${reason}` : ''})`, { source: variable, upstream_status: status });
  }
  if (status) {
    return new HubError('upstream_error', `${label}: the token endpoint failed (HTTP ${status}${reason ? `, ${reason}` : ''})`, { source: variable, upstream_status: status });
  }
  // Key parse/sign failures surface here (e.g. a malformed private_key); the library's message does not echo the key.
  const msg = (e?.message ?? String(err)).slice(0, 200);
  if (/private key|PEM|DECODER|asn1|sign/i.test(msg)) return new HubError('auth_error', `${label}: the private key is unusable (${msg})`, { source: variable });
  return new HubError('upstream_error', `${label}: cannot reach the token endpoint (${e?.code ?? msg})`, { source: variable });
}

async function fetchMetadataToken(config: Config, scopes: string[]): Promise<CachedToken> {
  const label = 'Application Default Credentials (metadata server)';
  const url = `http://${config.google.metadataHost ?? DEFAULT_METADATA_HOST}${METADATA_TOKEN_PATH}?scopes=${encodeURIComponent(scopes.join(','))}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) });
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${METADATA_TIMEOUT_MS} ms` : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
    throw new HubError('auth_error', `${label}: the metadata server is unreachable (${why})`, { source: 'adc' });
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number };
  if (!res.ok || !body.access_token) {
    throw new HubError('auth_error', `${label}: the metadata server refused a token (HTTP ${res.status})`, { source: 'adc', upstream_status: res.status });
  }
  return { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
}

type HubAuthClientClass = new (config: Config, scopes: string[]) => AuthClient;
let hubAuthClientClass: HubAuthClientClass | undefined;

/**
 * An AuthClient for Google client libraries (e.g. @google-cloud/run) that takes its tokens from the hub's chain,
 * so every Google adapter shares one cache and one error mapping. Defined on first use (the base class is lazy).
 * Non-2xx answers resolve (not throw) so the library decodes Google's error body itself.
 */
function authClientClass(): HubAuthClientClass {
  if (hubAuthClientClass) return hubAuthClientClass;
  const { AuthClient: Base } = authLib();
  class HubGoogleAuthClient extends Base {
    constructor(
      private readonly config: Config,
      private readonly scopes: string[],
    ) {
      super();
    }

    async getAccessToken(): Promise<{ token: string; res?: gaxios.GaxiosResponse | null }> {
      return { token: await googleAccessToken(this.config, this.scopes) };
    }

    async getRequestHeaders(): Promise<Headers> {
      const { token } = await this.getAccessToken();
      return new Headers({ authorization: `Bearer ${token}` });
    }

    request<T>(opts: gaxios.GaxiosOptions): gaxios.GaxiosPromise<T> {
      return this.getRequestHeaders().then((auth) => {
        const headers = new Headers(opts.headers as ConstructorParameters<typeof Headers>[0]);
        auth.forEach((v, k) => headers.set(k, v));
        return this.transporter.request<T>({ ...opts, headers, validateStatus: () => true });
      });
    }
  }
  return (hubAuthClientClass = HubGoogleAuthClient);
}

export function googleAuthClient(config: Config, scopes: string[]): AuthClient {
  return new (authClientClass())(config, scopes);
}
