import { existsSync } from 'node:fs';
import type { SystemDefinition } from '../../tools/types.js';
import { dockerCheck } from './check.js';
import { DEFAULT_SOCKET } from './client.js';
import { dockerRemove, dockerRun, dockerStop } from './tools-containers.js';
import { dockerBuild, dockerPull, dockerPush } from './tools-images.js';
import { dockerInspect, dockerListContainers, dockerListImages, dockerLogs } from './tools-read.js';

export const system: SystemDefinition = {
  id: 'docker',
  title: 'Docker',
  tools: [dockerListContainers, dockerListImages, dockerInspect, dockerLogs, dockerPull, dockerBuild, dockerPush, dockerRun, dockerStop, dockerRemove],
  // With DOCKER_HOST unset the local socket is the address; when there is none (no Docker on this machine) the system
  // is unconfigured (`npm run check` shows "⊘ Needs DOCKER_HOST") rather than failing. check() reports whether it answers.
  missingConfig: (config) => (config.docker.host || existsSync(DEFAULT_SOCKET) ? null : 'DOCKER_HOST'),
  check: dockerCheck,
};
