import { createHash } from 'node:crypto';
import type http from 'node:http';
import { type RecordedRequest, sendJson, startFakeServer } from '../helpers/fake-server.js';

/**
 * A local stand-in for the GitHub REST API (v3) as @octokit/rest calls it: repositories, the Git Data API
 * (refs, commits, blobs, trees) and the contents API, with GitHub's error bodies
 * (`{"message", "documentation_url", "status", "errors"?}`), 401 for a bad token, and primary / secondary
 * rate-limit answers. Also serves under /api/v3 (GitHub Enterprise base URL).
 */

export interface FakeCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: { name: string; email: string; date: string };
}

export interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  description: string | null;
  default_branch: string;
  refs: Map<string, string>;
  commits: Map<string, FakeCommit>;
  /** Tree sha → flat map of path → {mode, blob sha}. */
  trees: Map<string, Map<string, { mode: string; sha: string }>>;
  blobs: Map<string, Buffer>;
}

export interface FakeGitHubState {
  login: string;
  token: string;
  scopes: string | undefined;
  orgs: Set<string>;
  repos: Map<string, FakeRepo>;
  /** Answer every request with this rate-limit refusal. */
  rateLimit?: 'primary' | 'secondary';
}

export interface FakeGitHub {
  url: string;
  state: FakeGitHubState;
  requests: RecordedRequest[];
  /** Creates a repository with one commit holding these files on its default branch. */
  seedRepo(fullName: string, files: Record<string, string | Buffer>, opts?: { defaultBranch?: string; empty?: boolean }): FakeRepo;
  /** Files at the head of a branch, decoded as UTF-8. */
  filesAt(fullName: string, branch: string): Record<string, string>;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const gitSha = (type: string, body: Buffer) => createHash('sha1').update(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body])).digest('hex');

function error(res: http.ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  sendJson(res, status, { message, documentation_url: DOCS, status: String(status), ...extra }, headers);
}

export async function startFakeGitHub(opts: { token?: string; scopes?: string } = {}): Promise<FakeGitHub> {
  const state: FakeGitHubState = {
    login: 'octo-dev',
    token: opts.token ?? 'ghp_testtoken0123456789',
    scopes: opts.scopes ?? 'repo, workflow',
    orgs: new Set(['acme']),
    repos: new Map(),
  };
  let nextId = 1000;
  let clock = Date.parse('2026-01-01T00:00:00Z');

  const newRepo = (owner: string, name: string, priv: boolean, description: string | null, defaultBranch = 'main'): FakeRepo => {
    const repo: FakeRepo = { id: nextId++, owner, name, private: priv, description, default_branch: defaultBranch, refs: new Map(), commits: new Map(), trees: new Map(), blobs: new Map() };
    state.repos.set(`${owner}/${name}`.toLowerCase(), repo);
    return repo;
  };

  const storeTree = (repo: FakeRepo, entries: Map<string, { mode: string; sha: string }>): string => {
    const sorted = [...entries.entries()].sort(([a], [b]) => a.localeCompare(b));
    const sha = gitSha('tree', Buffer.from(JSON.stringify(sorted)));
    repo.trees.set(sha, new Map(sorted));
    return sha;
  };

  const storeCommit = (repo: FakeRepo, tree: string, parents: string[], message: string, author?: { name: string; email: string }): FakeCommit => {
    clock += 60_000;
    const a = { name: author?.name ?? state.login, email: author?.email ?? `${state.login}@users.noreply.github.com`, date: new Date(clock).toISOString() };
    const sha = gitSha('commit', Buffer.from(JSON.stringify({ tree, parents, message, a })));
    const commit = { sha, tree, parents, message, author: a };
    repo.commits.set(sha, commit);
    return commit;
  };

  const storeBlob = (repo: FakeRepo, content: Buffer): string => {
    const sha = gitSha('blob', content);
    repo.blobs.set(sha, content);
    return sha;
  };

  const seedRepo: FakeGitHub['seedRepo'] = (fullName, files, o = {}) => {
    const [owner, name] = fullName.split('/');
    const repo = newRepo(owner, name, true, null, o.defaultBranch);
    if (o.empty) return repo;
    const entries = new Map<string, { mode: string; sha: string }>();
    for (const [p, content] of Object.entries(files)) entries.set(p, { mode: '100644', sha: storeBlob(repo, Buffer.from(content)) });
    const commit = storeCommit(repo, storeTree(repo, entries), [], 'Initial commit');
    repo.refs.set(repo.default_branch, commit.sha);
    return repo;
  };

  const repoJson = (r: FakeRepo, base: string) => ({
    id: r.id,
    node_id: `R_${r.id}`,
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    private: r.private,
    owner: { login: r.owner, id: 1, type: state.orgs.has(r.owner) ? 'Organization' : 'User' },
    html_url: `https://github.com/${r.owner}/${r.name}`,
    description: r.description,
    url: `${base}/repos/${r.owner}/${r.name}`,
    clone_url: `https://github.com/${r.owner}/${r.name}.git`,
    ssh_url: `git@github.com:${r.owner}/${r.name}.git`,
    default_branch: r.default_branch,
    visibility: r.private ? 'private' : 'public',
  });

  const server = await startFakeServer(async (req, res) => {
    const u = new URL(req.url, 'http://github');
    const base = `http://${req.headers.host}${u.pathname.startsWith('/api/v3') ? '/api/v3' : ''}`;
    const p = u.pathname.replace(/^\/api\/v3/, '');
    const auth = req.headers.authorization ?? '';
    if (!/^(token|bearer) /i.test(auth) || auth.slice(auth.indexOf(' ') + 1) !== state.token) {
      return error(res, 401, 'Bad credentials');
    }
    const nowS = Math.floor(Date.now() / 1000);
    if (state.rateLimit === 'primary') {
      return error(res, 403, `API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.`, {}, {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-used': '5000',
        'x-ratelimit-reset': String(nowS + 600),
        'x-ratelimit-resource': 'core',
      });
    }
    if (state.rateLimit === 'secondary') {
      return error(res, 403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', {}, { 'retry-after': '45' });
    }
    const headers = { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': String(nowS + 3600) };
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    let m: RegExpExecArray | null;

    if (req.method === 'GET' && p === '/user') {
      return sendJson(res, 200, { login: state.login, id: 1, type: 'User', name: 'Octo Dev' }, { ...headers, ...(state.scopes !== undefined ? { 'x-oauth-scopes': state.scopes } : {}) });
    }
    if (req.method === 'POST' && (p === '/user/repos' || /^\/orgs\/([^/]+)\/repos$/.test(p))) {
      const owner = p === '/user/repos' ? state.login : decodeURIComponent(/^\/orgs\/([^/]+)\/repos$/.exec(p)![1]);
      if (owner !== state.login && !state.orgs.has(owner)) return error(res, 404, 'Not Found');
      const name = String(body.name ?? '');
      if (state.repos.has(`${owner}/${name}`.toLowerCase())) {
        return error(res, 422, 'Repository creation failed.', {
          errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }],
        });
      }
      const repo = newRepo(owner, name, body.private !== false, (body.description as string | undefined) ?? null);
      if (body.auto_init) {
        const entries = new Map([['README.md', { mode: '100644', sha: storeBlob(repo, Buffer.from(`# ${name}\n`)) }]]);
        repo.refs.set(repo.default_branch, storeCommit(repo, storeTree(repo, entries), [], 'Initial commit').sha);
      }
      return sendJson(res, 201, repoJson(repo, base), headers);
    }
    if (!(m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(p))) return error(res, 404, 'Not Found');
    const repo = state.repos.get(`${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`.toLowerCase());
    if (!repo) return error(res, 404, 'Not Found');
    const rest = m[3] ?? '';
    const emptyRepo = () => error(res, 409, 'Git Repository is empty.');

    if (req.method === 'GET' && rest === '') return sendJson(res, 200, repoJson(repo, base), headers);

    if (req.method === 'GET' && (m = /^\/git\/ref\/(.+)$/.exec(rest))) {
      if (repo.refs.size === 0) return emptyRepo();
      const ref = decodeURIComponent(m[1]);
      const sha = ref.startsWith('heads/') ? repo.refs.get(ref.slice(6)) : undefined;
      if (!sha) return error(res, 404, 'Not Found');
      return sendJson(res, 200, { ref: `refs/${ref}`, node_id: 'REF_1', url: `${base}/repos/${repo.owner}/${repo.name}/git/refs/${ref}`, object: { sha, type: 'commit', url: '' } }, headers);
    }
    if (req.method === 'GET' && (m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest))) {
      const c = repo.commits.get(m[1]);
      if (!c) return error(res, 404, 'Not Found');
      return sendJson(res, 200, {
        sha: c.sha,
        node_id: 'C_1',
        url: `${base}/repos/${repo.owner}/${repo.name}/git/commits/${c.sha}`,
        html_url: `https://github.com/${repo.owner}/${repo.name}/commit/${c.sha}`,
        author: c.author,
        committer: c.author,
        message: c.message,
        tree: { sha: c.tree, url: '' },
        parents: c.parents.map((sha) => ({ sha, url: '', html_url: '' })),
        verification: { verified: false, reason: 'unsigned', signature: null, payload: null },
      }, headers);
    }
    if (req.method === 'POST' && rest === '/git/blobs') {
      if (repo.refs.size === 0) return emptyRepo();
      if (typeof body.content !== 'string') return error(res, 422, 'Invalid request.\n\n"content" wasn\'t supplied.');
      const content = body.encoding === 'base64' ? Buffer.from(body.content, 'base64') : Buffer.from(body.content, 'utf8');
      const sha = storeBlob(repo, content);
      return sendJson(res, 201, { sha, url: `${base}/repos/${repo.owner}/${repo.name}/git/blobs/${sha}` }, headers);
    }
    if (req.method === 'POST' && rest === '/git/trees') {
      const baseTree = body.base_tree ? repo.trees.get(String(body.base_tree)) : new Map<string, { mode: string; sha: string }>();
      if (!baseTree) return error(res, 422, 'Invalid tree info', { errors: [{ resource: 'Tree', field: 'base_tree', code: 'invalid' }] });
      const entries = new Map(baseTree);
      for (const e of body.tree as { path: string; mode: string; sha: string | null }[]) {
        if (e.sha === null) {
          if (!entries.delete(e.path)) return error(res, 422, 'GitRPC::BadObjectState');
        } else {
          if (!repo.blobs.has(e.sha)) return error(res, 422, `tree.sha ${e.sha} is not a valid blob`);
          entries.set(e.path, { mode: e.mode, sha: e.sha });
        }
      }
      const sha = storeTree(repo, entries);
      return sendJson(res, 201, { sha, url: '', tree: [...entries].map(([path, v]) => ({ path, mode: v.mode, type: 'blob', sha: v.sha })), truncated: false }, headers);
    }
    if (req.method === 'POST' && rest === '/git/commits') {
      if (!repo.trees.has(String(body.tree))) return error(res, 422, 'Tree SHA does not exist');
      const parents = (body.parents as string[]) ?? [];
      if (parents.some((sha) => !repo.commits.has(sha))) return error(res, 422, 'Parent SHA does not exist or is not a commit object');
      const c = storeCommit(repo, String(body.tree), parents, String(body.message), body.author as { name: string; email: string } | undefined);
      return sendJson(res, 201, {
        sha: c.sha,
        html_url: `https://github.com/${repo.owner}/${repo.name}/commit/${c.sha}`,
        author: c.author,
        committer: c.author,
        message: c.message,
        tree: { sha: c.tree, url: '' },
        parents: c.parents.map((sha) => ({ sha, url: '', html_url: '' })),
      }, headers);
    }
    if (req.method === 'POST' && rest === '/git/refs') {
      const ref = String(body.ref);
      if (!/^refs\/heads\/.+/.test(ref)) return error(res, 422, 'Reference name must start with \'refs/\' and have at least two slashes.');
      const branch = ref.slice('refs/heads/'.length);
      if (repo.refs.has(branch)) return error(res, 422, 'Reference already exists');
      if (!repo.commits.has(String(body.sha))) return error(res, 422, 'Object does not exist');
      repo.refs.set(branch, String(body.sha));
      return sendJson(res, 201, { ref, object: { sha: body.sha, type: 'commit' } }, headers);
    }
    if (req.method === 'PATCH' && (m = /^\/git\/refs\/(.+)$/.exec(rest))) {
      const ref = decodeURIComponent(m[1]);
      const branch = ref.replace(/^heads\//, '');
      const current = repo.refs.get(branch);
      if (!current) return error(res, 422, 'Reference does not exist');
      const commit = repo.commits.get(String(body.sha));
      if (!commit) return error(res, 422, 'Object does not exist');
      if (!body.force && !commit.parents.includes(current)) return error(res, 422, 'Update is not a fast forward');
      repo.refs.set(branch, commit.sha);
      return sendJson(res, 200, { ref: `refs/${ref}`, object: { sha: commit.sha, type: 'commit' } }, headers);
    }
    if (req.method === 'GET' && (m = /^\/contents(?:\/(.*))?$/.exec(rest))) {
      const path = decodeURIComponent(m[1] ?? '').replace(/\/$/, '');
      const refName = u.searchParams.get('ref') ?? repo.default_branch;
      const head = repo.refs.get(refName) ?? (repo.commits.has(refName) ? refName : undefined);
      if (!head) return error(res, 404, repo.refs.size === 0 ? 'This repository is empty.' : `No commit found for the ref ${refName}`);
      const tree = repo.trees.get(repo.commits.get(head)!.tree)!;
      const link = (p2: string, type: string) => ({
        url: `${base}/repos/${repo.owner}/${repo.name}/contents/${p2}?ref=${refName}`,
        html_url: `https://github.com/${repo.owner}/${repo.name}/${type === 'dir' ? 'tree' : 'blob'}/${refName}/${p2}`,
        download_url: type === 'dir' ? null : `https://raw.githubusercontent.com/${repo.owner}/${repo.name}/${refName}/${p2}`,
      });
      const file = tree.get(path);
      if (file) {
        const content = repo.blobs.get(file.sha)!;
        const tooBig = content.length > 1024 * 1024;
        return sendJson(res, 200, {
          type: 'file',
          encoding: tooBig ? 'none' : 'base64',
          size: content.length,
          name: path.split('/').pop(),
          path,
          // GitHub wraps base64 at 60 characters.
          content: tooBig ? '' : (content.toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n',
          sha: file.sha,
          ...link(path, 'file'),
        }, headers);
      }
      const prefix = path ? `${path}/` : '';
      const children = new Map<string, { type: string; sha: string; size: number }>();
      for (const [p2, v] of tree) {
        if (!p2.startsWith(prefix)) continue;
        const rel = p2.slice(prefix.length);
        const first = rel.split('/')[0];
        if (rel.includes('/')) children.set(first, { type: 'dir', sha: gitSha('tree', Buffer.from(first)), size: 0 });
        else children.set(first, { type: 'file', sha: v.sha, size: repo.blobs.get(v.sha)!.length });
      }
      if (children.size === 0) return error(res, 404, 'Not Found');
      return sendJson(
        res,
        200,
        [...children].sort(([a], [b]) => a.localeCompare(b)).map(([name, v]) => ({ name, path: prefix + name, ...v, ...link(prefix + name, v.type) })),
        headers,
      );
    }
    return error(res, 404, 'Not Found');
  });

  const filesAt: FakeGitHub['filesAt'] = (fullName, branch) => {
    const repo = state.repos.get(fullName.toLowerCase())!;
    const tree = repo.trees.get(repo.commits.get(repo.refs.get(branch)!)!.tree)!;
    return Object.fromEntries([...tree].map(([p, v]) => [p, repo.blobs.get(v.sha)!.toString('utf8')]));
  };

  return { url: server.url, state, requests: server.requests, seedRepo, filesAt, close: server.close };
}
