import type { Config } from '../../config.js';
import type { ToolServices } from '../../tools/types.js';
import type { ConnectionStatus } from '../../tools/types.js';
import { githubError, withGitHub } from './client.js';

/** GET /user: proves the token works and shows which classic scopes it carries (fine-grained tokens send none). */
export async function githubCheck(config: Config, _services: ToolServices, signal: AbortSignal): Promise<ConnectionStatus> {
  try {
    const res = await withGitHub(config, 'GitHub check', (gh) => gh.rest.users.getAuthenticated({ request: { signal } }));
    const scopes = res.headers['x-oauth-scopes'];
    const scopeText = scopes === undefined ? 'fine-grained or app token (no X-OAuth-Scopes)' : `scopes: ${scopes || '(none)'}`;
    return { state: 'connected', detail: `as ${res.data.login}; ${scopeText}` };
  } catch (err) {
    return { state: 'failed', reason: githubError(err, config, 'GitHub check').message };
  }
}
