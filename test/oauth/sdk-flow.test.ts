import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { obtainTokens, postForm, submitConsent } from './helpers.js';

/** The SDK's own OAuth client provider contract, kept in memory as a desktop client would keep it on disk. */
class MemoryProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  readonly redirectUrl = 'http://127.0.0.1:9/oauth/callback';
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'SDK test client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state() {
    return 'sdk-state-42';
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

describe('OAuth end to end with the MCP SDK client', () => {
  let hub: TestHub;
  let base: string;
  const provider = new MemoryProvider();

  beforeAll(async () => {
    // The 401 challenge names OAUTH_DEFAULT_SCOPE; the SDK asks for exactly that.
    hub = await testHub({ OAUTH_DEFAULT_SCOPE: 'tools:medium' }, { systems: [fixtureSystem] });
    await hub.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = hub.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => hub.close());

  it('401 → discovery → registration → consent → token → tools/list and tools/call, then REST with the same token', async () => {
    const first = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider });
    await expect(new Client({ name: 'sdk-oauth', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    // Discovery and registration happened; the client was sent to the consent page.
    expect(provider.info?.client_id).toMatch(/^c_/);
    const url = provider.authorizationUrl!;
    expect(url.origin + url.pathname).toBe(`${base}/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(`${base}/mcp`);
    expect(url.searchParams.get('scope')).toBe('tools:medium');

    const consent = await submitConsent(url.href, { key: TEST_KEY, level: 'tools:medium', action: 'approve' });
    expect(consent.status).toBe(303);
    const back = new URL(consent.location!);
    expect(back.origin + back.pathname).toBe(provider.redirectUrl);
    expect(back.searchParams.get('state')).toBe('sdk-state-42');
    expect(back.searchParams.get('iss')).toBe(base);
    expect(consent.location).not.toContain(TEST_KEY);
    await first.finishAuth(back.searchParams.get('code')!);
    expect(provider.saved?.access_token).toMatch(/^oha_/);
    expect(provider.saved?.scope).toBe('tools:low tools:medium');

    const client = new Client({ name: 'sdk-oauth', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider }));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('fixture_echo');
    const call = await client.callTool({ name: 'fixture_echo', arguments: { message: 'over oauth' } });
    expect(call.isError).toBeFalsy();
    expect(JSON.stringify(call.structuredContent)).toContain('OVER OAUTH');
    await client.close();

    const rest = await fetch(`${base}/v1/tools/fixture_echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'rest' }),
    });
    expect(rest.status).toBe(200);
    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 5, tool: 'fixture_echo' });
    expect(records.map((r) => r.principal)).toEqual(expect.arrayContaining([`oauth:${provider.info!.client_id}`]));
    expect(new Set(records.map((r) => r.transport))).toEqual(new Set(['mcp', 'rest']));
  });

  it('the SDK refreshes with the rotated token; the old refresh token is then refused and revokes the family', async () => {
    const before = provider.saved!;
    const rotated = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: before.refresh_token!, client_id: provider.info!.client_id });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(rotated.body.refresh_token).not.toBe(before.refresh_token);
    const fresh = rotated.body.access_token as string;
    const ok = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
    expect(ok.status).toBe(200);
    // Once the new refresh token has been used, the grace window no longer covers the old one: its reuse is an attack.
    const third = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token as string, client_id: provider.info!.client_id });
    expect(third.status).toBe(200);

    const reuse = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: before.refresh_token!, client_id: provider.info!.client_id });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    // The family is gone: the newest refresh token and every access token of the grant no longer work either.
    const next = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: third.body.refresh_token as string, client_id: provider.info!.client_id });
    expect(next.body.error).toBe('invalid_grant');
    const dead = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${fresh}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
    expect(dead.status).toBe(401);
    expect(dead.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('in a stateful session, a tools:low token gets the step-up 403 for a MEDIUM tool', async () => {
    const { access } = await obtainTokens(base, TEST_KEY, 'tools:low');
    const headers = { authorization: `Bearer ${access}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'low', version: '1' } } }),
    });
    expect(init.status).toBe(200);
    const session = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    const call = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fixture_echo', arguments: { message: 'a' } } }, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'fixture_fail', arguments: {} } }]),
    });
    expect(call.status).toBe(403);
    expect(call.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="tools:low tools:medium"');
    await fetch(`${base}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${access}`, 'mcp-session-id': session } });
  });

  it('a legacy SSE client completes discovery for /sse (its own resource metadata) and calls a tool', async () => {
    const sse = new MemoryProvider();
    const first = new SSEClientTransport(new URL(`${base}/sse`), { authProvider: sse });
    await expect(new Client({ name: 'sdk-sse', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    const url = sse.authorizationUrl!;
    expect(url.searchParams.get('resource')).toBe(`${base}/sse`);
    const consent = await submitConsent(url.href, { key: TEST_KEY, action: 'approve' });
    expect(consent.status).toBe(303);
    await first.finishAuth(new URL(consent.location!).searchParams.get('code')!);
    const client = new Client({ name: 'sdk-sse', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${base}/sse`), { authProvider: sse }));
    const call = await client.callTool({ name: 'fixture_echo', arguments: { message: 'legacy' } });
    expect(call.isError).toBeFalsy();
    await client.close();
  });

  it('hub keys keep working on every route', async () => {
    const res = await fetch(`${base}/v1/governance`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
    expect(res.status).toBe(200);
  });
});
