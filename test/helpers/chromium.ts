import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The distribution's Chromium (apt-get install chromium): browser suites skip with a message when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface HeadlessChromium {
  context: BrowserContext;
  /** The page the browser opened with. */
  page: Page;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

/** Headless Chromium in a fresh profile directory (`omni-<name>-chromium-*` under the temp dir). */
export async function launchChromium(name: string, options: { viewport?: { width: number; height: number }; ignoreHTTPSErrors?: boolean } = {}): Promise<HeadlessChromium> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), `omni-${name}-chromium-`));
  const removeDir = () => rmSync(userDataDir, { recursive: true, force: true });
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, ...options });
    const page = context.pages()[0] ?? (await context.newPage());
    const opened = context;
    return {
      context: opened,
      page,
      close: async () => {
        await opened.close();
        removeDir();
      },
    };
  } catch (err) {
    await context?.close();
    removeDir();
    throw err;
  }
}

/**
 * Collects what would show a page is broken into `errors`: script errors (CSP violations among them) and console
 * errors, except the browser's own line for each 4xx answer (wrong keys and refused calls are expected in these tests).
 */
export function collectPageErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/responded with a status of 4\d\d/.test(msg.text())) errors.push(msg.text());
  });
}
