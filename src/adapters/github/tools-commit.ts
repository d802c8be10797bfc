import type { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { defineTool } from '../../tools/types.js';
import { statusOf, withGitHub } from './client.js';
import { ownerName, repoName } from './tools-repos.js';

export const MAX_FILE_CHARS = 1_000_000;

export const repoPath = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^(?!\/)(?!.*\/\/)(?!.*\/$)(?!(.*\/)?\.\.?(\/|$))(?!(.*\/)?\.git(\/|$))[^\0\\]+$/, 'must be a relative path like "src/app.ts" without "..", ".git" or empty segments');

const branchName = z
  .string()
  .max(255)
  .regex(/^(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]+(?<![/.])(?<!\.lock)$/, 'must be a valid branch name');

const fileSchema = z.object({
  path: repoPath.describe('Path in the repository, e.g. "src/index.ts"'),
  content: z.string().max(MAX_FILE_CHARS).describe('File content: text for utf-8, or base64 for binary files'),
  encoding: z.enum(['utf-8', 'base64']).default('utf-8').describe('How content is given: "utf-8" text (default) or "base64"'),
  executable: z.boolean().default(false).describe('Mark the file executable (mode 100755)'),
});

export const githubCommitFiles = defineTool({
  name: 'github_commit_files',
  system: 'github',
  title: 'Commit files to a GitHub branch',
  description: 'Create, update and delete several files in ONE commit on a branch (Git Data API). The branch defaults to the repository\'s default branch; with create_branch it is created from base_branch (or the default branch) when missing.',
  level: 'MEDIUM',
  input: z
    .object({
      owner: ownerName.describe('Repository owner (user or organization login)'),
      repo: repoName.describe('Repository name'),
      branch: branchName.optional().describe('Branch to commit to (default: the repository\'s default branch)'),
      message: z.string().trim().min(1).max(10_000).describe('Commit message'),
      files: z.array(fileSchema).max(100).default([]).describe('Files to create or overwrite (up to 100)'),
      deletions: z.array(repoPath).max(100).default([]).describe('Paths of files to delete in the same commit'),
      create_branch: z.boolean().default(false).describe('Create branch if it does not exist yet'),
      base_branch: branchName.optional().describe('Branch to start a new branch from (default: the default branch)'),
      author: z
        .object({ name: z.string().min(1).max(200).describe('Author name'), email: z.email().describe('Author email') })
        .optional()
        .describe('Commit author (default: the token\'s user)'),
    })
    .refine((v) => v.files.length + v.deletions.length > 0, { message: 'give at least one file or deletion', path: ['files'] }),
  output: z.object({
    commit_sha: z.string(),
    html_url: z.string().nullable(),
    branch: z.string(),
    created_branch: z.boolean(),
    parent_sha: z.string(),
    files_written: z.array(z.string()),
    files_deleted: z.array(z.string()),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, ctx) {
    const paths = [...args.files.map((f) => f.path), ...args.deletions];
    const dup = paths.find((p, i) => paths.indexOf(p) !== i);
    if (dup) throw new HubError('invalid_arguments', `path ${dup} appears more than once in files/deletions`, { field: 'files' });
    const { owner, repo } = args;
    const signal = ctx.signal;
    const where = `${owner}/${repo}`;

    return withGitHub(ctx.config, `committing to ${where}`, async (gh) => {
      let defaultBranch: string | undefined;
      const getDefault = async () => (defaultBranch ??= (await gh.rest.repos.get({ owner, repo, request: { signal } })).data.default_branch);
      const branch = args.branch ?? (await getDefault());

      const head = await headOf(gh, owner, repo, branch, signal);
      let parentSha: string;
      let created = false;
      if (head) {
        parentSha = head;
      } else if (args.create_branch) {
        const base = args.base_branch ?? (await getDefault());
        const baseSha = await headOf(gh, owner, repo, base, signal);
        if (!baseSha) throw new HubError('not_found', `base branch ${base} does not exist in ${where}`, { upstream_status: 404 });
        parentSha = baseSha;
        created = true;
      } else {
        throw new HubError('not_found', `branch ${branch} does not exist in ${where} (or the repository is not visible to GITHUB_TOKEN); set create_branch: true to create it`, { upstream_status: 404 });
      }

      const parent = (await gh.rest.git.getCommit({ owner, repo, commit_sha: parentSha, request: { signal } })).data;
      const tree: { path: string; mode: '100644' | '100755'; type: 'blob'; sha: string | null }[] = [];
      // Blobs one at a time: GitHub's secondary rate limits punish bursts of concurrent writes.
      for (const f of args.files) {
        const blob = (await gh.rest.git.createBlob({ owner, repo, content: f.content, encoding: f.encoding, request: { signal } })).data;
        tree.push({ path: f.path, mode: f.executable ? '100755' : '100644', type: 'blob', sha: blob.sha });
      }
      for (const p of args.deletions) tree.push({ path: p, mode: '100644', type: 'blob', sha: null });

      const newTree = (await gh.rest.git.createTree({ owner, repo, base_tree: parent.tree.sha, tree, request: { signal } })).data;
      const commit = (
        await gh.rest.git.createCommit({
          owner,
          repo,
          message: args.message,
          tree: newTree.sha,
          parents: [parentSha],
          ...(args.author ? { author: args.author } : {}),
          request: { signal },
        })
      ).data;
      if (created) {
        await gh.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commit.sha, request: { signal } });
      } else {
        // Not forced: if someone pushed meanwhile GitHub answers 422 and nothing is overwritten.
        await gh.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commit.sha, force: false, request: { signal } });
      }
      return {
        commit_sha: commit.sha,
        html_url: commit.html_url ?? null,
        branch,
        created_branch: created,
        parent_sha: parentSha,
        files_written: args.files.map((f) => f.path),
        files_deleted: args.deletions,
      };
    });
  },
});

/** The commit sha a branch points at, or null when the branch does not exist. An empty repository is explained. */
async function headOf(gh: Octokit, owner: string, repo: string, branch: string, signal: AbortSignal): Promise<string | null> {
  try {
    return (await gh.rest.git.getRef({ owner, repo, ref: `heads/${branch}`, request: { signal } })).data.object.sha;
  } catch (err) {
    if (statusOf(err) === 404) return null;
    if (statusOf(err) === 409) {
      throw new HubError('upstream_error', `${owner}/${repo} is empty (no commits yet); create it with auto_init: true or push a first commit`, {
        upstream_status: 409,
      });
    }
    throw err;
  }
}
