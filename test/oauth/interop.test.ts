import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { authorizeUrl, obtainTokens, pkce, postForm, register, submitConsent } from './helpers.js';

/** The smaller interoperability points: discovery paths, `/mcp/`, the redirect URI at /token, resource spelling. */
describe('OAuth interoperability details', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
    base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => hub.close());

  it('serves resource metadata for /sse, names it in the 401 of /sse, and answers 404 for unknown well-known paths', async () => {
    const meta = (await (await fetch(`${base}/.well-known/oauth-protected-resource/sse`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ resource: `${base}/sse`, authorization_servers: [base] });
    expect(meta.scopes_supported).not.toContain('offline_access');
    const sse = await fetch(`${base}/sse`);
    expect(sse.status).toBe(401);
    expect(sse.headers.get('www-authenticate')).toContain(`resource_metadata="${base}/.well-known/oauth-protected-resource/sse"`);
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-protected-resource/other', '/.well-known/security.txt']) {
      expect((await fetch(base + path)).status).toBe(404);
    }
    const as = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as { scopes_supported: string[] };
    expect(as.scopes_supported).toContain('offline_access');
  });

  it('/mcp/ answers like /mcp', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'slash', version: '1' } } });
    const slash = await fetch(`${base}/mcp/`, { method: 'POST', headers: MCP_HEADERS, body });
    const plain = await fetch(`${base}/mcp`, { method: 'POST', headers: MCP_HEADERS, body });
    expect(slash.status).toBe(plain.status);
    expect(slash.status).toBe(200);
    await Promise.all([slash.body?.cancel(), plain.body?.cancel()]);
    const { authorization: _key, ...anonymous } = MCP_HEADERS;
    expect((await fetch(`${base}/mcp/`, { method: 'POST', headers: anonymous, body })).status).toBe(401);
  });

  it('redirect_uri may be left out at /token when the authorization request left it out', async () => {
    const c = await register(base);
    const { verifier, challenge } = pkce();
    const url = new URL(authorizeUrl(base, c, challenge));
    url.searchParams.delete('redirect_uri');
    const consent = await submitConsent(url.href, { key: TEST_KEY, action: 'approve' });
    expect(consent.status).toBe(303);
    const code = new URL(consent.location!).searchParams.get('code')!;
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: c.client_id });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    // Named in the request: required at /token.
    const named = pkce();
    const again = await submitConsent(authorizeUrl(base, c, named.challenge), { key: TEST_KEY, action: 'approve' });
    const code2 = new URL(again.location!).searchParams.get('code')!;
    expect((await postForm(`${base}/token`, { grant_type: 'authorization_code', code: code2, code_verifier: named.verifier, client_id: c.client_id })).body.error).toBe('invalid_request');
  });

  it('a resource with an upper-case scheme or host is this hub', async () => {
    const c = await register(base);
    const { verifier, challenge } = pkce();
    const upper = base.replace('http://127.0.0.1', 'HTTP://127.0.0.1') + '/mcp';
    const consent = await submitConsent(authorizeUrl(base, c, challenge, { resource: upper }), { key: TEST_KEY, action: 'approve' });
    expect(consent.status, consent.body).toBe(303);
    const code = new URL(consent.location!).searchParams.get('code')!;
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: c.redirect_uri, code_verifier: verifier, client_id: c.client_id, resource: `${base}/mcp` });
    expect(token.status).toBe(200);
    const use = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${token.body.access_token as string}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
    expect(use.status).toBe(200);
  });

  it('a refresh sent twice at once (a retry racing the original) never costs the client its grant', async () => {
    const t = await obtainTokens(base, TEST_KEY, 'tools:low');
    const both = await Promise.all([0, 1].map(() => postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id })));
    const ok = both.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of ok) expect(r.body.refresh_token).toBe(ok[0]!.body.refresh_token);
    const next = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: ok[0]!.body.refresh_token as string, client_id: t.client.client_id });
    expect(next.status).toBe(200);
  });

  it('the 403 for a tool beyond the token names the union of held and needed levels', async () => {
    const c = await register(base);
    const { verifier, challenge } = pkce();
    const consent = await submitConsent(authorizeUrl(base, c, challenge, { scope: 'tools:low' }), { key: TEST_KEY, action: 'approve' });
    const code = new URL(consent.location!).searchParams.get('code')!;
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code, redirect_uri: c.redirect_uri, code_verifier: verifier, client_id: c.client_id });
    const res = await fetch(`${base}/v1/tools/fixture_fail`, { method: 'POST', headers: { authorization: `Bearer ${token.body.access_token as string}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="tools:low tools:medium"');
  });
});
