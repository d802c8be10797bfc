import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { hasOpenssl, selfSignedCert } from '../helpers/self-signed.js';
import { authorizeUrl, pkce, postForm, register, submitConsent } from './helpers.js';

/**
 * The clients people actually connect, with the client documents they publish: ChatGPT's Client ID Metadata Document
 * (private_key_jwt with a jwks_uri, a redirect on its own domain), Claude Code's (public, loopback redirects without a
 * port, used with an ephemeral one), and VS Code's dynamic registration (a native app whose default port is busy).
 * A real HTTPS server (certificate made with openssl, trusted through the hub's `ca` option) stands in for
 * chatgpt.example and claude.example; each flow runs from the 401 challenge to a `tools/call` with the SDK client.
 */
if (!hasOpenssl) console.warn('real client shape tests skipped: openssl is not installed (it makes the test certificate)');

/** A port that is free right now: what a native app's loopback listener gets when its default is taken. */
async function ephemeralPort(): Promise<number> {
  const s = createHttpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(!hasOpenssl)('ChatGPT, Claude Code and VS Code shaped clients', () => {
  let https: Server;
  let hub: TestHub;
  let base: string;
  let port: number;
  let chatgptKey: CryptoKey;
  let chatgptJwk: JWK;
  let chatgptId: string;
  let claudeId: string;
  const chatgptRedirect = () => `https://chatgpt.example:${port}/connector_platform_oauth_redirect`;

  beforeAll(async () => {
    const { key, cert } = selfSignedCert(['chatgpt.example', 'claude.example']);
    const pair = await generateKeyPair('RS256');
    chatgptKey = pair.privateKey;
    chatgptJwk = { ...(await exportJWK(pair.publicKey)), kid: 'chatgpt-1', use: 'sig', alg: 'RS256' };
    https = createServer({ key, cert }, (req, res) => {
      const host = req.headers.host ?? '';
      const send = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (host.startsWith('chatgpt.example') && req.url === '/oauth/client-metadata.json') {
        return send({
          client_id: chatgptId,
          client_name: 'ChatGPT',
          client_uri: 'https://chatgpt.com',
          logo_uri: 'https://chatgpt.com/favicon.ico',
          redirect_uris: [chatgptRedirect()],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: `https://chatgpt.example:${port}/oauth/jwks.json`,
          application_type: 'web',
        });
      }
      if (host.startsWith('chatgpt.example') && req.url === '/oauth/jwks.json') return send({ keys: [chatgptJwk] });
      if (host.startsWith('claude.example') && req.url === '/oauth/claude-code-client-metadata') {
        return send({
          client_id: claudeId,
          client_name: 'Claude Code',
          client_uri: 'https://claude.ai',
          redirect_uris: ['http://localhost/callback', 'http://127.0.0.1/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        });
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    port = (https.address() as { port: number }).port;
    chatgptId = `https://chatgpt.example:${port}/oauth/client-metadata.json`;
    claudeId = `https://claude.example:${port}/oauth/claude-code-client-metadata`;
    hub = await testHub({}, {
      systems: [fixtureSystem],
      oauth: { clients: { resolve: async (h) => (h === 'chatgpt.example' || h === 'claude.example' ? ['127.0.0.1'] : []), addressAllowed: (ip) => ip === '127.0.0.1', ca: cert } },
    });
    base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await hub?.close();
    https?.close();
  });

  /** The scope a spec-following client asks for: the one the 401 challenge names. */
  async function challengedScope(): Promise<string> {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    return /scope="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '')![1]!;
  }

  /** Consent with the hub key, then a `tools/call` through the SDK client with the token. */
  async function consentAndCode(clientId: string, redirect: string, challenge: string, extra: Record<string, string> = {}): Promise<string> {
    const consent = await submitConsent(authorizeUrl(base, { client_id: clientId, redirect_uri: redirect }, challenge, { scope: await challengedScope(), ...extra }), { key: TEST_KEY, action: 'approve' });
    expect(consent.status, consent.body).toBe(303);
    const back = new URL(consent.location!);
    expect(back.origin + back.pathname).toBe(new URL(redirect).origin + new URL(redirect).pathname);
    return back.searchParams.get('code')!;
  }

  async function callTool(accessToken: string): Promise<void> {
    const client = new Client({ name: 'real-client', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } }));
    const result = await client.callTool({ name: 'fixture_echo', arguments: { message: 'connected' } });
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.structuredContent)).toContain('CONNECTED');
    await client.close();
  }

  const assertion = (claims: { aud?: string; jti?: string; key?: CryptoKey; exp?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'chatgpt-1' })
      .setIssuer(chatgptId)
      .setSubject(chatgptId)
      .setAudience(claims.aud ?? `${base}/token`)
      .setJti(claims.jti ?? randomUUID())
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '60s')
      .sign(claims.key ?? chatgptKey);

  const jwtAuth = async (extra: Record<string, string> = {}) => ({
    client_id: chatgptId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion(),
    ...extra,
  });

  it("ChatGPT's metadata document: private_key_jwt at /token, single-use assertions, refresh with a retried answer, tools/call", async () => {
    const { verifier, challenge } = pkce();
    // The consent page names the document's host as the client, not only the name it gives itself.
    const page = await (await fetch(authorizeUrl(base, { client_id: chatgptId, redirect_uri: chatgptRedirect() }, challenge))).text();
    expect(page).toContain(`Authorize chatgpt.example:${port} to use Omni Hub`);
    const code = await consentAndCode(chatgptId, chatgptRedirect(), challenge);

    // No assertion: a private_key_jwt client cannot fall back to "none".
    const bare = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: chatgptRedirect(), code_verifier: verifier, client_id: chatgptId });
    expect(bare).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    // Signed by another key, or for another audience: refused, and the code is not spent by it.
    const other = await generateKeyPair('RS256');
    for (const bad of [await assertion({ key: other.privateKey }), await assertion({ aud: 'https://elsewhere.example/token' }), await assertion({ exp: '1h' })]) {
      const refused = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: chatgptRedirect(), code_verifier: verifier, client_id: chatgptId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: bad });
      expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    }
    const auth = await jwtAuth();
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: chatgptRedirect(), code_verifier: verifier, ...auth });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.scope).toBe('tools:low');
    await callTool(token.body.access_token as string);

    // The same assertion (same jti) again is a replay.
    const replay = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: token.body.refresh_token as string, ...auth });
    expect(replay).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(replay.body.error_description).toContain('jti');

    // A refresh whose answer was lost is retried with the same refresh token: the same new pair comes back.
    const refreshed = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: token.body.refresh_token as string, ...(await jwtAuth()) });
    expect(refreshed.status).toBe(200);
    const retried = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: token.body.refresh_token as string, ...(await jwtAuth()) });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(refreshed.body);
    await callTool(refreshed.body.access_token as string);

    // The issuer is an accepted audience too.
    const byIssuer = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token as string, client_id: chatgptId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion({ aud: base }) });
    expect(byIssuer.status).toBe(200);
    // Once the newer refresh token has been used, the first one is a reuse: the grant is revoked.
    const reuse = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: token.body.refresh_token as string, ...(await jwtAuth()) });
    expect(reuse.body.error).toBe('invalid_grant');
    const dead = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${byIssuer.body.access_token as string}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
    expect(dead.status).toBe(401);
  });

  it("an approved metadata-document client's later request errors go back to it (never a dead-end page)", async () => {
    const { challenge } = pkce();
    const res = await fetch(authorizeUrl(base, { client_id: chatgptId, redirect_uri: chatgptRedirect() }, challenge, { scope: 'tools:low admin' }), { redirect: 'manual' });
    expect(res.status).toBe(303);
    const u = new URL(res.headers.get('location')!);
    expect(u.searchParams.get('error')).toBe('invalid_scope');
  });

  it("Claude Code's metadata document with an ephemeral loopback port: consent, token without redirect mismatch, tools/call", async () => {
    for (const host of ['localhost', '127.0.0.1']) {
      const redirect = `http://${host}:${await ephemeralPort()}/callback`;
      const { verifier, challenge } = pkce();
      const code = await consentAndCode(claudeId, redirect, challenge);
      const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: claudeId });
      expect(token.status, JSON.stringify(token.body)).toBe(200);
      await callTool(token.body.access_token as string);
    }
    // The port is free, the rest is not: another path or host is still refused, with a page.
    const { challenge } = pkce();
    for (const wrong of [`http://localhost:${await ephemeralPort()}/other`, `http://127.0.0.2:${await ephemeralPort()}/callback`]) {
      const res = await fetch(authorizeUrl(base, { client_id: claudeId, redirect_uri: wrong }, challenge), { redirect: 'manual' });
      expect({ wrong, status: res.status, location: res.headers.get('location') }).toEqual({ wrong, status: 400, location: null });
    }
  });

  it('VS Code-shaped dynamic registration (native) whose default loopback port is busy', async () => {
    const client = await register(base, {
      client_name: 'Visual Studio Code',
      redirect_uris: ['http://127.0.0.1:33418', 'https://vscode.dev/redirect'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    const redirect = `http://127.0.0.1:${await ephemeralPort()}`;
    const { verifier, challenge } = pkce();
    const code = await consentAndCode(client.client_id, redirect, challenge);
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: client.client_id });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    await callTool(token.body.access_token as string);
    // Native apps may also use a private-use scheme; web clients may not, and application_type is checked.
    const native = await fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['com.example.app:/callback'], token_endpoint_auth_method: 'none', application_type: 'native' }) });
    expect(native.status).toBe(201);
    for (const body of [{ redirect_uris: ['com.example.app:/callback'], token_endpoint_auth_method: 'none' }, { redirect_uris: ['https://a.example/cb'], application_type: 'desktop' }]) {
      const res = await fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(400);
    }
  });
});
