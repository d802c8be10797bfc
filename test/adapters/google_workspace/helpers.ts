import { expect } from 'vitest';
import { testConfig } from '../../helpers/config.js';
import { HubError } from '../../../src/tools/errors.js';
import { toolContext } from '../../helpers/context.js';

export const TOKEN = 'ya29.workspace-test-token';

export function ctxFor(url: string, env: Record<string, string> = { GOOGLE_OAUTH_TOKEN: TOKEN }) {
  return toolContext(testConfig({ GOOGLE_API_BASE_URL: url, ...env }));
}

export async function failure(p: Promise<unknown>): Promise<HubError> {
  const err = await p.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}
