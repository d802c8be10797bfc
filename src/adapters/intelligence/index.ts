import type { SystemDefinition } from '../../tools/types.js';
import { probeStore } from './probe.js';
import { intelligenceIngest, intelligenceQuery } from './tools.js';

export const system: SystemDefinition = {
  id: 'intelligence',
  title: 'Intelligence',
  tools: [intelligenceIngest, intelligenceQuery],
  // The embedded SQLite default needs no configuration.
  missingConfig: () => null,
  check: (_config, services, signal) => probeStore(services, signal),
};
