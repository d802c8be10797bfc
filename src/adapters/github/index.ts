import type { SystemDefinition } from '../../tools/types.js';
import { githubCheck } from './check.js';
import { githubCommitFiles } from './tools-commit.js';
import { githubGetContents } from './tools-contents.js';
import { githubCreateRepository } from './tools-repos.js';

export const system: SystemDefinition = {
  id: 'github',
  title: 'GitHub',
  tools: [githubCreateRepository, githubCommitFiles, githubGetContents],
  missingConfig: (config) => (config.github.token ? null : 'GITHUB_TOKEN'),
  check: githubCheck,
};
