import { z } from 'zod';
import { capItems } from '../../tools/limits.js';
import { defineTool } from '../../tools/types.js';
import { withGitHub } from './client.js';
import { repoPath } from './tools-commit.js';
import { ownerName, repoName } from './tools-repos.js';

interface ContentItem {
  type: string;
  name: string;
  path: string;
  sha: string;
  size: number;
  content?: string;
  encoding?: string;
  target?: string;
  submodule_git_url?: string;
  html_url: string | null;
  download_url: string | null;
}

/** Text when the bytes are valid UTF-8 without NULs, else base64; both cut to maxBytes of the original. */
export function decodeContent(bytes: Buffer, maxBytes: number): { encoding: 'utf-8' | 'base64'; content: string; truncated: boolean } {
  const truncated = bytes.length > maxBytes;
  let text: string | undefined;
  if (!bytes.includes(0)) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = undefined;
    }
  }
  if (text !== undefined) {
    // Cut on a character boundary: a partial trailing sequence decodes to U+FFFD, which is dropped.
    const cut = truncated ? new TextDecoder('utf-8').decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD+$/, '') : text;
    return { encoding: 'utf-8', content: cut, truncated };
  }
  const rawCap = Math.floor((maxBytes * 3) / 4);
  return { encoding: 'base64', content: bytes.subarray(0, rawCap).toString('base64'), truncated: bytes.length > rawCap };
}

export const githubGetContents = defineTool({
  name: 'github_get_contents',
  system: 'github',
  title: 'Read a GitHub file or directory',
  description: 'Read a file (decoded as UTF-8 text, or base64 for binary files, capped at max_bytes) or list a directory of a repository, at a branch, tag or commit (ref). Empty path lists the repository root.',
  level: 'LOW',
  input: z.object({
    owner: ownerName.describe('Repository owner (user or organization login)'),
    repo: repoName.describe('Repository name'),
    path: z.union([z.literal(''), repoPath]).default('').describe('File or directory path, e.g. "src/index.ts"; empty for the root'),
    ref: z.string().max(255).optional().describe('Branch, tag or commit sha (default: the default branch)'),
    max_bytes: z.number().int().min(1_000).max(80_000).default(40_000).describe('Maximum bytes of file content returned'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run(args, ctx) {
    const { owner, repo } = args;
    const data = await withGitHub(ctx.config, `reading ${owner}/${repo}/${args.path}`, async (gh) => {
      const res = await gh.rest.repos.getContent({ owner, repo, path: args.path, ...(args.ref ? { ref: args.ref } : {}), request: { signal: ctx.signal } });
      return res.data as ContentItem | ContentItem[];
    });
    if (Array.isArray(data)) {
      const { items, truncated } = capItems(data);
      return {
        type: 'dir',
        path: args.path,
        count: data.length,
        entries: items.map((e) => ({ name: e.name, path: e.path, type: e.type, size: e.size, sha: e.sha })),
        truncated,
      };
    }
    const base = { type: data.type, path: data.path, name: data.name, sha: data.sha, size: data.size, html_url: data.html_url };
    if (data.type === 'symlink') return { ...base, target: data.target ?? null };
    if (data.type === 'submodule') return { ...base, submodule_git_url: data.submodule_git_url ?? null };
    if (data.encoding !== 'base64' || data.content === undefined) {
      // Files over 1 MB come without content from this endpoint.
      return { ...base, encoding: null, content: null, truncated: true, download_url: data.download_url, message: 'file too large for the contents API; use download_url' };
    }
    const decoded = decodeContent(Buffer.from(data.content, 'base64'), args.max_bytes);
    return { ...base, ...decoded };
  },
});
