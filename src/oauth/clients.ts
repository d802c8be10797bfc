import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { specTypeSchemas, type OAuthClientMetadata } from '@modelcontextprotocol/server';
import { isPublicAddress } from '../net/public-address.js';
import { OAuthError } from './errors.js';
import { parseScope } from './scopes.js';
import type { OAuthStore } from './store.js';

/** RFC 7591 client metadata checked by the MCP SDK's own schema; a failure names the first offending field. */
function parseClientMetadata(value: unknown): { ok: true; data: OAuthClientMetadata } | { ok: false; field: string; message: string } {
  const result = specTypeSchemas.OAuthClientMetadata['~standard'].validate(value);
  if (!result.issues) return { ok: true, data: result.value };
  const issue = result.issues[0];
  const field = issue?.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.') || 'body';
  return { ok: false, field, message: issue?.message ?? 'invalid' };
}

export type ClientAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';

export interface ClientRecord {
  client_id: string;
  client_name?: string;
  client_uri?: string;
  redirect_uris: string[];
  token_endpoint_auth_method: ClientAuthMethod;
  /** Where the client's public keys are (private_key_jwt); fetched with the same bounds as a metadata document. */
  jwks_uri?: string;
  /** `native` (desktop and command-line apps) may also use private-use URI schemes; both may use loopback http. */
  application_type: 'web' | 'native';
  grant_types: string[];
  response_types: string[];
  scope?: string;
  /** sha256 of the secret (confidential clients); the secret itself is shown once, at registration. */
  secret_hash?: string;
  client_id_issued_at: number;
  /** `registered` through /register, `metadata_document` when the client id is the URL of its metadata. */
  source: 'registered' | 'metadata_document';
  /** Epoch s of the first approval by an operator; until then a registration expires unused. */
  approved_at?: number;
}

/**
 * What identifies a client to a person: the host its metadata document is served from, or the hosts it returns to,
 * never only the name it chose for itself (anyone can register as "ChatGPT").
 */
export function clientIdentity(client: Pick<ClientRecord, 'client_id' | 'source' | 'redirect_uris'>): string {
  if (client.source === 'metadata_document') return new URL(client.client_id).host;
  return [...new Set(client.redirect_uris.map((u) => new URL(u).host || new URL(u).protocol))].join(', ');
}

const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2_000;
const MAX_NAME_LENGTH = 200;
/** Bounds on fetching a Client ID Metadata Document. */
const CIMD_MAX_BYTES = 64 * 1024;
const CIMD_TIMEOUT_MS = 5_000;
const CIMD_CACHE_S = 300;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** A private-use URI scheme of a native app: reverse domain name notation (RFC 8252 §7.1), e.g. `com.example.app:`. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;
const isLoopbackHttp = (u: URL) => u.protocol === 'http:' && LOOPBACK.has(u.hostname);
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * https anywhere, http on loopback only, and for native apps a private-use scheme; no fragment, no credentials,
 * bounded length. Null when acceptable.
 */
export function redirectUriProblem(uri: string, applicationType: ClientRecord['application_type'] = 'web'): string | null {
  if (uri.length > MAX_URI_LENGTH) return `redirect URI longer than ${MAX_URI_LENGTH} characters`;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return `redirect URI ${JSON.stringify(uri.slice(0, 100))} is not an absolute URL`;
  }
  if (u.hash || uri.includes('#')) return 'redirect URI must not contain a fragment';
  if (u.username || u.password) return 'redirect URI must not contain credentials';
  if (u.protocol === 'https:') return null;
  if (isLoopbackHttp(u)) return null;
  if (applicationType === 'native' && PRIVATE_USE_SCHEME.test(u.protocol)) return null;
  return `redirect URI ${JSON.stringify(uri.slice(0, 100))} must use https (http only on localhost/127.0.0.1/[::1]${applicationType === 'native' ? ', or a reverse-domain private-use scheme' : ''})`;
}

/**
 * Whether a presented redirect URI is one the client registered: exactly, except that the port of a loopback http
 * URI is not compared (RFC 8252 §7.3: a native app listens on whatever port is free when it asks).
 */
export function redirectUriRegistered(client: Pick<ClientRecord, 'redirect_uris'>, presented: string): boolean {
  if (client.redirect_uris.includes(presented)) return true;
  let p: URL;
  try {
    p = new URL(presented);
  } catch {
    return false;
  }
  if (!isLoopbackHttp(p)) return false;
  const withoutPort = (u: URL) => `${u.protocol}//${u.hostname}${u.pathname}${u.search}`;
  return client.redirect_uris.some((r) => {
    const u = new URL(r);
    return isLoopbackHttp(u) && withoutPort(u) === withoutPort(p);
  });
}

const isCimdUrl = (clientId: string) => clientId.startsWith('https://');

export interface ClientRegistryOptions {
  /** Resolves a host name to its addresses (DNS by default). */
  resolve?: (host: string) => Promise<string[]>;
  /** Which addresses a metadata document may be fetched from (public ones by default). */
  addressAllowed?: (ip: string) => boolean;
  /** Extra trusted CA certificates (PEM) for metadata document hosts. */
  ca?: string;
  /** Seconds a registration lives until an operator first approves it (OAUTH_UNUSED_CLIENT_TTL_S). */
  unusedTtlS?: number;
}

/** The registration metadata this server reads beyond the SDK's schema. */
const applicationTypeOf = (body: unknown): ClientRecord['application_type'] | 'invalid' => {
  const t = body && typeof body === 'object' ? (body as { application_type?: unknown }).application_type : undefined;
  if (t === undefined) return 'web';
  return t === 'web' || t === 'native' ? t : 'invalid';
};

/** Registered clients and Client ID Metadata Documents, behind one `find(client_id)`. */
export class ClientRegistry {
  private readonly resolve: (host: string) => Promise<string[]>;
  private readonly addressAllowed: (ip: string) => boolean;
  private readonly ca?: string;
  private readonly unusedTtlS: number;

  constructor(
    private readonly store: OAuthStore,
    options: ClientRegistryOptions = {},
  ) {
    this.resolve = options.resolve ?? (async (host) => (await lookup(host, { all: true })).map((a) => a.address));
    this.addressAllowed = options.addressAllowed ?? isPublicAddress;
    this.ca = options.ca;
    this.unusedTtlS = options.unusedTtlS ?? 86_400;
  }

  /** RFC 7591 registration: validates the metadata, stores the client, returns the registration response. */
  async register(body: unknown): Promise<Record<string, unknown>> {
    const parsed = parseClientMetadata(body);
    if (!parsed.ok) {
      const code = parsed.field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      throw new OAuthError(code, `${parsed.field}: ${parsed.message}`);
    }
    const m = parsed.data;
    const record = this.validate(m, applicationTypeOf(body), `c_${randomBytes(16).toString('base64url')}`, 'registered');
    let secret: string | undefined;
    if (record.token_endpoint_auth_method !== 'none') {
      secret = randomBytes(32).toString('base64url');
      record.secret_hash = sha256(secret);
    }
    // Unused registrations expire: anyone may register, only an operator's approval makes a client stay.
    await this.store.set(`client:${record.client_id}`, JSON.stringify(record), this.unusedTtlS);
    await this.store.setAdd('clients', record.client_id);
    const { secret_hash: _hidden, source: _source, ...pub } = record;
    return { ...pub, ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}) };
  }

  private validate(
    m: OAuthClientMetadata,
    applicationType: ClientRecord['application_type'] | 'invalid',
    clientId: string,
    source: ClientRecord['source'],
  ): ClientRecord {
    if (applicationType === 'invalid') throw new OAuthError('invalid_client_metadata', 'application_type must be "web" or "native"');
    if (m.redirect_uris.length === 0) throw new OAuthError('invalid_redirect_uri', 'redirect_uris must name at least one URI');
    if (m.redirect_uris.length > MAX_REDIRECT_URIS) throw new OAuthError('invalid_redirect_uri', `at most ${MAX_REDIRECT_URIS} redirect_uris`);
    for (const uri of m.redirect_uris) {
      const problem = redirectUriProblem(uri, applicationType);
      if (problem) throw new OAuthError('invalid_redirect_uri', problem);
    }
    const method = (m.token_endpoint_auth_method ?? (source === 'registered' ? 'client_secret_basic' : 'none')) as ClientAuthMethod;
    const methods: ClientAuthMethod[] = source === 'registered' ? ['none', 'client_secret_post', 'client_secret_basic'] : ['none', 'private_key_jwt'];
    if (!methods.includes(method)) {
      const why = source === 'registered' ? '' : ' for a client metadata document (no secret can be shared with it)';
      throw new OAuthError('invalid_client_metadata', `token_endpoint_auth_method ${JSON.stringify(method)} is not supported${why}; use ${methods.join(', ')}`);
    }
    if (method === 'private_key_jwt') {
      if (!m.jwks_uri) throw new OAuthError('invalid_client_metadata', 'private_key_jwt needs a jwks_uri (the keys are fetched from it)');
      if (!m.jwks_uri.startsWith('https://') || m.jwks_uri.length > MAX_URI_LENGTH) throw new OAuthError('invalid_client_metadata', 'jwks_uri must be an https URL');
    }
    // RFC 7591 §2 lets the server replace values it does not support: unsupported grant types and scopes are left
    // out of the registration (and the answer says so by omission) rather than refusing a client that asked for more.
    const grants = (m.grant_types ?? ['authorization_code', 'refresh_token']).filter((g) => g === 'authorization_code' || g === 'refresh_token');
    if (!grants.includes('authorization_code')) throw new OAuthError('invalid_client_metadata', 'grant_types must include "authorization_code" (the only flow this server offers, with refresh_token)');
    const responses = m.response_types ?? ['code'];
    if (!responses.includes('code')) throw new OAuthError('invalid_client_metadata', 'response_types must include "code"');
    const scope = m.scope ? parseScope(m.scope).known.join(' ') : '';
    if ((m.client_name?.length ?? 0) > MAX_NAME_LENGTH) throw new OAuthError('invalid_client_metadata', `client_name longer than ${MAX_NAME_LENGTH} characters`);
    return {
      client_id: clientId,
      ...(m.client_name ? { client_name: m.client_name } : {}),
      ...(m.client_uri ? { client_uri: m.client_uri } : {}),
      redirect_uris: m.redirect_uris,
      token_endpoint_auth_method: method,
      ...(method === 'private_key_jwt' ? { jwks_uri: m.jwks_uri! } : {}),
      application_type: applicationType,
      grant_types: grants,
      response_types: ['code'],
      ...(scope ? { scope } : {}),
      client_id_issued_at: Math.floor(Date.now() / 1000),
      source,
    };
  }

  /** The client, or null when unknown. A client id that is an https URL is fetched as its metadata document. */
  async find(clientId: string): Promise<ClientRecord | null> {
    if (!clientId || clientId.length > MAX_URI_LENGTH) return null;
    const stored = await this.store.get(isCimdUrl(clientId) ? `cimd:${clientId}` : `client:${clientId}`);
    if (stored) return withDefaults(JSON.parse(stored) as ClientRecord);
    if (!isCimdUrl(clientId)) return null;
    const record = await this.fetchMetadataDocument(clientId);
    const approved = await this.approval(clientId);
    if (approved) record.approved_at = approved.at;
    await this.store.set(`cimd:${clientId}`, JSON.stringify(record), CIMD_CACHE_S);
    return record;
  }

  /**
   * Records an operator's approval at `redirect`: a registration then stays (no longer expires unused), a metadata
   * document client is listed in the console, and errors of its later requests may be sent back to its redirect URI.
   */
  async markApproved(client: ClientRecord, redirect: string): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    if (client.source === 'metadata_document') {
      const previous = await this.approval(client.client_id);
      if (previous?.redirect_uris.includes(redirect)) return;
      const approval: Approval = { at: previous?.at ?? now, redirect_uris: [...(previous?.redirect_uris ?? []), redirect].slice(-MAX_REDIRECT_URIS) };
      await this.store.set(`approved:${client.client_id}`, JSON.stringify(approval));
      await this.store.set(`cimd:${client.client_id}`, JSON.stringify({ ...client, approved_at: approval.at }), CIMD_CACHE_S);
    } else {
      if (client.approved_at) return;
      await this.store.set(`client:${client.client_id}`, JSON.stringify({ ...client, approved_at: now }));
    }
    await this.store.setAdd('clients', client.client_id);
  }

  /** The redirect URIs at which an operator approved this metadata document client (empty when never). */
  async approvedRedirects(clientId: string): Promise<string[]> {
    return (await this.approval(clientId))?.redirect_uris ?? [];
  }

  private async approval(clientId: string): Promise<Approval | null> {
    const text = await this.store.get(`approved:${clientId}`);
    return text ? (JSON.parse(text) as Approval) : null;
  }

  async remove(clientId: string): Promise<void> {
    await this.store.del([`client:${clientId}`, `cimd:${clientId}`, `approved:${clientId}`]);
    await this.store.setRemove('clients', clientId);
  }

  async list(): Promise<ClientRecord[]> {
    const ids = await this.store.setMembers('clients');
    const out: ClientRecord[] = [];
    for (const id of ids) {
      const text = await this.store.get(isCimdUrl(id) ? `cimd:${id}` : `client:${id}`);
      if (text) out.push(withDefaults(JSON.parse(text) as ClientRecord));
      else if (isCimdUrl(id)) out.push({ client_id: id, redirect_uris: [], token_endpoint_auth_method: 'none', application_type: 'web', grant_types: [], response_types: [], client_id_issued_at: 0, source: 'metadata_document' });
      // A registration that expired unused: gone from the list too.
      else await this.store.setRemove('clients', id);
    }
    return out;
  }

  /** Secret-based client authentication at /token and /revoke (private_key_jwt: see ClientAssertions); throws invalid_client. */
  authenticate(client: ClientRecord, secret: string | undefined, method: 'none' | 'client_secret_post' | 'client_secret_basic'): void {
    if (client.token_endpoint_auth_method === 'private_key_jwt') throw new OAuthError('invalid_client', 'this client authenticates with private_key_jwt: send client_assertion_type and client_assertion');
    if (client.token_endpoint_auth_method === 'none') {
      if (secret !== undefined) throw new OAuthError('invalid_client', 'this client is public: send no client_secret');
      return;
    }
    if (secret === undefined || !client.secret_hash) throw new OAuthError('invalid_client', 'client authentication required');
    if (method === 'none') throw new OAuthError('invalid_client', 'client authentication required');
    const ok = timingSafeEqual(Buffer.from(sha256(secret)), Buffer.from(client.secret_hash));
    if (!ok) throw new OAuthError('invalid_client', 'client authentication failed');
  }

  /**
   * Client ID Metadata Document: an https URL whose host resolves only to public addresses, answered within
   * CIMD_TIMEOUT_MS with at most CIMD_MAX_BYTES of JSON whose `client_id` is that URL. Redirects are not followed.
   */
  private async fetchMetadataDocument(url: string): Promise<ClientRecord> {
    const fail = (why: string) => new OAuthError('invalid_client', `client metadata document ${url.slice(0, 200)}: ${why}`);
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw fail('not a URL');
    }
    if (u.protocol !== 'https:' || u.pathname === '/' || u.hash || u.username || u.password) throw fail('must be an https URL with a path');
    let text: string;
    try {
      text = await this.download(u);
    } catch (err) {
      throw fail((err as Error).message);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw fail('not JSON');
    }
    if (!doc || typeof doc !== 'object' || (doc as { client_id?: unknown }).client_id !== url) throw fail('its client_id must equal the URL');
    const parsed = parseClientMetadata(doc);
    if (!parsed.ok) throw fail(`invalid metadata: ${parsed.field} ${parsed.message}`);
    try {
      return this.validate(parsed.data, applicationTypeOf(doc), url, 'metadata_document');
    } catch (err) {
      if (err instanceof OAuthError) throw fail(err.description);
      throw err;
    }
  }

  /**
   * GET over https with the address check inside the connection's own DNS lookup (so a name cannot resolve to a
   * public address for the check and a private one for the connection), no redirects, a total time bound and a size
   * bound on the body.
   */
  download(u: URL): Promise<string> {
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.addressAllowed(host)) return Promise.reject(new Error('host is a private address'));
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        u,
        {
          method: 'GET',
          headers: { accept: 'application/json' },
          ...(this.ca ? { ca: this.ca } : {}),
          lookup: (hostname, options, callback) => {
            this.resolve(hostname).then(
              (addresses) => {
                if (addresses.length === 0) return callback(new Error('host does not resolve'), '', 0);
                if (!addresses.every(this.addressAllowed)) return callback(new Error('host resolves to a private address'), '', 0);
                const list = addresses.map((address) => ({ address, family: isIP(address) }));
                // With `all` (Node's happy-eyeballs connect asks for it) the callback takes the address list; its
                // declared type only names the single-address form.
                if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: typeof list) => void)(null, list);
                else callback(null, list[0]!.address, list[0]!.family);
              },
              () => callback(new Error('host does not resolve'), '', 0),
            );
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400) return req.destroy(new Error('redirects are not followed'));
          if (status !== 200) return req.destroy(new Error(`answered HTTP ${status}`));
          if (Number(res.headers['content-length'] ?? 0) > CIMD_MAX_BYTES) return req.destroy(new Error(`larger than ${CIMD_MAX_BYTES} bytes`));
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > CIMD_MAX_BYTES) req.destroy(new Error(`larger than ${CIMD_MAX_BYTES} bytes`));
            else chunks.push(chunk);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${CIMD_TIMEOUT_MS} ms`)), CIMD_TIMEOUT_MS);
      req.on('error', (err) => reject(new Error(err.message.startsWith('host ') || /redirect|larger|answered|within/.test(err.message) ? err.message : 'fetch failed')));
      req.on('close', () => clearTimeout(timer));
      req.end();
    });
  }
}

/** An operator's approval of a metadata document client, kept beyond the document's cache lifetime. */
interface Approval {
  at: number;
  redirect_uris: string[];
}

/** Records stored before application_type existed read as web clients. */
function withDefaults(record: ClientRecord): ClientRecord {
  return record.application_type ? record : { ...record, application_type: 'web' };
}
