import type { AppOptions } from '../../src/app.js';
import { testHub, type TestHub } from './app.js';
import { launchChromium, type HeadlessChromium } from './chromium.js';

/** A hub listening on a loopback port and a headless Chromium to drive its pages: how every browser suite starts. */
export interface BrowserHub extends HeadlessChromium {
  hub: TestHub;
  /** The hub's origin, e.g. http://127.0.0.1:41234. */
  base: string;
}

export async function hubInChromium(name: string, env: Record<string, string> = {}, options: AppOptions = {}, launch: Parameters<typeof launchChromium>[1] = {}): Promise<BrowserHub> {
  const hub = await testHub(env, options);
  try {
    const base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await launchChromium(name, launch);
    return {
      ...browser,
      hub,
      base,
      close: async () => {
        await browser.close();
        await hub.close();
      },
    };
  } catch (err) {
    await hub.close();
    throw err;
  }
}
