import { probeStore } from '../intelligence/probe.js';
import type { SystemDefinition } from '../../tools/types.js';
import { fetchDocument, search } from './tools.js';

export const system: SystemDefinition = {
  id: 'connector',
  title: 'ChatGPT connector',
  tools: [search, fetchDocument],
  // Reads the Intelligence store, whose embedded default always works.
  missingConfig: () => null,
  check: (_config, services, signal) => probeStore(services, signal),
};
