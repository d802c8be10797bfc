import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';

/** DNS rebinding (issue 14 item 4) and the OpenAPI server URL (item 12). */

const FOREIGN = { host: 'attacker.example' };

describe('Host/Origin guard on every authenticated route with MCP_AUTH=none (DNS rebinding)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ MCP_AUTH: 'none', MCP_API_KEY: '', HOST: '127.0.0.1' });
    // The embedded store opens on first use, slowly on a loaded machine: open it here, under the hook's time bound.
    await hub.deps.intelligence();
  });
  afterAll(() => hub.close());

  const audited = async () => {
    await hub.deps.audit.flush();
    return (await hub.deps.audit.list({ limit: 100, tool: 'intelligence_ingest' })).records;
  };

  it('refuses POST /v1/tools/intelligence_ingest and GET /v1/audit for a foreign Host with 403 forbidden_host', async () => {
    const ingest = await hub.app.inject({
      method: 'POST',
      url: '/v1/tools/intelligence_ingest',
      headers: FOREIGN,
      payload: { title: 'planted', text: 'a rebinding page wrote this' },
    });
    expect(ingest.statusCode).toBe(403);
    expect(ingest.json()).toMatchObject({ error: { code: 'forbidden_host' } });
    const audit = await hub.app.inject({ method: 'GET', url: '/v1/audit', headers: FOREIGN });
    expect(audit.statusCode).toBe(403);
    expect(audit.json()).toMatchObject({ error: { code: 'forbidden_host' } });
    // Refused before the pipeline: nothing ran, nothing was audited.
    expect(await audited()).toEqual([]);
  });

  it.each([
    ['GET', '/v1/tools'],
    ['GET', '/v1/governance'],
    ['GET', '/v1/connections'],
    ['GET', '/v1/callbacks/abc'],
    ['POST', '/v1/callbacks/chatgpt'],
    ['GET', '/metrics'],
    ['POST', '/mcp'],
    ['GET', '/sse'],
    ['GET', '/v1/some-route-added-later'],
  ])('guards %s %s', async (method, url) => {
    const res = await hub.app.inject({ method: method as 'GET' | 'POST', url, headers: FOREIGN, ...(method === 'POST' ? { payload: {} } : {}) });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden_host');
  });

  it('refuses a foreign browser Origin on REST routes even with an allowed Host', async () => {
    const res = await hub.app.inject({ method: 'GET', url: '/v1/audit', headers: { host: 'localhost:3000', origin: 'http://attacker.example' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden_host');
  });

  it('serves the same routes to loopback hosts and origins', async () => {
    const ingest = await hub.app.inject({
      method: 'POST',
      url: '/v1/tools/intelligence_ingest',
      headers: { host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' },
      payload: { title: 'welcome', text: 'a local call' },
    });
    expect(ingest.statusCode).toBe(200);
    const audit = await hub.app.inject({ method: 'GET', url: '/v1/audit', headers: { host: 'localhost:3000' } });
    expect(audit.statusCode).toBe(200);
    expect((await audited()).map((r) => r.outcome)).toEqual(['ok']);
  });

  it('leaves the open routes reachable under any Host', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/console', '/console/assets/app.js']) {
      const res = await hub.app.inject({ method: 'GET', url, headers: FOREIGN });
      expect(res.statusCode, url).toBe(200);
    }
  });
});

describe('Host/Origin guard with bearer auth', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ PUBLIC_URL: 'https://hub.example.com' });
  });
  afterAll(() => hub.close());

  it('refuses a foreign Host even with a valid key, before the key is checked', async () => {
    const withKey = await hub.app.inject({ method: 'GET', url: '/v1/audit', headers: { ...AUTH, ...FOREIGN } });
    expect(withKey.statusCode).toBe(403);
    const withoutKey = await hub.app.inject({ method: 'GET', url: '/v1/audit', headers: FOREIGN });
    expect(withoutKey.statusCode).toBe(403);
  });

  it("accepts PUBLIC_URL's host and a page served from it (the console calling its own hub)", async () => {
    const res = await hub.app.inject({
      method: 'GET',
      url: '/v1/governance',
      headers: { ...AUTH, host: 'hub.example.com', origin: 'https://hub.example.com' },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('/openapi.json servers without PUBLIC_URL', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ ALLOWED_HOSTS: 'hub.internal' });
  });
  afterAll(() => hub.close());

  const server = async (host: string) =>
    (await hub.app.inject({ method: 'GET', url: '/openapi.json', headers: { host } })).json().servers[0].url as string;

  it('never takes the server URL from a foreign Host header', async () => {
    expect(await server('evil.example')).toBe('/');
    expect(await server('evil.example:8080')).toBe('/');
  });

  it('uses the request host when it is an allowed host', async () => {
    expect(await server('hub.internal:8443')).toBe('http://hub.internal:8443');
    expect(await server('localhost:3000')).toBe('http://localhost:3000');
  });
});

describe('/openapi.json servers with PUBLIC_URL', () => {
  it('always uses PUBLIC_URL', async () => {
    const hub = await testHub({ PUBLIC_URL: 'https://hub.example.com/' });
    try {
      const res = await hub.app.inject({ method: 'GET', url: '/openapi.json', headers: FOREIGN });
      expect(res.json().servers).toEqual([{ url: 'https://hub.example.com' }]);
    } finally {
      await hub.close();
    }
  });
});
