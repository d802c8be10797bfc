import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { Config } from '../../../src/config.js';
import { testConfig } from '../../helpers/config.js';
import type { ToolDefinition } from '../../../src/tools/types.js';
import { FAKE_API_KEY, FAKE_TOKEN, startAiMlFake, type AiMlFake } from '../../fakes/ai-ml.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';

export type Credential = 'key' | 'oauth' | 'both';

/** A config pointing every Google host at the fake, with one credential kind (or both). */
export function aiConfig(fake: AiMlFake, credential: Credential, extra: Record<string, string> = {}): Config {
  return testConfig({
    GOOGLE_API_BASE_URL: fake.url,
    ...(credential !== 'oauth' ? { GOOGLE_API_KEY: FAKE_API_KEY } : {}),
    ...(credential !== 'key' ? { GOOGLE_OAUTH_TOKEN: FAKE_TOKEN, GOOGLE_CLOUD_PROJECT: 'demo-project', GOOGLE_CLOUD_REGION: 'europe-west4' } : {}),
    ...extra,
  });
}

export function call(tool: ToolDefinition, args: unknown, config: Config) {
  const ctx = toolContext(config);
  return { ctx, result: runTool(tool, args, ctx) };
}

export async function run(tool: ToolDefinition, args: unknown, config: Config): Promise<Record<string, unknown>> {
  return call(tool, args, config).result;
}

export function sentWithKey(req: { headers: Record<string, unknown> }): void {
  expect(req.headers['x-goog-api-key']).toBe(FAKE_API_KEY);
  expect(req.headers.authorization).toBeUndefined();
}

export function sentWithToken(req: { headers: Record<string, unknown> }): void {
  expect(req.headers.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
  expect(req.headers['x-goog-api-key']).toBeUndefined();
}

/**
 * One fake of the AI/ML APIs for the enclosing describe block: started before its tests, request log cleared before
 * each, closed after. The returned object forwards to the running fake.
 */
export function useAiMlFake(): AiMlFake {
  let current: AiMlFake | undefined;
  beforeAll(async () => {
    current = await startAiMlFake();
  });
  beforeEach(() => {
    if (current) current.requests.length = 0;
  });
  afterAll(async () => {
    await current?.close();
  });
  return new Proxy({} as AiMlFake, {
    get(_target, prop) {
      if (!current) throw new Error('the AI/ML fake is not running (use it inside a test)');
      const value: unknown = Reflect.get(current, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
}

export { failure };
