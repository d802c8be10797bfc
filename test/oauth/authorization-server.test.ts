import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { authorizeUrl, obtainTokens, pkce, postForm, readConsentForm, register, submitConsent } from './helpers.js';

const mcpCall = (token: string, name: string, args: Record<string, unknown>) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args } }),
});

describe('OAuth authorization server', () => {
  let hub: TestHub;
  let base: string;
  let port: number;

  beforeAll(async () => {
    hub = await testHub({ MCP_SESSION_MODE: 'stateless' }, { systems: [fixtureSystem] });
    await hub.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = hub.app.server.address();
    port = typeof addr === 'object' && addr ? addr.port : 0;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => hub.close());

  describe('discovery', () => {
    it('serves RFC 9728 metadata at both paths and names it in every 401', async () => {
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
        const res = await fetch(base + path, { headers: { origin: 'https://chatgpt.com' } });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(await res.json()).toMatchObject({ resource: `${base}/mcp`, authorization_servers: [base], scopes_supported: ['tools:low', 'tools:medium', 'tools:high', 'tools:critical'] });
      }
      for (const [path, init] of [['/mcp', { method: 'POST' }], ['/v1/tools', {}], ['/v1/tools/fixture_echo', { method: 'POST' }]] as const) {
        const res = await fetch(base + path, init);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="omni-hub", scope="tools:low", resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`);
      }
    });

    it('serves RFC 8414 metadata (and no OpenID discovery document, which it could not fill)', async () => {
      expect((await fetch(`${base}/.well-known/openid-configuration`)).status).toBe(404);
      for (const path of ['/.well-known/oauth-authorization-server']) {
        const meta = (await (await fetch(base + path)).json()) as Record<string, unknown>;
        expect(meta).toMatchObject({
          issuer: base,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          registration_endpoint: `${base}/register`,
          revocation_endpoint: `${base}/revoke`,
          code_challenge_methods_supported: ['S256'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt'],
        });
      }
      const pre = await fetch(`${base}/token`, { method: 'OPTIONS', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    });
  });

  describe('registration', () => {
    it('registers public and confidential clients; a confidential one authenticates with its secret', async () => {
      const res = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'ChatGPT', redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect', 'https://chat.openai.com/aip/g-123/oauth/callback'], token_endpoint_auth_method: 'client_secret_post' }),
      });
      expect(res.status).toBe(201);
      const reg = (await res.json()) as Record<string, string>;
      expect(reg.client_secret).toBeTruthy();
      const c = { client_id: reg.client_id!, redirect_uri: 'https://chatgpt.com/connector_platform_oauth_redirect' };
      const { verifier, challenge } = pkce();
      const consent = await submitConsent(authorizeUrl(base, c, challenge), { key: TEST_KEY, action: 'approve' });
      const location = new URL(consent.location!);
      expect(location.origin + location.pathname).toBe('https://chatgpt.com/connector_platform_oauth_redirect');
      const code = location.searchParams.get('code')!;
      const noSecret = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: c.redirect_uri, code_verifier: verifier, client_id: c.client_id });
      expect(noSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      const wrongSecret = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: c.redirect_uri, code_verifier: verifier, client_id: c.client_id, client_secret: 'nope' });
      expect(wrongSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      const basic = Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(reg.client_secret!)}`).toString('base64');
      const ok = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: c.redirect_uri, code_verifier: verifier }, { authorization: `Basic ${basic}` });
      expect(ok.status).toBe(200);
      // No scope asked: the lowest level was preselected.
      expect(ok.body.scope).toBe('tools:low');
    });

    it('refuses bad metadata with the RFC 7591 errors, never a 500', async () => {
      const cases: [unknown, number, string][] = [
        [{ redirect_uris: ['https://evil.example/cb#frag'] }, 400, 'invalid_redirect_uri'],
        [{ redirect_uris: ['http://evil.example/cb'] }, 400, 'invalid_redirect_uri'],
        [{ redirect_uris: ['javascript:alert(1)'] }, 400, 'invalid_redirect_uri'],
        [{ redirect_uris: [] }, 400, 'invalid_redirect_uri'],
        [{ client_name: 'no uris' }, 400, 'invalid_redirect_uri'],
        [{ redirect_uris: ['https://a.example/cb'], grant_types: ['client_credentials'] }, 400, 'invalid_client_metadata'],
        [{ redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'private_key_jwt' }, 400, 'invalid_client_metadata'],
        [{ redirect_uris: ['https://a.example/cb'], response_types: ['token'] }, 400, 'invalid_client_metadata'],
        [[1, 2], 400, 'invalid_client_metadata'],
        [{ redirect_uris: ['https://a.example/cb'], client_name: 'x'.repeat(20_000) }, 413, 'invalid_request'],
      ];
      for (const [body, status, error] of cases) {
        const res = await fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect({ body, status: res.status }).toEqual({ body, status });
        expect(await res.json()).toMatchObject({ error });
      }
      // Values the server does not support are left out rather than refused (RFC 7591 §2).
      const lenient = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['https://a.example/cb'], grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'], scope: 'openid tools:medium', token_endpoint_auth_method: 'none' }),
      });
      expect(lenient.status).toBe(201);
      expect(await lenient.json()).toMatchObject({ grant_types: ['authorization_code', 'refresh_token'], scope: 'tools:medium' });
      const malformed = await fetch(`${base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris": [' });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ error: 'invalid_request' });
    });
  });

  describe('authorization endpoint and consent', () => {
    it('shows a labelled form without the key, and refuses a wrong key without echoing it', async () => {
      const c = await register(base);
      const { challenge } = pkce();
      const page = await fetch(authorizeUrl(base, c, challenge, { scope: 'tools:high' }));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(page.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
      const html = await page.text();
      expect(html).toMatch(/<label for="key">[^<]*key[^<]*<\/label>/i);
      expect(html).toContain('Test client');
      expect(html).toContain('127.0.0.1:9');
      const form = readConsentForm(html);
      expect(form.levels).toEqual(['tools:low', 'tools:medium', 'tools:high']);
      // The lowest level is preselected: approving without a choice grants the least.
      expect(form.checked).toBe('tools:low');
      expect(html).toContain('>Approve</button>');
      expect(html).toContain('>Deny</button>');
      // offline_access is accepted and ignored: refresh tokens are always issued.
      const offline = await fetch(authorizeUrl(base, c, challenge, { scope: 'tools:low offline_access' }));
      expect(offline.status).toBe(200);
      expect(readConsentForm(await offline.text()).levels).toEqual(['tools:low']);

      const wrong = await submitConsent(authorizeUrl(base, c, challenge), { key: 'wrong-key-that-is-long-enough', action: 'approve' });
      expect(wrong.status).toBe(401);
      expect(wrong.location).toBeNull();
      expect(wrong.body).toContain('not a valid hub key');
      expect(wrong.body).not.toContain('wrong-key-that-is-long-enough');
      const right = await submitConsent(authorizeUrl(base, c, challenge), { key: TEST_KEY, action: 'approve' });
      expect(right.body + right.location).not.toContain(TEST_KEY);
    });

    it('refuses a level above the request, a forged form (CSRF) and a replayed form', async () => {
      const c = await register(base);
      const { challenge } = pkce();
      const tooHigh = await submitConsent(authorizeUrl(base, c, challenge, { scope: 'tools:low' }), { key: TEST_KEY, level: 'tools:critical', action: 'approve' });
      expect(tooHigh.status).toBe(400);
      expect(tooHigh.location).toBeNull();

      const page = await fetch(authorizeUrl(base, c, challenge));
      const form = readConsentForm(await page.text());
      const cookie = page.headers.get('set-cookie')!.split(';', 1)[0]!;
      const post = (fields: Record<string, string>, headers: Record<string, string>) =>
        fetch(`${base}/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
      const fields = { ...form.hidden, key: TEST_KEY, level: 'tools:low', action: 'approve' };
      expect((await post(fields, {})).status).toBe(403); // no cookie: not the browser that loaded the page
      expect((await post({ ...fields, csrf: 'forged' }, { cookie })).status).toBe(403);
      const ok = await post(fields, { cookie });
      expect(ok.status).toBe(303);
      const again = await post(fields, { cookie });
      expect(again.status).toBe(400);
      expect(again.headers.get('location')).toBeNull();
    });

    it('Deny returns access_denied with the state', async () => {
      const c = await register(base);
      const denied = await submitConsent(authorizeUrl(base, c, pkce().challenge), { action: 'deny' });
      expect(denied.status).toBe(303);
      const u = new URL(denied.location!);
      expect(Object.fromEntries(u.searchParams)).toMatchObject({ error: 'access_denied', state: 'st-123' });
    });

    it('never redirects to an unregistered URI: unknown client and redirect mismatch get a page', async () => {
      const c = await register(base);
      const { challenge } = pkce();
      for (const url of [
        authorizeUrl(base, { ...c, client_id: 'c_unknown' }, challenge),
        authorizeUrl(base, { ...c, redirect_uri: 'https://evil.example/steal' }, challenge),
        authorizeUrl(base, { ...c, redirect_uri: `${c.redirect_uri}/../x` }, challenge),
        authorizeUrl(base, { ...c, redirect_uri: `${c.redirect_uri}?extra=1` }, challenge),
        authorizeUrl(base, c, challenge).replace('client_id=', 'client_id=x&client_id='),
      ]) {
        const res = await fetch(url, { redirect: 'manual' });
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(res.headers.get('content-type')).toContain('text/html');
      }
    });

    it('redirects protocol errors to the registered URI with the RFC code once an operator has approved the client', async () => {
      const c = await register(base);
      const { challenge } = pkce();
      // Before any approval, an error is a page: a self-registered redirect URI is no one's word yet.
      const first = await fetch(authorizeUrl(base, c, challenge, { response_type: 'token' }), { redirect: 'manual' });
      expect({ status: first.status, location: first.headers.get('location') }).toEqual({ status: 400, location: null });
      await obtainTokens(base, TEST_KEY, 'tools:low', c);
      const cases: [Record<string, string>, string][] = [
        [{ code_challenge_method: 'plain' }, 'invalid_request'],
        [{ code_challenge: '' }, 'invalid_request'],
        [{ code_challenge: 'short' }, 'invalid_request'],
        [{ response_type: 'token' }, 'unsupported_response_type'],
        [{ scope: 'tools:low admin' }, 'invalid_scope'],
        [{ scope: 'openid' }, 'invalid_scope'],
        [{ resource: 'HTTP://OTHER.example/mcp' }, 'invalid_target'],
        [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
      ];
      for (const [extra, error] of cases) {
        const res = await fetch(authorizeUrl(base, c, challenge, extra), { redirect: 'manual' });
        expect(res.status).toBe(303);
        const u = new URL(res.headers.get('location')!);
        expect(u.origin + u.pathname).toBe(c.redirect_uri);
        expect({ extra, error: u.searchParams.get('error'), state: u.searchParams.get('state') }).toEqual({ extra, error, state: 'st-123' });
      }
    });
  });

  describe('token endpoint', () => {
    it('answers every bad exchange with its RFC 6749 error', async () => {
      const c = await register(base);
      const { verifier, challenge } = pkce();
      const consent = await submitConsent(authorizeUrl(base, c, challenge), { key: TEST_KEY, action: 'approve' });
      const code = new URL(consent.location!).searchParams.get('code')!;
      const good = { grant_type: 'authorization_code', code, redirect_uri: c.redirect_uri, code_verifier: verifier, client_id: c.client_id };
      const cases: [Record<string, string>, number, string][] = [
        [{ ...good, grant_type: '' }, 400, 'invalid_request'],
        [{ ...good, grant_type: 'password' }, 400, 'unsupported_grant_type'],
        [{ ...good, client_id: 'c_nobody' }, 401, 'invalid_client'],
        [{ ...good, client_id: '' }, 401, 'invalid_client'],
        [{ ...good, code_verifier: '' }, 400, 'invalid_request'],
        [{ ...good, code: 'not-a-code' }, 400, 'invalid_grant'],
      ];
      for (const [params, status, error] of cases) {
        const res = await postForm(`${base}/token`, params);
        expect({ params, status: res.status, error: res.body.error }).toEqual({ params, status, error });
      }
      // A wrong verifier or redirect spends the code (single use): the right one afterwards is refused too.
      const wrongVerifier = await postForm(`${base}/token`, { ...good, code_verifier: pkce().verifier });
      expect(wrongVerifier.body.error).toBe('invalid_grant');
      expect((await postForm(`${base}/token`, good)).body.error).toBe('invalid_grant');

      const json = await fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      expect(json.status).toBe(415);
      expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    });

    it('refuses a redirect mismatch and a reused code, and the reuse revokes what the code issued', async () => {
      const c = await register(base, { redirect_uris: ['http://127.0.0.1:9/callback', 'http://localhost:9/callback'] });
      const { verifier, challenge } = pkce();
      const code = async () => new URL((await submitConsent(authorizeUrl(base, c, challenge), { key: TEST_KEY, action: 'approve' })).location!).searchParams.get('code')!;
      const mismatch = await postForm(`${base}/token`, { grant_type: 'authorization_code', code: await code(), redirect_uri: 'http://localhost:9/callback', code_verifier: verifier, client_id: c.client_id });
      expect(mismatch.body.error).toBe('invalid_grant');

      const once = await code();
      const params = { grant_type: 'authorization_code', code: once, redirect_uri: c.redirect_uri, code_verifier: verifier, client_id: c.client_id };
      const first = await postForm(`${base}/token`, params);
      expect(first.status).toBe(200);
      const second = await postForm(`${base}/token`, params);
      expect(second.body.error).toBe('invalid_grant');
      const res = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${first.body.access_token}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
      expect(res.status).toBe(401);
    });

    it('expired codes and expired access tokens are refused', async () => {
      const c = await register(base);
      const { verifier, challenge } = pkce();
      const consent = await submitConsent(authorizeUrl(base, c, challenge), { key: TEST_KEY, action: 'approve' });
      const code = new URL(consent.location!).searchParams.get('code')!;
      const { access } = await obtainTokens(base, TEST_KEY, 'tools:low');
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + 61_000);
        const late = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: c.redirect_uri, code_verifier: verifier, client_id: c.client_id });
        expect(late.body.error).toBe('invalid_grant');
        vi.setSystemTime(Date.now() + 15 * 60_000);
        const res = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      } finally {
        vi.useRealTimers();
      }
    });

    it('a token is bound to its resource: the same hub under another origin refuses it', async () => {
      const { access } = await obtainTokens(base, TEST_KEY, 'tools:low');
      const other = await fetch(`http://localhost:${port}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
      expect(other.status).toBe(401);
      expect(other.headers.get('www-authenticate')).toContain('another resource');
    });

    it('refresh may narrow but never widen the levels; a re-sent wider scope or offline_access gets the grant; bad input is an RFC error', async () => {
      const t = await obtainTokens(base, TEST_KEY, 'tools:medium');
      expect((await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id, scope: 'tools:low admin' })).body.error).toBe('invalid_scope');
      // What the client first asked for (every level) is capped at what the operator granted.
      const wider = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id, scope: 'tools:low tools:medium tools:high tools:critical offline_access' });
      expect(wider).toMatchObject({ status: 200, body: { scope: 'tools:low tools:medium' } });
      const offline = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: wider.body.refresh_token as string, client_id: t.client.client_id, scope: 'offline_access' });
      expect(offline).toMatchObject({ status: 200, body: { scope: 'tools:low tools:medium' } });
      const current = offline.body.refresh_token as string;
      const other = await register(base);
      const stolen = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: current, client_id: other.client_id });
      expect(stolen.body.error).toBe('invalid_grant');
      const narrower = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: current, client_id: t.client.client_id, scope: 'tools:low' });
      expect(narrower.status).toBe(200);
      expect(narrower.body.scope).toBe('tools:low');
      expect((await postForm(`${base}/token`, { grant_type: 'refresh_token', client_id: t.client.client_id })).body.error).toBe('invalid_request');
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('revokes an access token, and a refresh token with its whole family', async () => {
      const t = await obtainTokens(base, TEST_KEY);
      const use = (token: string) => fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
      expect((await use(t.access)).status).toBe(200);
      const r1 = await postForm(`${base}/revoke`, { token: t.access, client_id: t.client.client_id });
      expect(r1.status).toBe(200);
      expect((await use(t.access)).status).toBe(401);
      const rotated = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id });
      expect(rotated.status).toBe(200);
      await postForm(`${base}/revoke`, { token: rotated.body.refresh_token as string, token_type_hint: 'refresh_token', client_id: t.client.client_id });
      expect((await use(rotated.body.access_token as string)).status).toBe(401);
      // Unknown tokens are not an error (RFC 7009 §2.2); a missing token is.
      expect((await postForm(`${base}/revoke`, { token: 'whatever', client_id: t.client.client_id })).status).toBe(200);
      expect((await postForm(`${base}/revoke`, { client_id: t.client.client_id })).body.error).toBe('invalid_request');
      expect((await postForm(`${base}/revoke`, { token: 'x', client_id: 'c_nobody' })).status).toBe(401);
    });
  });

  describe('level scopes', () => {
    it('a tools:low token is refused a MEDIUM tool: REST 403 insufficient_scope, MCP 403 with the step-up challenge', async () => {
      const { access, scope } = await obtainTokens(base, TEST_KEY, 'tools:low');
      expect(scope).toBe('tools:low');
      const rest = await fetch(`${base}/v1/tools/fixture_fail`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: '{}' });
      expect(rest.status).toBe(403);
      expect(await rest.json()).toMatchObject({ error: { code: 'insufficient_scope', required_scope: 'tools:medium' } });

      const mcp = await fetch(`${base}/mcp`, mcpCall(access, 'fixture_fail', {}));
      expect(mcp.status).toBe(403);
      const challenge = mcp.headers.get('www-authenticate')!;
      expect(challenge).toContain('error="insufficient_scope"');
      expect(challenge).toContain('scope="tools:low tools:medium"');
      expect(challenge).toContain(`resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`);
      expect(await mcp.json()).toMatchObject({ jsonrpc: '2.0', id: 7, error: { message: expect.stringContaining('insufficient_scope') } });

      // Each refusal is one audit record, with the arguments redacted as the pipeline would.
      await hub.deps.audit.flush();
      const { records } = await hub.deps.audit.list({ limit: 10, outcome: 'denied_scope' });
      expect(records.map((r) => [r.tool, r.transport, r.level, r.error?.code])).toEqual([
        ['fixture_fail', 'mcp', 'MEDIUM', 'insufficient_scope'],
        ['fixture_fail', 'rest', 'MEDIUM', 'insufficient_scope'],
      ]);
      expect(records[0]!.principal).toMatch(/^oauth:c_/);

      const low = await fetch(`${base}/mcp`, mcpCall(access, 'fixture_echo', { message: 'ok' }));
      expect(low.status).toBe(200);
      // tools/list shows the token only the tools its level allows (src/tools/catalog.ts).
      const list = await fetch(`${base}/mcp`, { ...mcpCall(access, 'x', {}), body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
      const listed = ((await list.json()) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
      expect(listed.sort()).toEqual(fixtureSystem.tools.filter((t) => t.level === 'LOW').map((t) => t.name).sort());
    });

    it('keeps OAuth tokens off the operator routes', async () => {
      const { access } = await obtainTokens(base, TEST_KEY, 'tools:critical');
      for (const path of ['/v1/governance', '/v1/audit', '/v1/oauth/clients']) {
        const res = await fetch(base + path, { headers: { authorization: `Bearer ${access}` } });
        expect(res.status).toBe(403);
      }
      const crit = await fetch(`${base}/v1/tools/fixture_delete`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: '{"dry_run":true}' });
      expect(crit.status).not.toBe(403);
    });
  });
});
