import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../helpers/config.js';
import {
  CLOUD_PLATFORM_SCOPE,
  clearGoogleTokenCache,
  googleAccessToken,
  googleAuthClient,
  googleCredentialSource,
  googleMissingConfig,
} from '../../../src/adapters/google/credentials.js';
import { HubError } from '../../../src/tools/errors.js';
import { startFakeGoogleToken, startFakeMetadataServer, type FakeGoogleToken } from '../../fakes/google-token.js';

const GMAIL_SCOPE = 'https://www.googleapis.com/auth/gmail.send';
let tokens: FakeGoogleToken;
let dir: string;

beforeAll(async () => {
  tokens = await startFakeGoogleToken();
  dir = mkdtempSync(path.join(tmpdir(), 'hub-google-creds-'));
});
afterAll(() => tokens.close());
beforeEach(() => {
  clearGoogleTokenCache();
  tokens.grants.length = 0;
  tokens.expiresIn = 3600;
  tokens.refuseWith = undefined;
  tokens.failStatus = undefined;
});

async function authError(p: Promise<unknown>): Promise<HubError> {
  const err = await p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}

describe('googleCredentialSource / googleMissingConfig', () => {
  it('follows the chain: token, then key, then ADC only on Google Cloud', () => {
    expect(googleCredentialSource(testConfig({ GOOGLE_OAUTH_TOKEN: 't', GOOGLE_SERVICE_ACCOUNT_JSON: '/k.json' }))).toBe('oauth_token');
    expect(googleCredentialSource(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: '/k.json' }))).toBe('service_account');
    expect(googleCredentialSource(testConfig({ GOOGLE_APPLICATION_CREDENTIALS: '/k.json' }))).toBe('service_account');
    expect(googleCredentialSource(testConfig({ K_SERVICE: 'omni-hub' }))).toBe('adc');
    expect(googleCredentialSource(testConfig())).toBeNull();
  });

  it('names the variables to set, with the API key only where keys are accepted', () => {
    expect(googleMissingConfig(testConfig())).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(googleMissingConfig(testConfig(), { apiKeyAccepted: true })).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_API_KEY');
    expect(googleMissingConfig(testConfig({ GOOGLE_API_KEY: 'k' }), { apiKeyAccepted: true })).toBeNull();
    expect(googleMissingConfig(testConfig({ GOOGLE_API_KEY: 'k' }))).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(googleMissingConfig(testConfig({ GOOGLE_OAUTH_TOKEN: 't' }))).toBeNull();
  });
});

describe('googleAccessToken', () => {
  it('returns GOOGLE_OAUTH_TOKEN as is', async () => {
    expect(await googleAccessToken(testConfig({ GOOGLE_OAUTH_TOKEN: 'ya29.given' }), [CLOUD_PLATFORM_SCOPE])).toBe('ya29.given');
  });

  it('exchanges a signed JWT assertion at the key token_uri (inline key) and caches the token', async () => {
    const key = tokens.createKey();
    const config = testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(key) });
    const first = await googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]);
    const second = await googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]);
    expect(first).toMatch(/^ya29\.fake-/);
    expect(second).toBe(first);
    expect(tokens.grants).toHaveLength(1);
    expect(tokens.grants[0]).toMatchObject({ iss: key.client_email, scope: CLOUD_PLATFORM_SCOPE, aud: tokens.tokenUri });
    expect(tokens.isValidToken(first)).toBe(true);
  });

  it('reads a key file from GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_APPLICATION_CREDENTIALS', async () => {
    const file = path.join(dir, 'sa.json');
    writeFileSync(file, JSON.stringify(tokens.createKey()));
    const a = await googleAccessToken(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: file }), [CLOUD_PLATFORM_SCOPE]);
    const b = await googleAccessToken(testConfig({ GOOGLE_APPLICATION_CREDENTIALS: file }), [GMAIL_SCOPE]);
    expect(tokens.isValidToken(a) && tokens.isValidToken(b)).toBe(true);
    expect(tokens.grants.map((g) => g.scope)).toEqual([CLOUD_PLATFORM_SCOPE, GMAIL_SCOPE]);
  });

  it('caches per scope set and shares one refresh between concurrent callers', async () => {
    const config = testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) });
    const results = await Promise.all(Array.from({ length: 5 }, () => googleAccessToken(config, [CLOUD_PLATFORM_SCOPE])));
    expect(new Set(results).size).toBe(1);
    expect(tokens.grants).toHaveLength(1);
    const other = await googleAccessToken(config, [GMAIL_SCOPE, CLOUD_PLATFORM_SCOPE]);
    const sameSetOtherOrder = await googleAccessToken(config, [CLOUD_PLATFORM_SCOPE, GMAIL_SCOPE]);
    expect(other).not.toBe(results[0]);
    expect(sameSetOtherOrder).toBe(other);
    expect(tokens.grants).toHaveLength(2);
    expect(tokens.grants[1]!.scope).toBe(`${GMAIL_SCOPE} ${CLOUD_PLATFORM_SCOPE}`);
  });

  it('refreshes a token that is within the refresh margin of expiry', async () => {
    // Tokens living 30 s are always inside the 60 s margin, so each call must fetch a fresh one.
    tokens.expiresIn = 30;
    const config = testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) });
    const a = await googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]);
    const b = await googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]);
    expect(a).not.toBe(b);
    expect(tokens.grants).toHaveLength(2);
  });

  it('reports a refused key as auth_error naming the source, never the key', async () => {
    tokens.refuseWith = 'invalid_grant';
    const key = tokens.createKey();
    const err = await authError(googleAccessToken(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(key) }), [CLOUD_PLATFORM_SCOPE]));
    expect(err.code).toBe('auth_error');
    expect(err.message).toContain('GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(err.message).toContain('invalid_grant');
    expect(err.details).toMatchObject({ upstream_status: 400 });
    expect(JSON.stringify(err.toJSON())).not.toContain('PRIVATE KEY');
  });

  it('reports a failing token endpoint as upstream_error after one retry', async () => {
    tokens.failStatus = 503;
    const before = tokens.requests.length;
    const err = await authError(googleAccessToken(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) }), [CLOUD_PLATFORM_SCOPE]));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('token endpoint failed (HTTP 503');
    expect(tokens.requests.length - before).toBe(2);
  });

  it('rejects a key signed by another private key (signature checked by the fake)', async () => {
    const key = tokens.createKey();
    const impostor = { ...tokens.createKey(), client_email: key.client_email };
    const err = await authError(googleAccessToken(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(impostor) }), [CLOUD_PLATFORM_SCOPE]));
    expect(err.code).toBe('auth_error');
    expect(err.message).toContain('Invalid JWT Signature');
  });

  it('reports unreadable files, bad JSON and non-keys as auth_error', async () => {
    const missing = await authError(googleAccessToken(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: path.join(dir, 'nope.json') }), [CLOUD_PLATFORM_SCOPE]));
    expect(missing).toMatchObject({ code: 'auth_error' });
    expect(missing.message).toMatch(/GOOGLE_SERVICE_ACCOUNT_JSON: cannot read key file .*nope\.json \(ENOENT\)/);

    const badJson = await authError(googleAccessToken(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: '{"private_key": "secret-material", ' }), [CLOUD_PLATFORM_SCOPE]));
    expect(badJson.code).toBe('auth_error');
    expect(badJson.message).toContain('not valid JSON');
    expect(badJson.message).not.toContain('secret-material');

    const file = path.join(dir, 'not-a-key.json');
    writeFileSync(file, JSON.stringify({ hello: 'world' }));
    const notKey = await authError(googleAccessToken(testConfig({ GOOGLE_APPLICATION_CREDENTIALS: file }), [CLOUD_PLATFORM_SCOPE]));
    expect(notKey.code).toBe('auth_error');
    expect(notKey.message).toContain('GOOGLE_APPLICATION_CREDENTIALS');

    const badPem = await authError(
      googleAccessToken(testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify({ ...tokens.createKey(), private_key: 'not a pem' }) }), [CLOUD_PLATFORM_SCOPE]),
    );
    expect(badPem.code).toBe('auth_error');
    expect(tokens.grants).toHaveLength(0);
  });

  it('answers timeout when the caller gives up while the token is being fetched', async () => {
    const config = testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) });
    const err = await authError(googleAccessToken(config, [CLOUD_PLATFORM_SCOPE], AbortSignal.abort()));
    expect(err.code).toBe('timeout');
  });

  it('is not_configured without any source', async () => {
    const err = await authError(googleAccessToken(testConfig(), [CLOUD_PLATFORM_SCOPE]));
    expect(err).toMatchObject({ code: 'not_configured', details: { variable: 'GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON' } });
  });
});

describe('Application Default Credentials (metadata server)', () => {
  it('asks the metadata server with Metadata-Flavor and the scopes, and caches the token', async () => {
    const metadata = await startFakeMetadataServer();
    try {
      const config = testConfig({ K_SERVICE: 'omni-hub', GCE_METADATA_HOST: metadata.host });
      const a = await googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]);
      const b = await googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]);
      expect(a).toBe(metadata.issued[0]);
      expect(b).toBe(a);
      expect(metadata.requests).toHaveLength(1);
      expect(metadata.requests[0]!.url).toBe(`/computeMetadata/v1/instance/service-accounts/default/token?scopes=${encodeURIComponent(CLOUD_PLATFORM_SCOPE)}`);
      expect(metadata.requests[0]!.headers['metadata-flavor']).toBe('Google');
    } finally {
      await metadata.close();
    }
  });

  it('reports a refusing or unreachable metadata server as auth_error', async () => {
    const metadata = await startFakeMetadataServer();
    metadata.failWith = 500;
    const config = testConfig({ K_SERVICE: 'omni-hub', GCE_METADATA_HOST: metadata.host });
    const refused = await authError(googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]));
    expect(refused.code).toBe('auth_error');
    expect(refused.message).toContain('metadata server refused a token (HTTP 500)');
    await metadata.close();
    clearGoogleTokenCache();
    const unreachable = await authError(googleAccessToken(config, [CLOUD_PLATFORM_SCOPE]));
    expect(unreachable.code).toBe('auth_error');
    expect(unreachable.message).toContain('metadata server is unreachable');
  });
});

describe('googleAuthClient', () => {
  it('gives client libraries the chain token as a Bearer header', async () => {
    const config = testConfig({ GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) });
    const client = googleAuthClient(config, [CLOUD_PLATFORM_SCOPE]);
    const headers = await client.getRequestHeaders();
    const token = (await client.getAccessToken()).token!;
    expect(headers.get('authorization')).toBe(`Bearer ${token}`);
    expect(tokens.isValidToken(token)).toBe(true);
    expect(tokens.grants).toHaveLength(1);
  });
});
