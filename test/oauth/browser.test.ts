import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { CHROMIUM, hasChromium } from '../helpers/chromium.js';
import { hubInChromium, type BrowserHub } from '../helpers/browser-hub.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { authorizeUrl, pkce, postForm, register } from './helpers.js';

if (!hasChromium) console.warn(`OAuth browser test skipped: ${CHROMIUM} is not installed`);

describe('OAuth clients admin API', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
  });
  afterAll(() => hub.close());

  it('needs a hub key and answers 404 for an unknown client', async () => {
    expect((await hub.app.inject({ method: 'GET', url: '/v1/oauth/clients' })).statusCode).toBe(401);
    const list = await hub.app.inject({ method: 'GET', url: '/v1/oauth/clients', headers: AUTH });
    expect(list.json()).toEqual({ clients: [] });
    const gone = await hub.app.inject({ method: 'DELETE', url: '/v1/oauth/clients/c_nobody', headers: AUTH });
    expect(gone.statusCode).toBe(404);
  });
});

describe.skipIf(!hasChromium)('consent page and console "OAuth clients" in headless Chromium', () => {
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let browser: BrowserHub | undefined;

  beforeAll(async () => {
    browser = await hubInChromium('oauth', {}, { systems: [fixtureSystem] });
    ({ base, context, page } = browser);
  }, 180_000);

  afterAll(() => browser?.close());

  it('the operator approves fewer levels in the browser; the console lists the client and revokes it', async () => {
    const client = await register(base, { client_name: 'Browser Connector' });
    const { verifier, challenge } = pkce();
    // The client's redirect endpoint: the browser lands there with the code.
    let callback: URL | undefined;
    await context.route('http://127.0.0.1:9/**', async (route) => {
      callback = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' });
    });

    await page.goto(authorizeUrl(base, client, challenge, { scope: 'tools:high' }));
    // The heading names who the client is (where it returns to), not the name it chose for itself.
    await page.getByRole('heading', { name: /Authorize 127\.0\.0\.1:9 to use/ }).waitFor();
    expect(await page.getByLabel('tools:low').isChecked()).toBe(true);
    await page.getByLabel('tools:medium').check();
    await page.getByLabel(/key/i).fill(TEST_KEY);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/127\.0\.0\.1:9\/callback/);
    expect(callback?.searchParams.get('state')).toBe('st-123');
    expect(callback?.href).not.toContain(TEST_KEY);

    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code: callback!.searchParams.get('code')!, redirect_uri: client.redirect_uri, code_verifier: verifier, client_id: client.client_id });
    expect(token.body.scope).toBe('tools:low tools:medium');
    const access = token.body.access_token as string;
    const use = () => fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
    expect((await use()).status).toBe(200);

    await page.goto(`${base}/console#oauth`);
    await page.getByLabel(/API key/).fill(TEST_KEY);
    await page.getByLabel(/API key/).press('Enter');
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'OAuth clients' }).click();
    const row = page.locator(`#oauth-table tbody tr[data-client="${client.client_id}"]`);
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toContain('Browser Connector');
    expect(text).toContain('127.0.0.1:9');
    expect(text).toContain(`oauth:${client.client_id}`);
    expect(text).toContain('tools:low tools:medium');
    expect(text).not.toContain('never');

    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke Browser Connector' }).click();
    await page.locator('#oauth-status').filter({ hasText: 'Revoked Browser Connector' }).waitFor();
    expect(await row.count()).toBe(0);
    expect((await use()).status).toBe(401);
  });
});

describe('OAuth endpoint flood limits', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
  });
  afterAll(() => hub.close());

  it('registration and consent submissions are limited per address (30 a minute)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      statuses.push((await hub.app.inject({ method: 'POST', url: '/register', payload: { redirect_uris: ['https://a.example/cb'] } })).statusCode);
    }
    expect(statuses.slice(0, 30).every((s) => s === 201)).toBe(true);
    expect(statuses[30]).toBe(429);
    for (let i = 0; i < 30; i++) await hub.app.inject({ method: 'POST', url: '/authorize', payload: 'tx=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const over = await hub.app.inject({ method: 'POST', url: '/authorize', payload: 'tx=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(over.statusCode).toBe(429);
  });
});
