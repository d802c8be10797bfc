import type { Config } from '../../config.js';
import type { ToolServices } from '../../tools/types.js';
import { HubError } from '../../tools/errors.js';
import type { ConnectionStatus } from '../../tools/types.js';
import { googleCredentialLabel } from '../google/credentials.js';
import { googleRequest } from '../google/rest.js';
import { probeContext } from '../../tools/probe-context.js';
import { GOOGLEAPIS_HOST, SCOPES } from './shared.js';

/**
 * Obtains a token and reads Drive's about.user: one cheap, read-only GET that also works for a service account
 * without domain-wide delegation (Gmail's users/me/profile refuses those), and names the account the tools act as.
 */
export async function checkWorkspace(config: Config, services: ToolServices, signal: AbortSignal): Promise<ConnectionStatus> {
  try {
    const about = await googleRequest<{ user?: { emailAddress?: string; displayName?: string } }>(probeContext(config, services, signal), {
      host: GOOGLEAPIS_HOST,
      path: '/drive/v3/about',
      query: { fields: 'user(emailAddress,displayName)' },
      auth: SCOPES.driveRead,
    });
    const who = about.user?.emailAddress ?? about.user?.displayName ?? 'unknown account';
    return { state: 'connected', detail: `${googleCredentialLabel(config)} accepted (Drive about: ${who})` };
  } catch (err) {
    const message = err instanceof HubError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    return { state: 'failed', reason: message };
  }
}
