import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { sha256 } from './clients.js';
import { normalizeResource } from './discovery.js';
import { OAuthError } from './errors.js';
import type { OAuthStore } from './store.js';

/**
 * Access tokens are opaque random strings; the store keeps only their sha256 with the grant they stand for.
 * Why opaque rather than signed JWTs: this hub is the only resource server that reads them, and it already has a
 * shared store (Redis across instances, a file on one), so a lookup costs what a JWT signature check would; in
 * exchange a revocation — of a token, a refresh family or a whole client from the console — takes effect on the
 * next request instead of at expiry, and there is no signing key to persist, rotate or leak. Codes and refresh
 * tokens are stored hashed the same way: a copy of the store yields nothing usable.
 */

export interface Grant {
  client_id: string;
  /** The identity provider's subject (OIDC sign-in); absent when the operator approved with a hub key. */
  subject?: string;
  scopes: string[];
  resource: string;
}

interface CodeRecord extends Grant {
  redirect_uri: string;
  /** Whether the authorization request named the redirect URI; only then must the token request repeat it. */
  redirect_sent: boolean;
  code_challenge: string;
  /** Epoch ms; checked as well as the store's TTL so every store expires codes alike. */
  exp: number;
}

export interface AccessRecord extends Grant {
  family: string;
  /** Epoch ms. */
  exp: number;
}

interface RefreshRecord extends Grant {
  family: string;
}

/**
 * A grant: every access and refresh token of it names it, and each use checks that it still exists, so deleting it
 * (revocation, reuse detection, the console) ends every token it issued at once.
 */
interface FamilyRecord extends Grant {
  created: number;
}

/** What a refresh token that was just rotated may still answer, within the grace window. */
interface GraceRecord {
  /** The new pair, encrypted with a key derived from the rotated refresh token (a copy of the store cannot read it). */
  pair: string;
  next: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export interface TokenLifetimes {
  accessS: number;
  refreshS: number;
  codeS: number;
  /** Seconds in which a retried refresh (the answer was lost) gets the same new pair instead of revoking the grant. */
  refreshGraceS: number;
}

/** The scope a refresh asks for, checked against the grant: returns the scopes to issue or throws invalid_scope. */
export type ScopeCheck = (held: string[]) => string[];

const ACCESS_PREFIX = 'oha_';
const REFRESH_PREFIX = 'ohr_';
const token = (prefix = '') => prefix + randomBytes(32).toString('base64url');
/** RFC 7636 code_verifier: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export const isAccessTokenShape = (t: string) => t.startsWith(ACCESS_PREFIX);

/** RFC 7636 S256: BASE64URL(SHA256(verifier)) equals the challenge, compared in constant time. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

export class TokenService {
  /** Last "last used" write per client in this process: at most one store write a minute per client. */
  private readonly lastUseWritten = new Map<string, number>();

  constructor(
    private readonly store: OAuthStore,
    readonly lifetimes: TokenLifetimes,
  ) {}

  async issueCode(grant: Grant, redirectUri: string, redirectSent: boolean, codeChallenge: string): Promise<string> {
    const code = token();
    const record: CodeRecord = { ...grant, redirect_uri: redirectUri, redirect_sent: redirectSent, code_challenge: codeChallenge, exp: Date.now() + this.lifetimes.codeS * 1000 };
    await this.store.set(`code:${sha256(code)}`, JSON.stringify(record), this.lifetimes.codeS);
    return code;
  }

  /** authorization_code grant: single use (a replayed code also revokes what it issued), PKCE, redirect and resource. */
  async exchangeCode(
    clientId: string,
    p: { code?: string; redirect_uri?: string; code_verifier?: string; resource?: string },
  ): Promise<TokenResponse> {
    if (!p.code) throw new OAuthError('invalid_request', 'code is required');
    if (!p.code_verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
    const hash = sha256(p.code);
    const text = await this.store.take(`code:${hash}`);
    if (!text) {
      const family = await this.store.get(`codeused:${hash}`);
      if (family) await this.revokeFamily(family);
      throw new OAuthError('invalid_grant', family ? 'authorization code already used; the tokens it issued are revoked' : 'authorization code is invalid or expired');
    }
    const code = JSON.parse(text) as CodeRecord;
    if (code.exp <= Date.now()) throw new OAuthError('invalid_grant', 'authorization code is invalid or expired');
    if (code.client_id !== clientId) throw new OAuthError('invalid_grant', 'authorization code was issued to another client');
    if (p.redirect_uri !== undefined && p.redirect_uri !== code.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    if (p.redirect_uri === undefined && code.redirect_sent) throw new OAuthError('invalid_request', 'redirect_uri is required (the authorization request named one)');
    if (!pkceMatches(p.code_verifier, code.code_challenge)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    if (p.resource !== undefined && !sameResource(p.resource, code.resource)) throw new OAuthError('invalid_target', 'resource differs from the one authorized');
    const family = token();
    await this.store.set(`codeused:${hash}`, family, this.lifetimes.refreshS);
    const grant: Grant = { client_id: code.client_id, scopes: code.scopes, resource: code.resource, ...(code.subject ? { subject: code.subject } : {}) };
    await this.store.setAdd(`clientfam:${clientId}`, family);
    return this.issuePair(family, grant, Date.now());
  }

  /**
   * refresh_token grant: the token rotates. Presenting the rotated token again within the grace window (the client
   * never saw the answer) returns the same new pair, as long as that pair has not been used; any other reuse revokes
   * the whole grant.
   */
  async refresh(clientId: string, p: { refresh_token?: string; scope?: string; resource?: string }, narrow: ScopeCheck): Promise<TokenResponse> {
    if (!p.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
    const hash = sha256(p.refresh_token);
    const text = await this.store.get(`rt:${hash}`);
    if (!text) return this.retryOrReuse(p.refresh_token, clientId);
    const rt = JSON.parse(text) as RefreshRecord;
    if (rt.client_id !== clientId) throw new OAuthError('invalid_grant', 'refresh token was issued to another client');
    if (p.resource !== undefined && !sameResource(p.resource, rt.resource)) throw new OAuthError('invalid_target', 'resource differs from the one authorized');
    // Checked before the token is spent, so a bad request does not cost the client its grant.
    const famText = await this.store.get(`fam:${rt.family}`);
    if (!famText) throw new OAuthError('invalid_grant', 'refresh token is revoked');
    const fam = JSON.parse(famText) as FamilyRecord;
    const scopes = p.scope !== undefined ? narrow(fam.scopes) : rt.scopes;
    // The atomic take decides between two concurrent uses: the loser is a retry or a reuse.
    if (!(await this.store.take(`rt:${hash}`))) return this.retryOrReuse(p.refresh_token, clientId);
    const grant: Grant = { client_id: rt.client_id, scopes, resource: rt.resource, ...(rt.subject ? { subject: rt.subject } : {}) };
    const answer = await this.issuePair(rt.family, { ...grant, scopes: fam.scopes }, fam.created, scopes);
    if (this.lifetimes.refreshGraceS > 0) {
      const pair = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(answer))).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(graceKey(p.refresh_token));
      const record: GraceRecord = { pair, next: sha256(answer.refresh_token) };
      await this.store.set(`rtgrace:${hash}`, JSON.stringify(record), this.lifetimes.refreshGraceS);
    }
    // Marked used only once the grace answer exists: a concurrent second use in between finds neither and is refused
    // without revoking the grant, instead of being taken for a reuse.
    await this.store.set(`rtused:${hash}`, rt.family, this.lifetimes.refreshS);
    return answer;
  }

  /** A refresh token that is no longer live: the grace answer when it was rotated moments ago, otherwise a reuse. */
  private async retryOrReuse(refreshToken: string, clientId: string): Promise<TokenResponse> {
    const hash = sha256(refreshToken);
    const graceText = await this.store.get(`rtgrace:${hash}`);
    const family = await this.store.get(`rtused:${hash}`);
    if (graceText && family) {
      const grace = JSON.parse(graceText) as GraceRecord;
      const nextLive = await this.store.get(`rt:${grace.next}`);
      const famLive = await this.store.get(`fam:${family}`);
      if (nextLive && famLive && (JSON.parse(nextLive) as RefreshRecord).client_id === clientId) {
        const { plaintext } = await compactDecrypt(grace.pair, graceKey(refreshToken));
        return JSON.parse(new TextDecoder().decode(plaintext)) as TokenResponse;
      }
    }
    if (family) {
      await this.revokeFamily(family);
      throw new OAuthError('invalid_grant', 'refresh token was already used; every token of this grant is revoked');
    }
    throw new OAuthError('invalid_grant', 'refresh token is invalid, expired or revoked');
  }

  /** Issues an access and a refresh token of `family`; `grant.scopes` is the whole grant, `scopes` this pair's. */
  private async issuePair(family: string, grant: Grant, created: number, scopes = grant.scopes): Promise<TokenResponse> {
    const access = token(ACCESS_PREFIX);
    const refresh = token(REFRESH_PREFIX);
    const exp = Date.now() + this.lifetimes.accessS * 1000;
    const a: AccessRecord = { ...grant, scopes, family, exp };
    const r: RefreshRecord = { ...grant, scopes, family };
    const f: FamilyRecord = { ...grant, created };
    await this.store.set(`fam:${family}`, JSON.stringify(f), this.lifetimes.refreshS);
    await this.store.set(`at:${sha256(access)}`, JSON.stringify(a), this.lifetimes.accessS);
    await this.store.set(`rt:${sha256(refresh)}`, JSON.stringify(r), this.lifetimes.refreshS);
    return { access_token: access, token_type: 'Bearer', expires_in: this.lifetimes.accessS, refresh_token: refresh, scope: scopes.join(' ') };
  }

  /** The live grant behind an access token, or null (unknown, expired or revoked). */
  async verifyAccess(accessToken: string): Promise<AccessRecord | null> {
    const text = await this.store.get(`at:${sha256(accessToken)}`);
    if (!text) return null;
    const a = JSON.parse(text) as AccessRecord;
    if (a.exp <= Date.now()) return null;
    // The token lives only as long as its grant: revoking the grant ends every access token it issued.
    if (!(await this.store.get(`fam:${a.family}`))) return null;
    this.noteUse(a.client_id);
    return a;
  }

  private noteUse(clientId: string): void {
    const now = Date.now();
    if (now - (this.lastUseWritten.get(clientId) ?? 0) < 60_000) return;
    if (this.lastUseWritten.size > 10_000) this.lastUseWritten.clear();
    this.lastUseWritten.set(clientId, now);
    void this.store.set(`lastused:${clientId}`, String(now)).catch(() => undefined);
  }

  async lastUsed(clientId: string): Promise<number | null> {
    const v = await this.store.get(`lastused:${clientId}`);
    return v ? Number(v) : null;
  }

  /** RFC 7009: revokes an access token (itself) or a refresh token (its whole family); unknown tokens are ignored. */
  async revoke(tokenValue: string, clientId: string): Promise<void> {
    const hash = sha256(tokenValue);
    const at = await this.store.get(`at:${hash}`);
    if (at) {
      if ((JSON.parse(at) as AccessRecord).client_id === clientId) await this.store.del([`at:${hash}`]);
      return;
    }
    const rt = await this.store.get(`rt:${hash}`);
    if (rt) {
      const r = JSON.parse(rt) as RefreshRecord;
      if (r.client_id === clientId) await this.revokeFamily(r.family);
    }
  }

  async revokeFamily(family: string): Promise<void> {
    const text = await this.store.get(`fam:${family}`);
    if (!text) return;
    const f = JSON.parse(text) as FamilyRecord;
    await this.store.del([`fam:${family}`]);
    await this.store.setRemove(`clientfam:${f.client_id}`, family);
  }

  /** The live grants (families) of a client, for the console. */
  async grants(clientId: string): Promise<(Grant & { family: string; created: number })[]> {
    const out: (Grant & { family: string; created: number })[] = [];
    for (const family of await this.store.setMembers(`clientfam:${clientId}`)) {
      const text = await this.store.get(`fam:${family}`);
      if (!text) {
        await this.store.setRemove(`clientfam:${clientId}`, family);
        continue;
      }
      const f = JSON.parse(text) as FamilyRecord;
      out.push({ client_id: f.client_id, scopes: f.scopes, resource: f.resource, ...(f.subject ? { subject: f.subject } : {}), family, created: f.created });
    }
    return out;
  }

  async revokeClient(clientId: string): Promise<number> {
    const families = await this.store.setMembers(`clientfam:${clientId}`);
    for (const family of families) await this.revokeFamily(family);
    await this.store.del([`clientfam:${clientId}`, `lastused:${clientId}`]);
    return families.length;
  }
}

/** The key that encrypts a grace answer: derived from the refresh token it answers, which the store never holds. */
const graceKey = (refreshToken: string): Uint8Array => createHash('sha256').update(`omni-hub:refresh-grace:${refreshToken}`).digest();

export const sameResource = (a: string, b: string): boolean => normalizeResource(a) === normalizeResource(b);
