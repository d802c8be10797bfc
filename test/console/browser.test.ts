import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/http/auth.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { CHROMIUM, collectPageErrors, hasChromium } from '../helpers/chromium.js';
import { hubInChromium, type BrowserHub } from '../helpers/browser-hub.js';
import { fixtureSystem, unconfiguredSystem } from '../helpers/fixture-system.js';

const SHOTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));
if (!hasChromium) console.warn(`console browser test skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

describe.skipIf(!hasChromium)('operator console in headless Chromium', () => {
  let hub: TestHub;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let browser: BrowserHub | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // APPROVAL=model: the Tools view's confirm box is what runs a CRITICAL tool here (approval by a person has its own
    // browser test, approval-browser.test.ts).
    mkdirSync(SHOTS, { recursive: true });
    browser = await hubInChromium('console', { APPROVAL: 'model' }, { systems: [fixtureSystem, unconfiguredSystem] }, { viewport: { width: 1280, height: 860 } });
    ({ hub, base, context, page } = browser);
    // CSP violations and script errors surface here; the page must run clean.
    collectPageErrors(page, pageErrors);
  }, 180_000);

  afterAll(() => browser?.close());

  const row = (table: string, attr: string, value: string) => page.locator(`#${table}-table tbody tr[${attr}="${value}"]`);
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const nav = (name: string) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name }).click();

  it('signs in, shows connections, runs a tool, and shows its audit record and quota', async () => {
    await page.goto(`${base}/console`);

    // A wrong key: a clear message, back on the form, the key never rendered.
    await page.getByLabel(/API key/).fill('not-the-key-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-msg').filter({ hasText: 'Wrong key: the hub refused it (401)' }).waitFor();
    expect(await page.locator('#nav').isHidden()).toBe(true);
    expect(await page.evaluate('sessionStorage.getItem("omni-hub.key")')).toBeNull();
    await shot('login-wrong-key');

    // The right key, submitted with the keyboard: the connection table, with the variable to set.
    await page.getByLabel(/API key/).fill(TEST_KEY);
    await page.getByLabel(/API key/).press('Enter');
    const connector = row('connections', 'data-system', 'connector');
    await connector.filter({ hasText: '✓ Connected' }).waitFor();
    const needs = row('connections', 'data-system', 'github');
    expect(await needs.locator('.badge').textContent()).toBe('⊘ Needs FIXTURE_TOKEN');
    expect(await needs.locator('code').textContent()).toBe('FIXTURE_TOKEN');
    expect(await page.locator('body').innerText()).not.toContain(TEST_KEY);
    await shot('connections');

    // Governance before the call: the echo tool's bar is empty.
    await nav('Governance');
    const echoUsage = row('governance', 'data-tool', 'fixture_echo').locator('meter');
    await echoUsage.waitFor();
    expect([await echoUsage.getAttribute('value'), await echoUsage.getAttribute('max')]).toEqual(['0', '1000']);
    expect(await page.locator('dd[data-key="Mode"]').textContent()).toContain('enforce');

    // Tools: the form generated from the schema; a bad call shows the field error and uses no quota.
    await nav('Tools');
    await page.getByRole('button', { name: 'Try fixture_echo' }).click();
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('#try-status').filter({ hasText: 'failed (HTTP 400): invalid_arguments' }).waitFor();
    expect(await page.locator('#arg-message').getAttribute('aria-invalid')).not.toBeNull();
    expect(await page.locator('#arg-message-err').textContent()).not.toBe('');

    await page.getByLabel(/^message/).fill('hello console');
    await page.getByLabel(/^repeat/).fill('2');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('#try-result').filter({ hasText: '"echo": "HELLO CONSOLEHELLO CONSOLE"' }).waitFor();
    expect(await page.locator('#try-status').textContent()).toContain('fixture_echo: ok (HTTP 200');
    expect(await page.locator('#arg-message').getAttribute('aria-invalid')).toBeNull();
    await shot('tools');

    // The governed pipeline really ran: the hub's own audit has the call with our key id and arguments.
    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ tool: 'fixture_echo' });
    expect(records.map((r) => r.outcome)).toEqual(['ok', 'invalid']);
    expect(records[0]).toMatchObject({ transport: 'rest', principal: keyId(TEST_KEY), args: { message: 'hello console', repeat: 2 } });

    // Governance after: used 0 → 1 (the invalid call used no quota), and a reset time is shown.
    await nav('Governance');
    await row('governance', 'data-tool', 'fixture_echo').locator('meter[value="1"]').waitFor();
    expect(await row('governance', 'data-tool', 'fixture_echo').locator('.num').textContent()).toBe('1 / 1000');
    expect(await row('governance', 'data-tool', 'fixture_echo').locator('.reset').textContent()).toMatch(/^in \d+ (s|min)$/);
    await shot('governance');

    // Audit: the new rows, newest first, and the call's detail with its arguments.
    await nav('Audit');
    const auditRows = row('audit', 'data-tool', 'fixture_echo');
    await auditRows.nth(1).waitFor();
    expect(await auditRows.locator('.badge').allTextContents()).toEqual(['ok', 'invalid']);
    expect(await auditRows.first().textContent()).toContain(keyId(TEST_KEY));
    await auditRows.first().getByRole('button', { name: /^Details of fixture_echo/ }).click();
    const detail = page.locator('#audit-detail pre');
    await detail.filter({ hasText: '"message": "hello console"' }).waitFor();
    expect(JSON.parse((await detail.textContent())!)).toMatchObject({ tool: 'fixture_echo', outcome: 'ok', quota: { used: 1, limit: 1000 } });
    await shot('audit');

    // Auto-refresh: a call made elsewhere (curl-like) appears without touching the page.
    const res = await fetch(`${base}/v1/tools/fixture_fail`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(502);
    await row('audit', 'data-tool', 'fixture_fail').filter({ hasText: 'error' }).waitFor({ timeout: 30_000 });

    // Filters: outcome narrows the list through the API's own filter.
    await page.getByLabel('Outcome').selectOption('invalid');
    await row('audit', 'data-tool', 'fixture_fail').waitFor({ state: 'detached' });
    expect(await page.locator('#audit-table tbody .badge').allTextContents()).toEqual(['invalid']);

    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('runs a CRITICAL tool only once its confirm box is ticked', async () => {
    await nav('Tools');
    await page.getByRole('button', { name: 'Try fixture_delete' }).click();
    await page.getByLabel(/^thing/).fill('old-service');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('#try-status').filter({ hasText: 'failed (HTTP 428): confirmation_required' }).waitFor();
    expect(await page.locator('#try-result').textContent()).toContain('delete the thing \\"old-service\\"');

    await page.getByLabel(/^confirm/).check();
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('#try-result').filter({ hasText: '"deleted": "old-service"' }).waitFor();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('builds a labelled form for every tool of the real catalog', async () => {
    const full = await testHub();
    try {
      const fullBase = await full.app.listen({ port: 0, host: '127.0.0.1' });
      const catalog = (await (await fetch(`${fullBase}/v1/tools`, { headers: AUTH })).json()) as {
        tools: { name: string; input_schema: { properties?: Record<string, unknown> } }[];
      };
      expect(catalog.tools.length).toBeGreaterThan(40);
      const tab = await context.newPage();
      tab.on('pageerror', (err) => pageErrors.push(err.message));
      await tab.goto(`${fullBase}/console#tools`);
      await tab.getByLabel(/API key/).fill(TEST_KEY);
      await tab.getByLabel(/API key/).press('Enter');
      for (const tool of catalog.tools) {
        await tab.getByRole('button', { name: `Try ${tool.name}`, exact: true }).click();
        await tab.locator('#try-h').filter({ hasText: `Try ${tool.name}` }).waitFor();
        for (const field of Object.keys(tool.input_schema.properties ?? {})) {
          // Every generated control is reachable by its label (what a screen reader announces).
          expect(await tab.getByLabel(new RegExp(`^${field}( \\(required\\))?$`)).count(), `${tool.name}.${field}`).toBe(1);
        }
      }
      await tab.close();
    } finally {
      await full.close();
    }
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('fits a phone screen and signs out', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await nav('Governance');
    await row('governance', 'data-tool', 'fixture_echo').waitFor();
    // Wide tables scroll inside their own box; the page itself never scrolls sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await shot('governance-phone');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login-msg').filter({ hasText: 'Signed out.' }).waitFor();
    expect(await page.evaluate('sessionStorage.getItem("omni-hub.key")')).toBeNull();
    expect(await page.locator('#governance').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
