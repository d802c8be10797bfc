import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

/**
 * Whatever a client sends to the authorization server — form or JSON bodies, repeated or missing parameters, odd
 * strings, bogus tokens and clients — the answer is a 2xx/3xx/4xx, never a 5xx, and Object.prototype stays clean.
 * Bounded: a fixed number of runs per endpoint.
 */
const RUNS = 60;
const PARAMS = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id', 'client_secret', 'refresh_token', 'scope', 'resource', 'token', 'token_type_hint', 'response_type', 'code_challenge', 'code_challenge_method', 'state', 'tx', 'csrf', 'key', 'level', 'action', '__proto__', 'constructor'];
const value = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('authorization_code', 'refresh_token', 'S256', 'plain', 'code', 'tools:low', 'tools:critical admin', 'https://evil.example/cb', 'http://127.0.0.1:9/callback', 'oha_x', 'ohr_x', 'approve', 'deny', 'oidc', TEST_KEY, 'javascript:alert(1)', ''),
);
const form = fc.array(fc.tuple(fc.constantFrom(...PARAMS), value), { maxLength: 8 });
const encode = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();

describe('authorization server fuzzing', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ RATE_LIMIT_PER_MINUTE: '100000' }, { systems: [fixtureSystem] });
  });
  afterAll(() => hub.close());

  const ok = (status: number) => expect(status).toBeLessThan(500);

  it('/token and /revoke with random forms and Basic headers', async () => {
    await fc.assert(
      fc.asyncProperty(form, fc.option(fc.string({ maxLength: 40 })), fc.constantFrom('/token', '/revoke'), async (pairs, basic, url) => {
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
        if (basic !== null) headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
        ok((await hub.app.inject({ method: 'POST', url, headers, payload: encode(pairs) })).statusCode);
      }),
      { numRuns: RUNS },
    );
  });

  it('/authorize (GET query, POST form) and /authorize/callback', async () => {
    await fc.assert(
      fc.asyncProperty(form, async (pairs) => {
        ok((await hub.app.inject({ method: 'GET', url: `/authorize?${encode(pairs)}` })).statusCode);
        ok((await hub.app.inject({ method: 'GET', url: `/authorize/callback?${encode(pairs)}` })).statusCode);
        ok((await hub.app.inject({ method: 'POST', url: '/authorize', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'omni_oauth_csrf=x' }, payload: encode(pairs) })).statusCode);
      }),
      { numRuns: RUNS },
    );
  });

  it('/register with random JSON', async () => {
    const meta = fc.record(
      {
        redirect_uris: fc.oneof(fc.array(value, { maxLength: 12 }), fc.jsonValue()),
        client_name: fc.oneof(value, fc.jsonValue()),
        grant_types: fc.oneof(fc.array(value, { maxLength: 3 }), fc.jsonValue()),
        token_endpoint_auth_method: fc.oneof(value, fc.jsonValue()),
        scope: fc.oneof(value, fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(meta, fc.jsonValue()), async (body) => {
        ok((await hub.app.inject({ method: 'POST', url: '/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })).statusCode);
      }),
      { numRuns: RUNS },
    );
    for (const raw of ['{"__proto__":{"polluted":"yes"},"redirect_uris":["https://a.example/cb"]}', '{', '[]', 'null', '"x"']) {
      ok((await hub.app.inject({ method: 'POST', url: '/register', headers: { 'content-type': 'application/json' }, payload: raw })).statusCode);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
