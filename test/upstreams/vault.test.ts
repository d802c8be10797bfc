import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { testConfig } from '../helpers/config.js';
import { silentLog } from '../../src/log.js';
import { FileOAuthStore, RedisOAuthStore, type OAuthStore } from '../../src/oauth/store.js';
import { VaultCipher } from '../../src/upstreams/vault-cipher.js';
import { CredentialVault, GrantRevokedError, type Grant } from '../../src/upstreams/vault.js';
import { REDIS_URL, testConnection, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const secret = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;

/** Everything the store holds at rest, as one string: Redis values under the prefix, or every file under the dir. */
type AtRest = () => Promise<string>;

interface Backend {
  /** A store over the same data as every other store this backend opened (another instance, or a restart). */
  open(): Promise<OAuthStore>;
  atRest: AtRest;
  /** Whether two stores may be open at once (Redis: several instances; the file store has one owner). */
  shared: boolean;
}

function vaultContract(name: string, backend: () => Backend) {
  describe(`credential vault on ${name}`, () => {
    const principal = `key:${secret('p')}`;
    const upstream = `u${randomBytes(3).toString('hex')}`;

    it('keeps tokens sealed at rest, lists grants without them, and deletes', async () => {
      const b = backend();
      const store = await b.open();
      const vault = new CredentialVault(store, new VaultCipher([KEY_A]), silentLog);
      const tokens = { access_token: secret('at'), refresh_token: secret('rt'), token_type: 'Bearer' };
      const clientSecret = secret('cs');
      await vault.put({ upstream, principal, scope: 'mcp:read', expires_at: Date.now() + 3_600_000, tokens });
      await vault.putClient(upstream, { issuer: 'https://as.example', metadata: {}, resource: 'https://u.example/mcp', redirect_uri: 'https://hub.example/connect/callback', client_id: 'hub', client_secret: clientSecret });
      expect((await vault.get(upstream, principal))?.tokens).toEqual(tokens);
      expect((await vault.getClient(upstream))?.client_secret).toBe(clientSecret);
      const listed = await vault.list(upstream);
      expect(listed).toMatchObject([{ principal, scope: 'mcp:read' }]);
      expect(JSON.stringify(listed)).not.toContain(tokens.access_token);
      await store.close();

      const atRest = await b.atRest();
      expect(atRest).toContain(principal); // the grant is there...
      for (const s of [tokens.access_token, tokens.refresh_token, clientSecret]) expect(atRest).not.toContain(s); // ...sealed

      const again = new CredentialVault(await b.open(), new VaultCipher([KEY_A]), silentLog);
      expect((await again.get(upstream, principal))?.tokens).toEqual(tokens);
      await again.delete(upstream, principal);
      expect(await again.get(upstream, principal)).toBeUndefined();
      expect(await again.list(upstream)).toEqual([]);
      await again.close();
    });

    it('reads grants sealed with an older key after rotation, rewrites them with the new one, and refuses a moved value', async () => {
      const b = backend();
      const tokens = { access_token: secret('at') };
      const before = new CredentialVault(await b.open(), new VaultCipher([KEY_A]), silentLog);
      await before.put({ upstream, principal, tokens });
      await before.close();

      const rotatedStore = await b.open();
      const rotated = new CredentialVault(rotatedStore, new VaultCipher([KEY_B, KEY_A]), silentLog);
      expect((await rotated.get(upstream, principal))?.tokens).toEqual(tokens);
      // The value is now sealed with KEY_B: a vault that holds only KEY_B reads it.
      const raw = JSON.parse((await rotatedStore.get(`grant:${upstream}:${principal}`))!) as { sealed: string };
      expect(VaultCipher.keyIdOf(raw.sealed)).toBe(new VaultCipher([KEY_B]).currentKeyId);
      // Copying a sealed value into another principal's slot does not open it there.
      await rotatedStore.set(`grant:${upstream}:key:intruder`, JSON.stringify({ ...raw, principal: 'key:intruder' }));
      expect(await rotated.get(upstream, 'key:intruder')).toBeUndefined();
      await rotated.delete(upstream, 'key:intruder');
      await rotated.close();

      const onlyNew = new CredentialVault(await b.open(), new VaultCipher([KEY_B]), silentLog);
      expect((await onlyNew.get(upstream, principal))?.tokens).toEqual(tokens);
      // A vault without the key that sealed a grant treats it as absent (the principal connects again).
      await onlyNew.close();
      const stranger = new CredentialVault(await b.open(), new VaultCipher([randomBytes(32)]), silentLog);
      expect(await stranger.get(upstream, principal)).toBeUndefined();
      await stranger.delete(upstream, principal);
      await stranger.close();
    });

    it('refreshes a grant about to expire once, however many callers (and instances) ask at the same time', async () => {
      const b = backend();
      const stores = b.shared ? [await b.open(), await b.open()] : [await b.open()];
      const vaults = stores.map((s) => new CredentialVault(s, new VaultCipher([KEY_A]), silentLog));
      await vaults[0]!.put({ upstream, principal, expires_at: Date.now() + 1_000, tokens: { access_token: secret('old'), refresh_token: secret('rt') } });
      const renewed = secret('new');
      let calls = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let started!: () => void;
      const refreshing = new Promise<void>((r) => (started = r));
      const refresher = async (g: Grant) => {
        calls += 1;
        expect(g.tokens.refresh_token).toMatch(/^rt-/);
        started();
        await gate;
        return { tokens: { access_token: renewed }, expires_at: Date.now() + 3_600_000 };
      };
      const asks = [0, 1, 0, 1].map((i) => vaults[i % vaults.length]!.fresh(upstream, principal, refresher));
      await refreshing;
      release();
      const got = await Promise.all(asks);
      expect(calls).toBe(1);
      for (const g of got) expect(g?.tokens.access_token).toBe(renewed);
      // The refresh token the server did not replace is kept.
      expect((await vaults[0]!.get(upstream, principal))?.tokens.refresh_token).toMatch(/^rt-/);

      // The authorization server refusing the refresh token ends the grant.
      await vaults[0]!.put({ upstream, principal, expires_at: Date.now() - 1, tokens: { access_token: secret('old'), refresh_token: secret('rt') } });
      expect(
        await vaults[0]!.fresh(upstream, principal, async () => {
          throw new GrantRevokedError('invalid_grant');
        }),
      ).toBeUndefined();
      expect(await vaults[0]!.get(upstream, principal)).toBeUndefined();
      for (const v of vaults) await v.close();
    });

    it('serves a still-valid token when the server cannot renew it, and fails (keeping the grant) once it has expired', async () => {
      const vault = new CredentialVault(await backend().open(), new VaultCipher([KEY_A]), silentLog);
      const failures: string[] = [];
      vault.onRefreshFailure = (g, reason) => failures.push(`${g.principal}: ${reason}`);
      const unreachable = async (): Promise<never> => {
        throw new Error('connect ECONNREFUSED');
      };
      const old = secret('old');
      await vault.put({ upstream, principal, expires_at: Date.now() + 30_000, tokens: { access_token: old, refresh_token: secret('rt') } });
      expect((await vault.fresh(upstream, principal, unreachable))?.tokens.access_token).toBe(old);
      await vault.put({ upstream, principal, expires_at: Date.now() - 1, tokens: { access_token: old, refresh_token: secret('rt') } });
      await expect(vault.fresh(upstream, principal, unreachable)).rejects.toThrow(/ECONNREFUSED/);
      expect(await vault.get(upstream, principal)).toBeDefined();
      expect(failures).toHaveLength(2);
      expect(failures.join('\n')).not.toContain(old);
      await vault.delete(upstream, principal);
      await vault.close();
    });
  });
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'omni-vault-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
vaultContract('DATA_DIR', () => ({
  shared: false,
  open: async () => new FileOAuthStore(dataDir, silentLog, 'vault'),
  atRest: async () => {
    const dir = path.join(dataDir, 'vault');
    return readdirSync(dir)
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
  },
}));

describe.skipIf(!REDIS_URL)('redis', () => {
  warnIfNoRedis('the Redis vault contract');
  const prefix = `omni-hub-test:vault:${randomBytes(4).toString('hex')}:`;
  const admin = useRedisAdmin(prefix);
  vaultContract('Redis', () => ({
    shared: true,
    open: async () => {
      const connection = testConnection().acquire();
      await connection.waitUntilReady(5_000);
      return new RedisOAuthStore(connection, prefix);
    },
    atRest: async () => {
      const keys = await admin.client.keys(`${prefix}*`);
      const values = await Promise.all(
        keys.map(async (k) => ((await admin.client.type(k)) === 'set' ? (await admin.client.smembers(k)).join(' ') : ((await admin.client.get(k)) ?? ''))),
      );
      return values.join('\n');
    },
  }));
});

describe('VAULT_KEY', () => {
  const upstreams = JSON.stringify([{ name: 'gh', url: 'https://example.com/mcp', auth: 'user' }]);
  it('is required when an upstream uses auth "user", and must be base64 of 32 bytes', () => {
    expect(() => testConfig({ UPSTREAMS: upstreams })).toThrow(ConfigError);
    expect(() => testConfig({ UPSTREAMS: upstreams })).toThrow(/missing VAULT_KEY: upstream "gh" uses "auth": "user"/);
    expect(() => testConfig({ UPSTREAMS: upstreams, VAULT_KEY: randomBytes(16).toString('base64') })).toThrow(/invalid VAULT_KEY/);
    const config = testConfig({ UPSTREAMS: upstreams, VAULT_KEY: `${KEY_B.toString('base64')},${KEY_A.toString('base64')}` });
    expect(config.vaultKeys.map((k) => k.toString('hex'))).toEqual([KEY_B.toString('hex'), KEY_A.toString('hex')]);
  });
  it('refuses "auth": "user" on a stdio upstream or beside client credentials', () => {
    const key = KEY_A.toString('base64');
    expect(() => testConfig({ VAULT_KEY: key, UPSTREAMS: JSON.stringify([{ name: 'fs', command: 'x', auth: 'user' }]) })).toThrow(/"auth": "user" applies to a "url" upstream/);
    expect(() =>
      testConfig({ VAULT_KEY: key, UPSTREAMS: JSON.stringify([{ name: 'gh', url: 'https://e.com/mcp', user_oauth: { client_id: 'x' } }]) }),
    ).toThrow(/"user_oauth" only applies/);
  });
});
