import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/http/auth.js';
import { AUTH, TEST_KEY, type TestHub } from '../helpers/app.js';
import { CHROMIUM, collectPageErrors, hasChromium } from '../helpers/chromium.js';
import { hubInChromium, type BrowserHub } from '../helpers/browser-hub.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

/**
 * The pictures of docs/governance.md's approval section are taken here, from the real page: with
 * UPDATE_DOC_IMAGES=1 into docs/images/, otherwise into test-artifacts/approval/ (not committed).
 */
const IMAGES = fileURLToPath(new URL(process.env.UPDATE_DOC_IMAGES === '1' ? '../../docs/images/' : '../../test-artifacts/approval/', import.meta.url));
if (!hasChromium) console.warn(`approval browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!hasChromium)('approval page in headless Chromium', () => {
  let hub: TestHub;
  let base: string;
  let page: Page;
  let browser: BrowserHub | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(IMAGES, { recursive: true });
    browser = await hubInChromium('approval', {}, { systems: [fixtureSystem] }, { viewport: { width: 900, height: 620 } });
    ({ hub, base, page } = browser);
    collectPageErrors(page, pageErrors);
  }, 180_000);

  afterAll(() => browser?.close());

  const shot = (name: string) => page.screenshot({ path: path.join(IMAGES, `${name}.png`), fullPage: true });
  /** The call a GPT Action makes: POST /v1/tools/<name> with the hub key. */
  const gptCall = (payload: object) =>
    fetch(`${base}/v1/tools/fixture_delete`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  const audit = async () => {
    await hub.deps.audit.flush();
    return (await hub.deps.audit.list({ tool: 'fixture_delete', limit: 20 })).records;
  };

  it('lists the pending approval in the console; approving on the page lets the same call run once', async () => {
    const asked = await gptCall({ thing: 'staging-db', confirm: true });
    expect(asked.status).toBe(428);
    const { error } = (await asked.json()) as { error: { approval_id: string; approval_url: string } };
    expect(error.approval_url).toBe(`${base}/approvals/${error.approval_id}`);

    // The console's Approvals view lists it with a link to its page.
    await page.goto(`${base}/console#approvals`);
    await page.getByLabel(/API key/).fill(TEST_KEY);
    await page.getByLabel(/API key/).press('Enter');
    const row = page.locator(`#approvals-table tbody tr[data-approval="${error.approval_id}"]`);
    await row.filter({ hasText: 'delete the thing "staging-db"' }).waitFor();
    expect(await row.getByRole('link', { name: /^Open the approval of fixture_delete/ }).getAttribute('href')).toBe(error.approval_url);
    await shot('approval-console');
    await page.getByRole('button', { name: 'Sign out' }).click();

    // The operator opens the link: the page says exactly what will happen, then a wrong key is refused.
    await page.goto(error.approval_url);
    expect(await page.locator('#action').textContent()).toBe('delete the thing "staging-db"');
    expect(await page.locator('#principal').textContent()).toContain(keyId(TEST_KEY));
    expect(JSON.parse((await page.locator('#args').textContent())!)).toEqual({ thing: 'staging-db' });
    await shot('approval-page');
    await page.getByLabel(/Hub key/).fill('not-the-key-0123456789');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a valid hub key' }).waitFor();

    await page.getByLabel(/Hub key/).fill(TEST_KEY);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#outcome').filter({ hasText: 'You approved this call' }).waitFor();
    await shot('approval-approved');

    // The next identical call runs, once.
    const run = await gptCall({ thing: 'staging-db', approval_id: error.approval_id });
    expect(run.status).toBe(200);
    expect(await run.json()).toEqual({ deleted: 'staging-db' });
    expect((await gptCall({ thing: 'staging-db', approval_id: error.approval_id })).status).toBe(428);
    const ok = (await audit()).find((r) => r.outcome === 'ok')!;
    expect(ok.approved_by).toMatchObject({ who: keyId(TEST_KEY), via: 'page', approval_id: error.approval_id });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('denying on the page refuses the call, audited with the operator', async () => {
    const asked = await gptCall({ thing: 'prod-db' });
    const { error } = (await asked.json()) as { error: { approval_id: string; approval_url: string } };
    await page.goto(error.approval_url);
    await page.getByLabel(/Hub key/).fill(TEST_KEY);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.locator('#outcome').filter({ hasText: 'You denied this call' }).waitFor();
    await shot('approval-denied');
    // Answered: the page no longer offers the form.
    await page.goto(error.approval_url);
    expect(await page.locator('h1').textContent()).toBe('Already denied');
    expect(await page.locator('form').count()).toBe(0);

    const refused = await gptCall({ thing: 'prod-db', approval_id: error.approval_id });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('approval_denied');
    const denials = (await audit()).filter((r) => r.denied_by?.approval_id === error.approval_id);
    expect(denials.map((r) => r.outcome)).toEqual(['denied_approval', 'denied_approval']);
    expect(denials[0]!.denied_by).toMatchObject({ who: keyId(TEST_KEY), via: 'page' });

    expect(pageErrors).toEqual([]);
  }, 120_000);
});
