import type { Config } from '../../config.js';
import type { ToolServices } from '../../tools/types.js';
import type { ConnectionStatus } from '../../tools/types.js';
import { dockerClient, dockerError } from './client.js';
import { engineVersion, ping } from './shared.js';

/** `_ping` then `version`: cheap, read-only, and tells which Engine answered. */
export async function dockerCheck(config: Config, _services: ToolServices, signal: AbortSignal): Promise<ConnectionStatus> {
  try {
    const docker = await dockerClient(config);
    await ping(docker, signal);
    const v = await engineVersion(docker, signal);
    return { state: 'connected', detail: `Docker Engine ${v.Version} (API ${v.ApiVersion}, ${v.Os}/${v.Arch})` };
  } catch (err) {
    return { state: 'failed', reason: dockerError(err, config, 'Docker check').message };
  }
}
