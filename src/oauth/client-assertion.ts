import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import { sha256, type ClientRecord } from './clients.js';
import { OAuthError } from './errors.js';
import type { OAuthStore } from './store.js';

/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core §9): the client signs a short JWT with
 * a key published at its `jwks_uri`. `jose` verifies the signature and the claims; this module adds where the keys
 * come from (fetched with the metadata document's bounds and address checks) and that each assertion is used once.
 */

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const CLIENT_ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** An assertion may be valid for at most this long; its `jti` is remembered as long (single use). */
const MAX_ASSERTION_LIFETIME_S = 600;
const CLOCK_TOLERANCE_S = 30;
const JWKS_CACHE_MS = 300_000;
const MAX_CACHED_KEY_SETS = 1_000;

type KeySet = ReturnType<typeof createLocalJWKSet>;

export class ClientAssertions {
  private readonly keySets = new Map<string, { keys: KeySet; fetched: number }>();

  constructor(
    private readonly store: OAuthStore,
    /** Bounded https GET with the public-address check (the metadata document's fetch). */
    private readonly download: (url: URL) => Promise<string>,
  ) {}

  /** Verifies the assertion for `client`; `audiences` are the token endpoint and the issuer. Throws invalid_client. */
  async verify(client: ClientRecord, assertion: string, audiences: string[]): Promise<void> {
    if (client.token_endpoint_auth_method !== 'private_key_jwt' || !client.jwks_uri) {
      throw new OAuthError('invalid_client', `this client authenticates with ${client.token_endpoint_auth_method}, not a client assertion`);
    }
    const options = {
      issuer: client.client_id,
      subject: client.client_id,
      audience: audiences,
      algorithms: CLIENT_ASSERTION_ALGORITHMS,
      requiredClaims: ['jti', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_S,
    };
    let payload;
    try {
      try {
        ({ payload } = await jwtVerify(assertion, await this.keys(client.jwks_uri, false), options));
      } catch (err) {
        // A key the cached set does not have: the client may have rotated its keys, so fetch them once more.
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
        ({ payload } = await jwtVerify(assertion, await this.keys(client.jwks_uri, true), options));
      }
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      throw new OAuthError('invalid_client', `client assertion refused: ${(err as Error).message.slice(0, 200)}`);
    }
    const now = Math.floor(Date.now() / 1000);
    const lifetime = (payload.exp ?? 0) - now;
    if (lifetime > MAX_ASSERTION_LIFETIME_S) throw new OAuthError('invalid_client', `client assertion refused: it must expire within ${MAX_ASSERTION_LIFETIME_S} s`);
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 200) throw new OAuthError('invalid_client', 'client assertion refused: jti must be a non-empty string');
    const first = await this.store.add(`jti:${sha256(`${client.client_id} ${payload.jti}`)}`, '1', Math.max(1, lifetime + CLOCK_TOLERANCE_S));
    if (!first) throw new OAuthError('invalid_client', 'client assertion refused: this jti was already used');
  }

  private async keys(uri: string, fresh: boolean): Promise<KeySet> {
    const cached = this.keySets.get(uri);
    if (cached && !fresh && Date.now() - cached.fetched < JWKS_CACHE_MS) return cached.keys;
    let jwks: JSONWebKeySet;
    try {
      const parsed = JSON.parse(await this.download(new URL(uri))) as unknown;
      if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as { keys?: unknown }).keys)) throw new Error('not a JSON Web Key Set');
      jwks = parsed as JSONWebKeySet;
    } catch (err) {
      throw new OAuthError('invalid_client', `jwks_uri ${uri.slice(0, 200)}: ${(err as Error).message.slice(0, 200)}`);
    }
    const keys = createLocalJWKSet(jwks);
    if (this.keySets.size >= MAX_CACHED_KEY_SETS) this.keySets.clear();
    this.keySets.set(uri, { keys, fetched: Date.now() });
    return keys;
  }
}
