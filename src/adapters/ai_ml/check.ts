import type { Config } from '../../config.js';
import type { ToolServices } from '../../tools/types.js';
import { HubError } from '../../tools/errors.js';
import { probeContext } from '../../tools/probe-context.js';
import type { ConnectionStatus } from '../../tools/types.js';
import { googleCredentialSource } from '../google/credentials.js';
import { googleRequest } from '../google/rest.js';
import { OAUTH_ONLY } from './shared.js';

/**
 * Read-only, free probes: with GOOGLE_API_KEY, list one Gemini model (the key works for the Gemini API); with OAuth,
 * list the Translation v2 language codes (any Cloud project token can call it).
 */
export async function checkAiMl(config: Config, services: ToolServices, signal: AbortSignal): Promise<ConnectionStatus> {
  const ctx = probeContext(config, services, signal);
  const source = googleCredentialSource(config);
  try {
    if (config.google.apiKey) {
      const res = await googleRequest<{ models?: Array<{ name?: string }> }>(ctx, {
        host: 'generativelanguage.googleapis.com',
        path: '/v1beta/models',
        query: { pageSize: 1 },
        auth: 'api_key',
        idempotent: true,
      });
      const oauth = source ? `; OAuth via ${source} for Vertex AI` : '; no OAuth source, so google_vertex_predict is unavailable';
      return { state: 'connected', detail: `GOOGLE_API_KEY accepted by the Gemini API (${res.models?.[0]?.name ?? 'no models listed'})${oauth}` };
    }
    if (!source) return { state: 'needs', variable: 'GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_API_KEY' };
    const res = await googleRequest<{ data?: { languages?: unknown[] } }>(ctx, {
      host: 'translation.googleapis.com',
      path: '/language/translate/v2/languages',
      auth: OAUTH_ONLY,
      idempotent: true,
    });
    return { state: 'connected', detail: `OAuth (${source}) accepted by Cloud Translation (${res.data?.languages?.length ?? 0} languages)` };
  } catch (err) {
    const message = err instanceof HubError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    return { state: 'failed', reason: message };
  }
}
