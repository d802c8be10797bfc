import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import { CONSOLE_DIR, consoleRoutes, loadConsole } from '../../src/http/console.js';
import { installErrorHandlers } from '../../src/http/errors.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

describe('console routes', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
  });
  afterAll(async () => hub?.close());

  it('serves the page without a key, with a strict CSP and no secret in it', async () => {
    for (const url of ['/console', '/console/']) {
      const res = await hub.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).toContain('<main id="main"');
      expect(res.body).toContain('data-auth="bearer"');
      expect(res.body).not.toContain(TEST_KEY);
    }
  });

  it('links assets with a content version that makes them cacheable forever', async () => {
    const page = (await hub.app.inject({ method: 'GET', url: '/console' })).body;
    const js = /src="(\/console\/assets\/app\.js\?v=[0-9a-f]{12})"/.exec(page)?.[1];
    const css = /href="(\/console\/assets\/app\.css\?v=[0-9a-f]{12})"/.exec(page)?.[1];
    expect(js).toBeDefined();
    expect(css).toBeDefined();

    const jsRes = await hub.app.inject({ method: 'GET', url: js! });
    expect(jsRes.statusCode).toBe(200);
    expect(jsRes.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(jsRes.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(jsRes.body).toContain('sessionStorage');

    const cssRes = await hub.app.inject({ method: 'GET', url: css! });
    expect(cssRes.statusCode).toBe(200);
    expect(cssRes.headers['content-type']).toBe('text/css; charset=utf-8');

    // Without the (or with a stale) version the browser must revalidate; the ETag answers 304.
    const plain = await hub.app.inject({ method: 'GET', url: '/console/assets/app.css?v=000000000000' });
    expect(plain.headers['cache-control']).toBe('no-cache');
    const etag = plain.headers.etag as string;
    const again = await hub.app.inject({ method: 'GET', url: '/console/assets/app.css', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('sends gzip to clients that accept it, with its own validator', async () => {
    const identity = await hub.app.inject({ method: 'GET', url: '/console/assets/app.js' });
    const gz = await hub.app.inject({ method: 'GET', url: '/console/assets/app.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('accept-encoding');
    expect(gz.rawPayload.length).toBeLessThan(identity.rawPayload.length);
    expect(gunzipSync(gz.rawPayload).equals(identity.rawPayload)).toBe(true);
    expect(gz.headers.etag).not.toBe(identity.headers.etag);
    const gzEtag = (await hub.app.inject({ method: 'GET', url: '/console', headers: { 'accept-encoding': 'gzip' } })).headers.etag as string;
    const revalidated = await hub.app.inject({
      method: 'GET',
      url: '/console',
      headers: { 'accept-encoding': 'gzip', 'if-none-match': `"other", W/${gzEtag}` },
    });
    expect(revalidated.statusCode).toBe(304);
  });

  it('answers 404 for unknown assets and refuses traversal', async () => {
    const unknown = await hub.app.inject({ method: 'GET', url: '/console/assets/nope.js' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: { code: 'not_found', message: 'no such console asset' } });

    // Dot segments, literal or %2e, are resolved by the URL parser first (to /package.json: not open, so 401);
    // encoded slashes reach the asset route as one name, which is not in the map (404). Never the file.
    for (const [url, status] of [
      ['/console/assets/../../package.json', 401],
      ['/console/assets/%2e%2e/%2e%2e/package.json', 401],
      ['/console/assets/index.html/../../src/config.ts', 401],
      ['/console/assets/..%2F..%2Fpackage.json', 404],
      ['/console/assets/..%5C..%5Cpackage.json', 404],
      ['/console/assets/app.js%2F..%2F..%2F..%2Fpackage.json', 404],
      ['/console/assets/', 404],
      ['/console/assets/%00app.js', 404],
    ] as const) {
      const res = await hub.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(status);
      expect(res.body, url).not.toContain('"name": "omni-hub"');
      expect(res.body, url).not.toContain('loadConfig');
    }
  });

  it('keeps the data routes behind the key: an open console path does not open the API', async () => {
    const tools = await hub.app.inject({ method: 'GET', url: '/v1/tools' });
    expect(tools.statusCode).toBe(401);
    const withKey = await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: AUTH });
    expect(withKey.statusCode).toBe(200);
  });

  it('tells the page when the hub runs without auth', async () => {
    const open = await testHub({ MCP_AUTH: 'none', HOST: '127.0.0.1' }, { systems: [fixtureSystem] });
    try {
      const res = await open.app.inject({ method: 'GET', url: '/console' });
      expect(res.body).toContain('data-auth="none"');
    } finally {
      await open.close();
    }
  });
});

describe('consoleRoutes without the console folder', () => {
  it('keeps the hub running and answers 404 on /console', async () => {
    const app = Fastify({ logger: false });
    installErrorHandlers(app);
    await app.register(consoleRoutes, { config: testConfig(), dir: path.join(tmpdir(), 'omni-console-absent-dir') });
    const res = await app.inject({ method: 'GET', url: '/console' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toContain('not installed');
    await app.close();
  });
});

describe('loadConsole', () => {
  it('serves only flat files of known types from the console directory', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'omni-console-'));
    writeFileSync(path.join(dir, 'index.html'), '<script src="/console/assets/a.js"></script><html data-auth="bearer">');
    writeFileSync(path.join(dir, 'a.js'), 'x');
    writeFileSync(path.join(dir, 'notes.txt'), 'private');
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'b.js'), 'y');
    const files = loadConsole(dir, 'bearer');
    expect([...files.assets.keys()]).toEqual(['a.js']);
    expect(files.page.body.toString()).toContain(`/console/assets/a.js?v=${files.assets.get('a.js')!.version}"`);
  });

  it('ships the real console (page, script, stylesheet) and keeps it small', () => {
    const files = loadConsole(CONSOLE_DIR, 'bearer');
    expect([...files.assets.keys()].sort()).toEqual(['app.css', 'app.js']);
    const total = files.page.body.length + [...files.assets.values()].reduce((n, a) => n + a.body.length, 0);
    expect(total).toBeLessThan(64 * 1024);
  });
});
