import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AUTH, type TestHub } from '../helpers/app.js';
import { CHROMIUM, hasChromium } from '../helpers/chromium.js';
import { hubInChromium, type BrowserHub } from '../helpers/browser-hub.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { offlineFonts, signInAtProvider, startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';
import { authorizeUrl, pkce, postForm, readConsentForm, register } from './helpers.js';

/**
 * The consent page's identity provider sign-in against a real OpenID Connect provider (`oidc-provider` from npm, with its
 * development login and consent screens), driven in headless Chromium as an operator would.
 */
if (!hasChromium) console.warn(`OAuth OIDC browser test skipped: ${CHROMIUM} is not installed`);

describe('OIDC configuration', () => {
  it('needs all four variables together and well-formed e-mail entries', () => {
    expect(() => loadConfig({ OAUTH_OIDC_ISSUER: 'https://accounts.google.com' })).toThrow(/must be set together/);
    const all = { OAUTH_OIDC_ISSUER: 'https://accounts.google.com', OAUTH_OIDC_CLIENT_ID: 'id', OAUTH_OIDC_CLIENT_SECRET: 's' };
    expect(() => loadConfig({ ...all, OAUTH_ALLOWED_EMAILS: 'not an address' })).toThrow(/OAUTH_ALLOWED_EMAILS/);
    expect(loadConfig({ ...all, OAUTH_ALLOWED_EMAILS: 'Ops@Example.com, @corp.example' }).identityProvider?.allowedEmails).toEqual(['ops@example.com', '@corp.example']);
  });
});

describe.skipIf(!hasChromium)('consent with an OpenID Connect sign-in', () => {
  let idp: TestIdentityProvider;
  let hub: TestHub;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let browser: BrowserHub | undefined;

  beforeAll(async () => {
    // `unverified@example.com` is an account whose provider never verified its address (no email_verified claim).
    idp = await startIdentityProvider({ unverified: ['unverified@example.com'] });
    browser = await hubInChromium('oidc', idp.hubEnv('operator@example.com,unverified@example.com'), { systems: [fixtureSystem] });
    ({ hub, base, context, page } = browser);
    idp.serve([`${base}/authorize/callback`]);
    await offlineFonts(context);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    idp?.close();
  });

  async function signInAs(login: string, level: string) {
    // Port 9 (used elsewhere) is one Chromium refuses to load after a redirect chain; this one is routed below.
    const client = await register(base, { client_name: 'OIDC Connector', redirect_uris: ['http://127.0.0.1:8765/callback'] });
    const { verifier, challenge } = pkce();
    // A new operator session at the identity provider each time.
    await context.clearCookies();
    let callback: URL | undefined;
    await context.route('http://127.0.0.1:8765/**', async (route) => {
      callback = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'done' });
    });
    await page.goto(authorizeUrl(base, client, challenge, { scope: 'tools:high' }));
    await page.getByLabel(level).check();
    await page.getByRole('button', { name: /Sign in with 127\.0\.0\.1/ }).click();
    await signInAtProvider(page, login);
    // Either the client's redirect URI (approved) or the hub's own callback page (refused).
    await page.waitForURL((u) => u.port === '8765' || u.pathname === '/authorize/callback');
    await context.unroute('http://127.0.0.1:8765/**');
    return { client, verifier, callback };
  }

  it('an allowed e-mail approves; the grant carries the subject into the principal', async () => {
    const { client, verifier, callback } = await signInAs('operator@example.com', 'tools:medium');
    expect(callback?.searchParams.get('state')).toBe('st-123');
    const token = await postForm(`${base}/token`, { grant_type: 'authorization_code', code: callback!.searchParams.get('code')!, redirect_uri: client.redirect_uri, code_verifier: verifier, client_id: client.client_id });
    expect(token.body.scope).toBe('tools:low tools:medium');
    const res = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${token.body.access_token}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
    expect(res.status).toBe(200);
    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 1, tool: 'fixture_echo' });
    expect(records[0]?.principal).toBe(`oauth:${client.client_id}:operator@example.com`);
    const list = (await hub.app.inject({ method: 'GET', url: '/v1/oauth/clients', headers: AUTH })).json() as { clients: { client_id: string; principals: string[] }[] };
    expect(list.clients.find((c) => c.client_id === client.client_id)?.principals).toEqual([`oauth:${client.client_id}:operator@example.com`]);
  });

  it('an allowed address the provider has not verified (no email_verified: true) is refused', async () => {
    const { callback } = await signInAs('unverified@example.com', 'tools:low');
    expect(callback).toBeUndefined();
    expect(await page.locator('body').innerText()).toContain('email_verified must be true');
  });

  it('a sign-in started in another browser (a link sent to the operator) issues no code: the consent is shown again', async () => {
    // The attacker starts a consent for their own client in their own "browser" (fetch with its own cookies) and
    // presses "Sign in with ..." at tools:critical.
    const client = await register(base, { client_name: 'Innocent Connector', redirect_uris: ['http://127.0.0.1:8765/callback'] });
    const first = await fetch(authorizeUrl(base, client, pkce().challenge, { scope: 'tools:critical' }));
    const csrfCookie = (first.headers.get('set-cookie') ?? '').split(';', 1)[0]!;
    const form = readConsentForm(await first.text());
    const started = await fetch(`${base}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
      body: new URLSearchParams({ ...form.hidden, action: 'oidc', level: 'tools:critical' }),
    });
    expect(started.status).toBe(303);
    const providerUrl = started.headers.get('location')!;
    // The operator opens that link and signs in at the provider: the hub's callback gets a valid provider answer,
    // but from a browser without the cookie the hub set for the attacker's sign-in.
    await context.clearCookies();
    let callback: URL | undefined;
    await context.route('http://127.0.0.1:8765/**', async (route) => {
      callback = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'done' });
    });
    await page.goto(providerUrl);
    await signInAtProvider(page, 'operator@example.com');
    await page.waitForURL((u) => u.port === '8765' || u.pathname === '/authorize/callback');
    await context.unroute('http://127.0.0.1:8765/**');
    expect(callback).toBeUndefined();
    // The operator sees the request as a consent page of their own, lowest level preselected, and decides there.
    expect(await page.locator('body').innerText()).toContain('not started in this browser');
    expect(await page.getByLabel('tools:low').isChecked()).toBe(true);
  });

  it('an e-mail outside OAUTH_ALLOWED_EMAILS is refused with a page, and no code is issued', async () => {
    const { callback } = await signInAs('intruder@example.com', 'tools:low');
    expect(callback).toBeUndefined();
    expect(await page.locator('body').innerText()).toContain('intruder@example.com is not allowed');
  });
});
