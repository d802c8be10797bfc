import { z } from 'zod';
import { defineTool } from '../../tools/types.js';
import { withGitHub } from './client.js';

export const ownerName = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub user or organization login');
export const repoName = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be a repository name (letters, digits, ".", "_", "-")');

export const githubCreateRepository = defineTool({
  name: 'github_create_repository',
  system: 'github',
  title: 'Create a GitHub repository',
  description: 'Create a repository for the token\'s user, or in an organization when org is given. Private by default; auto_init (default true) adds a first commit with a README so files can be committed right away.',
  level: 'HIGH',
  input: z.object({
    name: repoName.describe('Repository name, e.g. "my-service"'),
    org: ownerName.optional().describe('Organization to create it in (default: the token\'s own account)'),
    description: z.string().max(350).optional().describe('Short description shown on GitHub'),
    private: z.boolean().default(true).describe('Private repository (default true)'),
    auto_init: z.boolean().default(true).describe('Create an initial commit with a README (needed before github_commit_files can commit)'),
    gitignore_template: z.string().max(50).optional().describe('A .gitignore template name, e.g. "Node", "Python" (needs auto_init)'),
    license_template: z.string().max(50).optional().describe('A license keyword, e.g. "mit", "apache-2.0" (needs auto_init)'),
  }),
  output: z.object({
    id: z.number(),
    full_name: z.string(),
    owner: z.string(),
    private: z.boolean(),
    default_branch: z.string().nullable(),
    html_url: z.string(),
    clone_url: z.string(),
    ssh_url: z.string(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const body = {
      name: args.name,
      description: args.description,
      private: args.private,
      auto_init: args.auto_init,
      gitignore_template: args.gitignore_template,
      license_template: args.license_template,
      request: { signal: ctx.signal },
    };
    const repo = await withGitHub(ctx.config, `creating repository ${args.org ? `${args.org}/` : ''}${args.name}`, async (gh) =>
      args.org ? (await gh.rest.repos.createInOrg({ org: args.org, ...body })).data : (await gh.rest.repos.createForAuthenticatedUser(body)).data,
    );
    return {
      id: repo.id,
      full_name: repo.full_name,
      owner: repo.owner.login,
      private: repo.private,
      // An empty repository (auto_init false) has no branch yet.
      default_branch: args.auto_init ? repo.default_branch : null,
      html_url: repo.html_url,
      clone_url: repo.clone_url,
      ssh_url: repo.ssh_url,
    };
  },
});
