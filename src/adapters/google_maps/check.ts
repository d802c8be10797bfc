import type { Config } from '../../config.js';
import type { ToolServices } from '../../tools/types.js';
import { HubError } from '../../tools/errors.js';
import type { ConnectionStatus } from '../../tools/types.js';
import { geocodeRequest } from './geocode.js';
import { probeContext } from '../../tools/probe-context.js';

/** The address Google's own Geocoding examples use: a fixed, always-resolvable probe. */
export const CHECK_ADDRESS = '1600 Amphitheatre Parkway, Mountain View, CA';

/** One forward geocode; REQUEST_DENIED (bad key, API not enabled) and any other failure report failed. */
export async function checkMaps(config: Config, services: ToolServices, signal: AbortSignal): Promise<ConnectionStatus> {
  try {
    const res = await geocodeRequest(probeContext(config, services, signal), { address: CHECK_ADDRESS });
    return { state: 'connected', detail: `GOOGLE_API_KEY accepted by the Geocoding API (${res.status})` };
  } catch (err) {
    const message = err instanceof HubError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    return { state: 'failed', reason: message };
  }
}
