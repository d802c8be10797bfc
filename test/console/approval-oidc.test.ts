import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, type TestHub } from '../helpers/app.js';
import { CHROMIUM, hasChromium } from '../helpers/chromium.js';
import { hubInChromium, type BrowserHub } from '../helpers/browser-hub.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { offlineFonts, signInAtProvider, startIdentityProvider, type TestIdentityProvider } from '../helpers/oidc-provider.js';

/**
 * The approval page's OpenID Connect sign-in (the consent page's, reused) against a real provider (`oidc-provider`
 * from npm, with its development login and consent screens), driven in headless Chromium as an operator would.
 */
if (!hasChromium) console.warn(`approval OIDC browser test skipped: ${CHROMIUM} is not installed`);

describe.skipIf(!hasChromium)('approval with an OpenID Connect sign-in', () => {
  let idp: TestIdentityProvider;
  let hub: TestHub;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let browser: BrowserHub | undefined;

  beforeAll(async () => {
    idp = await startIdentityProvider();
    browser = await hubInChromium('approval-oidc', idp.hubEnv('operator@example.com'), { systems: [fixtureSystem] });
    ({ hub, base, context, page } = browser);
    idp.serve([`${base}/authorize/callback`, `${base}/approvals/callback`]);
    await offlineFonts(context);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    idp?.close();
  });

  const gptCall = async (payload: object) => {
    const res = await fetch(`${base}/v1/tools/fixture_delete`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    return { status: res.status, body: (await res.json()) as { error?: { approval_id: string; approval_url: string } } };
  };

  async function answerAs(login: string, url: string, button: RegExp, otherBrowser = false) {
    await context.clearCookies();
    await page.goto(url);
    await page.getByRole('button', { name: button }).click();
    // Another browser finishing the sign-in is one without the hub's sign-in cookie (the provider's stay).
    if (otherBrowser) await context.clearCookies({ name: 'omni_operator_signin' });
    await signInAtProvider(page, login);
    await page.waitForURL((u) => u.pathname === '/approvals/callback');
  }

  it('an allowed e-mail approves; the call runs once and is audited with that address', async () => {
    const asked = await gptCall({ thing: 'cache' });
    expect(asked.status).toBe(428);
    const { approval_id: id, approval_url: url } = asked.body.error!;
    await answerAs('operator@example.com', url, /^Sign in and approve/);
    await page.locator('#outcome').filter({ hasText: 'You approved this call' }).waitFor();

    expect((await gptCall({ thing: 'cache', approval_id: id })).status).toBe(200);
    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ tool: 'fixture_delete', outcome: 'ok', limit: 1 });
    expect(records[0]?.approved_by).toMatchObject({ who: 'operator@example.com', via: 'page', approval_id: id });
  });

  it('a sign-in finished in another browser than the one that started it answers nothing', async () => {
    const asked = await gptCall({ thing: 'bound' });
    const { approval_id: id, approval_url: url } = asked.body.error!;
    await answerAs('operator@example.com', url, /^Sign in and approve/, true);
    expect(await page.locator('body').innerText()).toContain('did not start it');
    expect((await gptCall({ thing: 'bound', approval_id: id })).status).toBe(428);
  });

  it('an e-mail outside OAUTH_ALLOWED_EMAILS answers nothing', async () => {
    const asked = await gptCall({ thing: 'queue' });
    const { approval_id: id, approval_url: url } = asked.body.error!;
    await answerAs('intruder@example.com', url, /^Sign in and approve/);
    expect(await page.locator('body').innerText()).toContain('intruder@example.com is not allowed');
    const still = await gptCall({ thing: 'queue', approval_id: id });
    expect(still.status).toBe(428);
    expect(still.body.error).toMatchObject({ approval_id: id });
  });
});
