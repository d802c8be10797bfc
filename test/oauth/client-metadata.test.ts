import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { hasOpenssl, selfSignedCert } from '../helpers/self-signed.js';
import { authorizeUrl, pkce, postForm, submitConsent } from './helpers.js';

/**
 * Client ID Metadata Documents: the client id is an https URL the hub fetches. A real HTTPS server (self-signed
 * certificate made with openssl, trusted through the hub's `ca` option) serves the documents; the name
 * `client.example` resolves to it through the resolver option, and only its address is allowed.
 */
if (!hasOpenssl) console.warn('Client ID Metadata Document tests skipped: openssl is not installed (it makes the test certificate)');

describe.skipIf(!hasOpenssl)('Client ID Metadata Documents', () => {
  let https: Server;
  let hub: TestHub;
  let base: string;
  let origin: string;
  const redirect = 'http://127.0.0.1:9/callback';

  beforeAll(async () => {
    const { key, cert } = selfSignedCert(['client.example', 'private.example']);
    https = createServer({ key, cert }, (req, res) => {
      const self = `${origin}${req.url}`;
      const doc = (extra: Record<string, unknown> = {}) => JSON.stringify({ client_id: self, client_name: 'CIMD client', redirect_uris: [redirect], token_endpoint_auth_method: 'none', ...extra });
      const send = (status: number, body: string, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
      if (req.url === '/clients/good.json') return send(200, doc());
      if (req.url === '/clients/redirect.json') return send(302, '', { location: '/clients/good.json' });
      if (req.url === '/clients/big.json') return send(200, doc({ padding: 'x'.repeat(100_000) }));
      if (req.url === '/clients/mismatch.json') return send(200, JSON.stringify({ client_id: 'https://other.example/c.json', redirect_uris: [redirect] }));
      if (req.url === '/clients/secret.json') return send(200, doc({ token_endpoint_auth_method: 'client_secret_basic' }));
      if (req.url === '/clients/not-json.json') return send(200, '<html>');
      return send(404, '{}');
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    const port = (https.address() as { port: number }).port;
    origin = `https://client.example:${port}`;
    hub = await testHub({}, {
      systems: [fixtureSystem],
      oauth: {
        clients: {
          resolve: async (host) => (host === 'client.example' ? ['127.0.0.1'] : host === 'private.example' ? ['10.1.2.3'] : []),
          addressAllowed: (ip) => ip === '127.0.0.1',
          ca: cert,
        },
      },
    });
    base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await hub?.close();
    https?.close();
  });

  it('is advertised, and a URL client id completes the flow with the document\'s redirect URI', async () => {
    const meta = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta.client_id_metadata_document_supported).toBe(true);
    const clientId = `${origin}/clients/good.json`;
    const { verifier, challenge } = pkce();
    const consent = await submitConsent(authorizeUrl(base, { client_id: clientId, redirect_uri: redirect }, challenge), { key: TEST_KEY, action: 'approve' });
    expect(consent.status, consent.body).toBe(303);
    const code = new URL(consent.location!).searchParams.get('code')!;
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: clientId });
    expect(token.status).toBe(200);
    const page = await fetch(authorizeUrl(base, { client_id: clientId, redirect_uri: redirect }, challenge));
    expect(await page.text()).toContain('CIMD client');
    // The document's redirect URIs are exact too.
    const other = await fetch(authorizeUrl(base, { client_id: clientId, redirect_uri: 'https://evil.example/cb' }, challenge), { redirect: 'manual' });
    expect(other.status).toBe(400);
    expect(other.headers.get('location')).toBeNull();
  });

  it('refuses redirects, private addresses, oversize, foreign or secret-bearing documents with a page, never a redirect', async () => {
    const { challenge } = pkce();
    const cases: [string, RegExp][] = [
      [`${origin}/clients/redirect.json`, /redirects are not followed/],
      [`https://private.example:${new URL(origin).port}/clients/good.json`, /private address/],
      ['https://10.0.0.8/clients/good.json', /private address/],
      [`${origin}/clients/big.json`, /larger than/],
      [`${origin}/clients/mismatch.json`, /client_id must equal the URL/],
      [`${origin}/clients/secret.json`, /no secret can be shared/],
      [`${origin}/clients/not-json.json`, /not JSON/],
      [`${origin}/clients/missing.json`, /HTTP 404/],
      ['https://nowhere.example/clients/x.json', /does not resolve/],
    ];
    for (const [clientId, why] of cases) {
      const res = await fetch(authorizeUrl(base, { client_id: clientId, redirect_uri: redirect }, challenge), { redirect: 'manual' });
      const body = await res.text();
      expect({ clientId, status: res.status, location: res.headers.get('location') }).toEqual({ clientId, status: 400, location: null });
      expect(body).toMatch(why);
    }
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code: 'x', redirect_uri: redirect, code_verifier: pkce().verifier, client_id: `${origin}/clients/redirect.json` });
    expect(token).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });
});
