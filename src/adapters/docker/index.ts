import type { SystemDefinition } from '../../tools/types.js';
import { dockerCheck } from './check.js';
import { dockerRemove, dockerRun, dockerStop } from './tools-containers.js';
import { dockerBuild, dockerPull, dockerPush } from './tools-images.js';
import { dockerInspect, dockerListContainers, dockerListImages, dockerLogs } from './tools-read.js';

export const system: SystemDefinition = {
  id: 'docker',
  title: 'Docker',
  tools: [dockerListContainers, dockerListImages, dockerInspect, dockerLogs, dockerPull, dockerBuild, dockerPush, dockerRun, dockerStop, dockerRemove],
  // The local socket is the default, so there is always an address to try; check() reports whether it answers.
  missingConfig: () => null,
  check: dockerCheck,
};
