import { createHash, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { StoreLog } from '../log.js';
import { FileOAuthStore, RedisOAuthStore, type OAuthStore } from '../oauth/store.js';
import { VaultCipher, VaultKeyError } from './vault-cipher.js';

/** The secret half of a grant: only ever stored sealed. */
export interface GrantTokens {
  access_token: string;
  refresh_token?: string;
  token_type?: string;
}

/** A principal's grant at one upstream: what the console may show, plus the tokens when read through the vault. */
export interface GrantInfo {
  upstream: string;
  principal: string;
  /** Scopes the upstream granted (space-separated), when it said. */
  scope?: string;
  /** Epoch ms: first connected, last token change, access token expiry. */
  connected_at: number;
  updated_at: number;
  expires_at?: number;
  /** The upstream identity's subject, when the token response carried an id token or the grant was introspectable. */
  subject?: string;
}

export interface Grant extends GrantInfo {
  tokens: GrantTokens;
}

interface StoredGrant extends GrantInfo {
  sealed: string;
}

/** The hub's client at one upstream's authorization server (registered dynamically, a metadata document, or configured). */
export interface UpstreamClient {
  issuer: string;
  /** The authorization server's RFC 8414 metadata, as discovered. */
  metadata: Record<string, unknown>;
  /** The protected resource the tokens are for (RFC 8707). */
  resource: string;
  /** The redirect URI the client was registered with (a dynamic registration is redone when the hub's address changes). */
  redirect_uri: string;
  client_id: string;
  client_secret?: string;
}

interface StoredClient extends Omit<UpstreamClient, 'client_secret'> {
  sealed_secret?: string;
}

/** An upstream's tool list as listed with an operator's grant, shared by every instance on the same store. */
export interface ListedTools {
  /** Epoch ms of the listing (0: unknown). */
  listed_at: number;
  tools: unknown[];
}

/** Renews a grant at its authorization server; throws GrantRevokedError when the server refuses the refresh token. */
export type Refresher = (grant: Grant) => Promise<{ tokens: GrantTokens; expires_at?: number; scope?: string }>;

/** The authorization server no longer honours the grant (invalid_grant on refresh): the principal must connect again. */
export class GrantRevokedError extends Error {}

/** Refresh this long before the access token expires, so a call never leaves with a token about to lapse. */
const REFRESH_SKEW_MS = 60_000;
/** A refresh lock outlives the slowest refresh the hub allows; a crashed holder's lock lapses after it. */
const LOCK_TTL_S = 30;
const LOCK_POLL_MIN_MS = 25;
const LOCK_POLL_MAX_MS = 500;

const grantKey = (upstream: string, principal: string) => `grant:${upstream}:${principal}`;
const indexKey = (upstream: string) => `grants:${upstream}`;
const clientKey = (upstream: string) => `client:${upstream}`;
const onceKey = (kind: string, id: string) => `${kind}:${createHash('sha256').update(id).digest('base64url')}`;
const lockKey = (upstream: string, principal: string) => `lock:${upstream}:${principal}`;
/** Associated data of a sealed value: the slot it belongs to. */
const grantSlot = (upstream: string, principal: string) => `grant\0${upstream}\0${principal}`;
const clientSlot = (upstream: string) => `client\0${upstream}`;

/**
 * Upstream credentials per principal (`auth: "user"` upstreams), encrypted at rest with VAULT_KEY. Redis when
 * REDIS_URL is set (every instance reads and refreshes the same grants), otherwise `DATA_DIR/vault/`. Tokens are
 * refreshed before they expire, one refresh per grant in flight across instances (a lock in the store); a record
 * written with an older key is rewritten with the current one when read.
 */
export class CredentialVault {
  private readonly inFlight = new Map<string, Promise<Grant | undefined>>();
  private readonly instance = randomUUID();
  /** Told when a refresh fails (the grant refused, or the server unreachable past expiry): for the audit log. */
  onRefreshFailure?: (grant: GrantInfo, reason: string) => void;

  constructor(
    private readonly store: OAuthStore,
    private readonly cipher: VaultCipher,
    private readonly log: StoreLog,
    private readonly now: () => number = Date.now,
  ) {}

  static async open(config: Config, log: StoreLog): Promise<CredentialVault> {
    const cipher = new VaultCipher(config.vaultKeys);
    if (config.redisUrl) {
      const { RedisConnection } = await import('../redis/connection.js');
      const connection = new RedisConnection({ url: config.redisUrl, log, commandTimeoutMs: 2_000 }).acquire();
      await connection.waitUntilReady(2_000);
      return new CredentialVault(new RedisOAuthStore(connection, 'omni-hub:vault:'), cipher, log);
    }
    return new CredentialVault(new FileOAuthStore(config.dataDir, log, 'vault'), cipher, log);
  }

  get storeKind(): 'redis' | 'file' {
    return this.store.kind;
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  async put(grant: Omit<Grant, 'connected_at' | 'updated_at'> & { connected_at?: number }): Promise<GrantInfo> {
    const now = this.now();
    const { tokens, ...info } = grant;
    const stored: StoredGrant = {
      upstream: info.upstream,
      principal: info.principal,
      ...(info.scope !== undefined ? { scope: info.scope } : {}),
      ...(info.subject !== undefined ? { subject: info.subject } : {}),
      ...(info.expires_at !== undefined ? { expires_at: info.expires_at } : {}),
      connected_at: info.connected_at ?? now,
      updated_at: now,
      sealed: this.cipher.seal(JSON.stringify(tokens), grantSlot(info.upstream, info.principal)),
    };
    await this.store.set(grantKey(info.upstream, info.principal), JSON.stringify(stored));
    await this.store.setAdd(indexKey(info.upstream), info.principal);
    const { sealed: _sealed, ...shown } = stored;
    return shown;
  }

  /** The grant with its tokens as stored (possibly expired), or undefined. */
  async get(upstream: string, principal: string): Promise<Grant | undefined> {
    const raw = await this.store.get(grantKey(upstream, principal));
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as StoredGrant;
    let tokens: GrantTokens;
    try {
      tokens = JSON.parse(this.cipher.open(stored.sealed, grantSlot(upstream, principal))) as GrantTokens;
    } catch (err) {
      if (!(err instanceof VaultKeyError)) throw err;
      // A grant no configured key opens is as good as absent: the principal connects again.
      this.log.warn({ upstream, principal, reason: err.message }, 'vault grant unreadable');
      return undefined;
    }
    const { sealed, ...info } = stored;
    const grant: Grant = { ...info, tokens };
    if (VaultCipher.keyIdOf(sealed) !== this.cipher.currentKeyId) {
      await this.store.set(
        grantKey(upstream, principal),
        JSON.stringify({ ...stored, sealed: this.cipher.seal(JSON.stringify(tokens), grantSlot(upstream, principal)) } satisfies StoredGrant),
      );
    }
    return grant;
  }

  async delete(upstream: string, principal: string): Promise<void> {
    await this.store.del([grantKey(upstream, principal)]);
    await this.store.setRemove(indexKey(upstream), principal);
  }

  /** Who is connected to an upstream (never the tokens). */
  async list(upstream: string): Promise<GrantInfo[]> {
    const out: GrantInfo[] = [];
    for (const principal of (await this.store.setMembers(indexKey(upstream))).sort()) {
      const raw = await this.store.get(grantKey(upstream, principal));
      if (!raw) {
        await this.store.setRemove(indexKey(upstream), principal);
        continue;
      }
      const { sealed: _sealed, ...info } = JSON.parse(raw) as StoredGrant;
      out.push(info);
    }
    return out;
  }

  /**
   * A grant whose access token is good for at least the refresh margin: refreshed through `refresh` when it is about to
   * expire, by one caller across every instance (the others wait for its result). Undefined when there is no grant or
   * the authorization server refused the refresh (the grant is then deleted).
   */
  async fresh(upstream: string, principal: string, refresh: Refresher): Promise<Grant | undefined> {
    const grant = await this.get(upstream, principal);
    if (!grant || !this.due(grant)) return grant;
    const key = grantKey(upstream, principal);
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.refreshOnce(upstream, principal, refresh).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  private due(grant: Grant): boolean {
    return grant.expires_at !== undefined && grant.expires_at - REFRESH_SKEW_MS <= this.now();
  }

  private async refreshOnce(upstream: string, principal: string, refresh: Refresher): Promise<Grant | undefined> {
    const lock = lockKey(upstream, principal);
    for (let wait = LOCK_POLL_MIN_MS; ; wait = Math.min(LOCK_POLL_MAX_MS, wait * 2)) {
      // Another instance may have refreshed while this one waited: re-read before deciding.
      const grant = await this.get(upstream, principal);
      if (!grant || !this.due(grant)) return grant;
      if (await this.store.add(lock, this.instance, LOCK_TTL_S)) {
        try {
          return await this.refreshLocked(grant, refresh);
        } finally {
          await this.store.del([lock]);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async refreshLocked(grant: Grant, refresh: Refresher): Promise<Grant | undefined> {
    if (!grant.tokens.refresh_token) {
      // Nothing to renew with: an expired token without a refresh token means connecting again.
      if (grant.expires_at !== undefined && grant.expires_at <= this.now()) {
        await this.delete(grant.upstream, grant.principal);
        return undefined;
      }
      return grant;
    }
    try {
      const renewed = await refresh(grant);
      const tokens: GrantTokens = { ...renewed.tokens, refresh_token: renewed.tokens.refresh_token ?? grant.tokens.refresh_token };
      const info = await this.put({
        upstream: grant.upstream,
        principal: grant.principal,
        connected_at: grant.connected_at,
        ...(grant.subject !== undefined ? { subject: grant.subject } : {}),
        ...((renewed.scope ?? grant.scope) !== undefined ? { scope: renewed.scope ?? grant.scope } : {}),
        ...(renewed.expires_at !== undefined ? { expires_at: renewed.expires_at } : {}),
        tokens,
      });
      return { ...info, tokens };
    } catch (err) {
      const { tokens: _tokens, ...info } = grant;
      this.onRefreshFailure?.(info, err instanceof Error ? err.message.slice(0, 200) : 'refresh failed');
      if (err instanceof GrantRevokedError) {
        await this.delete(grant.upstream, grant.principal);
        return undefined;
      }
      // A transient failure (network, server error): the old token serves while it is still valid.
      if (grant.expires_at !== undefined && grant.expires_at > this.now()) return grant;
      throw err;
    }
  }

  /**
   * A short-lived, single-use value (a connect ticket, a flow waiting for the browser's return), sealed and stored
   * under a hash of its id: the store never holds an id that would redeem it.
   */
  async putOnce(kind: string, id: string, value: string, ttlS: number): Promise<void> {
    const slot = `${kind}\0${id}`;
    await this.store.set(onceKey(kind, id), this.cipher.seal(value, slot), ttlS);
  }

  /** Reads and deletes a value of putOnce (atomically: of two instances racing, one gets it). */
  async takeOnce(kind: string, id: string): Promise<string | undefined> {
    if (id.length > 200) return undefined;
    const sealed = await this.store.take(onceKey(kind, id));
    if (!sealed) return undefined;
    try {
      return this.cipher.open(sealed, `${kind}\0${id}`);
    } catch {
      return undefined;
    }
  }

  /** The upstream's tool list as an operator's login last saw it (not secret: names, schemas, annotations), and when. */
  async putTools(upstream: string, tools: unknown[]): Promise<void> {
    await this.store.set(`tools:${upstream}`, JSON.stringify({ listed_at: this.now(), tools } satisfies ListedTools));
  }

  async getTools(upstream: string): Promise<ListedTools | undefined> {
    const raw = await this.store.get(`tools:${upstream}`);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as ListedTools | unknown[];
    // Written before the time was kept: a bare array.
    return Array.isArray(parsed) ? { listed_at: 0, tools: parsed } : parsed;
  }

  async putClient(upstream: string, client: UpstreamClient): Promise<void> {
    const { client_secret, ...rest } = client;
    const stored: StoredClient = { ...rest, ...(client_secret ? { sealed_secret: this.cipher.seal(client_secret, clientSlot(upstream)) } : {}) };
    await this.store.set(clientKey(upstream), JSON.stringify(stored));
  }

  async getClient(upstream: string): Promise<UpstreamClient | undefined> {
    const raw = await this.store.get(clientKey(upstream));
    if (!raw) return undefined;
    const { sealed_secret, ...rest } = JSON.parse(raw) as StoredClient;
    if (!sealed_secret) return rest;
    try {
      return { ...rest, client_secret: this.cipher.open(sealed_secret, clientSlot(upstream)) };
    } catch (err) {
      if (!(err instanceof VaultKeyError)) throw err;
      return undefined; // registered again on the next connect
    }
  }
}
