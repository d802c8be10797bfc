import { testConfig } from '../../helpers/config.js';
import { failure, toolContext } from '../../helpers/context.js';

export const TOKEN = 'ya29.workspace-test-token';

export function ctxFor(url: string, env: Record<string, string> = { GOOGLE_OAUTH_TOKEN: TOKEN }) {
  return toolContext(testConfig({ GOOGLE_API_BASE_URL: url, ...env }));
}

export { failure };
