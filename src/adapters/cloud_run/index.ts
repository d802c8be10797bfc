import type { SystemDefinition } from '../../tools/types.js';
import { HubError } from '../../tools/errors.js';
import { googleCredentialLabel, googleMissingConfig } from '../google/credentials.js';
import { raceSignal } from '../google/retry.js';
import { runEndpoint, runError, servicesClient } from './client.js';
import { cloudRunDeploy } from './deploy.js';
import { cloudRunDelete, cloudRunDescribe, cloudRunList } from './tools.js';

export const system: SystemDefinition = {
  id: 'cloud_run',
  title: 'Google Cloud Run',
  tools: [cloudRunDeploy, cloudRunList, cloudRunDescribe, cloudRunDelete],
  missingConfig: (config) => googleMissingConfig(config),
  async check(config, _services, signal) {
    const missing = googleMissingConfig(config);
    if (missing) return { state: 'needs', variable: missing };
    const project = config.google.project;
    if (!project) return { state: 'needs', variable: 'GOOGLE_CLOUD_PROJECT' };
    const parent = `projects/${project}/locations/${config.google.region}`;
    try {
      const client = await servicesClient(config);
      await raceSignal(client.listServices({ parent, pageSize: 1 }, { autoPaginate: false, timeout: 10_000 }), signal, 'probing the Cloud Run API');
      return { state: 'connected', detail: `${googleCredentialLabel(config)}; ${parent} via ${runEndpoint(config).apiEndpoint}` };
    } catch (err) {
      const e = err instanceof HubError ? err : runError(err, config);
      return { state: 'failed', reason: `${e.code}: ${e.message}` };
    }
  },
};
