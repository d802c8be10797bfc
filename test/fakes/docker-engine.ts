import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type RecordedRequest, sendJson, startFakeServer } from '../helpers/fake-server.js';

/**
 * A local stand-in for the Docker Engine API served on a unix socket, following the Engine API reference:
 * optional /v1.NN path prefix, `{"message": ...}` error bodies, JSON-lines progress for /images/create,
 * /build and /images/{name}/push (errors inside the stream as `{"errorDetail":..., "error":...}`),
 * and multiplexed log frames with 8-byte headers for containers without a TTY.
 */

export interface FakeImage {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string;
  Size: number;
  Config: { Env: string[]; Cmd: string[] | null; Entrypoint: string[] | null; WorkingDir: string; ExposedPorts: Record<string, object>; Labels: Record<string, string> | null };
}

export interface FakeContainer {
  Id: string;
  Name: string;
  Image: string;
  ImageID: string;
  Created: string;
  running: boolean;
  exitCode: number;
  tty: boolean;
  env: string[];
  cmd: string[];
  labels: Record<string, string>;
  autoRemove: boolean;
  portBindings: Record<string, { HostIp?: string; HostPort: string }[]>;
  /** Log lines in write order; stream 1 = stdout, 2 = stderr. */
  logs: { stream: 1 | 2; text: string }[];
}

export interface FakeBuild {
  query: Record<string, string | string[]>;
  /** Archive member names and contents as the Engine received them. */
  files: Record<string, string>;
  types: Record<string, string>;
  links: Record<string, string>;
  registryConfig?: unknown;
}

export interface FakeDockerState {
  containers: Map<string, FakeContainer>;
  images: Map<string, FakeImage>;
  pulls: { fromImage: string; tag: string; auth: unknown; platform?: string }[];
  pushes: { name: string; tag: string; auth: unknown }[];
  builds: FakeBuild[];
  /** Make the registry refuse pushes with this stream error. */
  pushError?: string;
  /** Make pulls fail inside the stream with this message (after a 200). */
  pullStreamError?: string;
  /** When set, /build streams its first line and then waits for this promise before finishing. */
  buildGate?: Promise<void>;
  /** Make /build with `remote` fail as the Engine does when it cannot fetch the context (HTTP 500 before any output). */
  remoteFetchError?: string;
  /** Registries with htpasswd-style credentials (see addRegistry) and the name:tag references pushed to them. */
  registries: Map<string, { username: string; password: string }>;
  registryContent: Map<string, string>;
}

export interface FakeDockerEngine {
  socketPath: string;
  /** DOCKER_HOST value. */
  url: string;
  state: FakeDockerState;
  requests: RecordedRequest[];
  /** Adds an image as if pulled/built earlier. */
  addImage(tag: string, config?: Partial<FakeImage['Config']>): FakeImage;
  /** Adds a container (running unless told otherwise) with log lines. */
  addContainer(name: string, image: string, opts?: { running?: boolean; tty?: boolean; logs?: FakeContainer['logs'] }): FakeContainer;
  /** A registry at `address` (host:port) that requires these credentials, as a registry with htpasswd auth does. */
  addRegistry(address: string, credentials: { username: string; password: string }): void;
  close(): Promise<void>;
}

export const API_VERSION = '1.47';
const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const normalizeTag = (ref: string) => (ref.startsWith('sha256:') || /:[^/]+$/.test(ref) ? ref : `${ref}:latest`);

/** Reads a ustar archive (with PAX path/linkpath records) into member names, types and contents. */
export function readTar(buf: Buffer): { files: Record<string, string>; types: Record<string, string>; links: Record<string, string> } {
  const files: Record<string, string> = {};
  const types: Record<string, string> = {};
  const links: Record<string, string> = {};
  let offset = 0;
  let pax: Record<string, string> = {};
  const str = (start: number, len: number) => buf.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
  while (offset + 512 <= buf.length) {
    const header = buf.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(str(offset + 124, 12).trim() || '0', 8);
    const type = str(offset + 156, 1) || '0';
    const data = buf.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = {};
      for (const rec of data.toString('utf8').split('\n').filter(Boolean)) {
        const kv = rec.slice(rec.indexOf(' ') + 1);
        pax[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
      }
      continue;
    }
    const name = pax.path ?? str(offset - 512 - Math.ceil(size / 512) * 512, 100);
    const link = pax.linkpath ?? str(offset - 512 - Math.ceil(size / 512) * 512 + 157, 100);
    pax = {};
    types[name] = type === '5' ? 'directory' : type === '2' ? 'symlink' : 'file';
    if (type === '2') links[name] = link;
    if (type === '0') files[name] = data.toString('utf8');
  }
  return { files, types, links };
}

function query(url: string): { path: string; q: URLSearchParams } {
  const u = new URL(url, 'http://docker');
  return { path: u.pathname.replace(/^\/v\d+\.\d+/, ''), q: u.searchParams };
}

function writeLines(res: http.ServerResponse, lines: unknown[], end = true): void {
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' });
  for (const l of lines) res.write(`${JSON.stringify(l)}\r\n`);
  if (end) res.end();
}

/** LABEL instructions with ARG values (defaults, overridden by buildargs) expanded, as the builder records them. */
function buildLabels(steps: string[], buildArgs: Record<string, string>): Record<string, string> | null {
  const args: Record<string, string> = {};
  const labels: Record<string, string> = {};
  const expand = (v: string) => v.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args[n] ?? '');
  for (const step of steps) {
    const arg = /^ARG\s+(\w+)(?:=(.*))?$/i.exec(step);
    if (arg) args[arg[1]] = buildArgs[arg[1]] ?? arg[2] ?? '';
    const label = /^LABEL\s+(.+)$/i.exec(step);
    if (label) for (const [, k, v] of label[1].matchAll(/([\w.-]+)=("[^"]*"|\S+)/g)) labels[k] = expand(v.replace(/^"|"$/g, ''));
  }
  return Object.keys(labels).length ? labels : null;
}

/** Output of a `sh -c` command made of `echo` statements (optionally `>&2`), so logs have something to show. */
function echoOutput(cmd: string[], env: string[]): FakeContainer['logs'] {
  if (cmd.length !== 3 || cmd[0] !== 'sh' || cmd[1] !== '-c') return [];
  const vars = Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return cmd[2].split(';').flatMap((statement) => {
    const m = /^\s*echo\s+"([^"]*)"\s*(>&2)?\s*$/.exec(statement);
    return m ? [{ stream: (m[2] ? 2 : 1) as 1 | 2, text: m[1].replace(/\$\{?(\w+)\}?/g, (_, n: string) => vars[n] ?? '') }] : [];
  });
}

function decodeAuth(header: string | string[] | undefined): unknown {
  if (typeof header !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    return header;
  }
}

export async function startFakeDockerEngine(): Promise<FakeDockerEngine> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fake-docker-'));
  const socketPath = path.join(dir, 'docker.sock');
  const state: FakeDockerState = { containers: new Map(), images: new Map(), pulls: [], pushes: [], builds: [], registries: new Map(), registryContent: new Map() };

  /** The registry a reference lives in when it is one of ours, and whether the X-Registry-Auth header matches it. */
  const registryFor = (name: string, authHeader: string | string[] | undefined): { address: string; authorized: boolean; anonymous: boolean } | undefined => {
    const address = name.split('/')[0];
    const creds = state.registries.get(address);
    if (!creds) return undefined;
    const auth = decodeAuth(authHeader) as { username?: string; password?: string } | undefined;
    return { address, authorized: auth?.username === creds.username && auth?.password === creds.password, anonymous: !auth?.username };
  };

  const addImage = (tag: string, config: Partial<FakeImage['Config']> = {}): FakeImage => {
    const full = normalizeTag(tag);
    const existing = [...state.images.values()].find((i) => i.RepoTags.includes(full));
    if (existing) return existing;
    const img: FakeImage = {
      Id: sha(`${full}-${randomBytes(4).toString('hex')}`),
      RepoTags: [full],
      RepoDigests: [`${full.split(':')[0]}@${sha(`digest-${full}`)}`],
      Created: new Date('2026-01-02T03:04:05Z').toISOString(),
      Size: 7_800_000,
      Config: { Env: ['PATH=/usr/bin', 'SECRET_TOKEN=hunter2'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', ExposedPorts: { '80/tcp': {} }, Labels: null, ...config },
    };
    state.images.set(img.Id, img);
    return img;
  };

  const findImage = (ref: string): FakeImage | undefined => {
    const full = normalizeTag(ref);
    return [...state.images.values()].find(
      (i) => i.RepoTags.includes(full) || i.Id === ref || i.Id.replace('sha256:', '').startsWith(ref.replace('sha256:', '')),
    );
  };

  const addContainer = (name: string, image: string, opts: { running?: boolean; tty?: boolean; logs?: FakeContainer['logs'] } = {}): FakeContainer => {
    const img = findImage(image) ?? addImage(image);
    const c: FakeContainer = {
      Id: createHash('sha256').update(`${name}-${randomBytes(4).toString('hex')}`).digest('hex'),
      Name: `/${name}`,
      Image: image,
      ImageID: img.Id,
      Created: new Date('2026-01-02T03:04:05Z').toISOString(),
      running: opts.running ?? true,
      exitCode: 0,
      tty: opts.tty ?? false,
      env: ['PATH=/usr/bin', 'API_KEY=s3cret'],
      cmd: ['sh', '-c', 'serve'],
      labels: {},
      autoRemove: false,
      portBindings: {},
      logs: opts.logs ?? [],
    };
    state.containers.set(c.Id, c);
    return c;
  };

  const findContainer = (ref: string): FakeContainer | undefined =>
    [...state.containers.values()].find((c) => c.Name === `/${ref}` || c.Id === ref || (ref.length >= 4 && c.Id.startsWith(ref)));

  const notFound = (res: http.ServerResponse, what: string) => sendJson(res, 404, { message: what });

  const inspectContainer = (c: FakeContainer) => ({
    Id: c.Id,
    Created: c.Created,
    Path: c.cmd[0],
    Args: c.cmd.slice(1),
    State: {
      Status: c.running ? 'running' : 'exited',
      Running: c.running,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: c.running ? 4242 : 0,
      ExitCode: c.exitCode,
      Error: '',
      StartedAt: '2026-01-02T03:04:06Z',
      FinishedAt: c.running ? '0001-01-01T00:00:00Z' : '2026-01-02T04:00:00Z',
    },
    Image: c.ImageID,
    Name: c.Name,
    RestartCount: 0,
    HostConfig: { AutoRemove: c.autoRemove, PortBindings: c.portBindings },
    Config: { Hostname: c.Id.slice(0, 12), Tty: c.tty, Env: c.env, Cmd: c.cmd, Image: c.Image, Entrypoint: null, Labels: c.labels },
    Mounts: [],
    NetworkSettings: {
      Ports: c.running ? c.portBindings : {},
      Networks: { bridge: { IPAddress: c.running ? '172.17.0.2' : '' } },
    },
  });

  const logFrames = (c: FakeContainer, q: URLSearchParams): Buffer => {
    const wanted = c.logs.filter((l) => (l.stream === 1 ? q.get('stdout') === 'true' : q.get('stderr') === 'true'));
    const tail = q.get('tail');
    const lines = tail && tail !== 'all' ? wanted.slice(-Number(tail)) : wanted;
    return Buffer.concat(
      lines.map((l) => {
        const payload = Buffer.from(`${l.text}\n`);
        if (c.tty) return payload;
        const header = Buffer.alloc(8);
        header.writeUInt8(l.stream, 0);
        header.writeUInt32BE(payload.length, 4);
        return Buffer.concat([header, payload]);
      }),
    );
  };

  const server = await startFakeServer(
    async (req, res) => {
      const { path: p, q } = query(req.url);
      let m: RegExpExecArray | null;
      const route = `${req.method} ${p}`;

      if (route === 'GET /_ping' || route === 'HEAD /_ping') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'api-version': API_VERSION, 'ostype': 'linux' });
        return void res.end('OK');
      }
      if (route === 'GET /version') {
        return sendJson(res, 200, { Version: '27.3.1', ApiVersion: API_VERSION, MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', KernelVersion: '6.8.0' });
      }
      if (route === 'GET /containers/json') {
        const filters = JSON.parse(q.get('filters') || '{}') as Record<string, string[]>;
        const all = q.get('all') === 'true' || q.get('all') === '1';
        const list = [...state.containers.values()]
          .filter((c) => all || c.running)
          .filter((c) => !filters.name || filters.name.some((n) => c.Name.includes(n)))
          .filter((c) => !filters.status || filters.status.includes(c.running ? 'running' : 'exited'))
          .filter((c) => !filters.ancestor || filters.ancestor.some((a) => normalizeTag(a) === normalizeTag(c.Image)))
          .filter((c) => !filters.label || filters.label.every((l) => (l.includes('=') ? c.labels[l.split('=')[0]] === l.slice(l.indexOf('=') + 1) : l in c.labels)));
        return sendJson(
          res,
          200,
          list.map((c) => ({
            Id: c.Id,
            Names: [c.Name],
            Image: c.Image,
            ImageID: c.ImageID,
            Command: c.cmd.join(' '),
            Created: 1767323045,
            Ports: Object.entries(c.portBindings).flatMap(([k, b]) =>
              b.map((x) => ({ IP: x.HostIp || '0.0.0.0', PrivatePort: Number(k.split('/')[0]), PublicPort: Number(x.HostPort), Type: k.split('/')[1] })),
            ),
            Labels: c.labels,
            State: c.running ? 'running' : 'exited',
            Status: c.running ? 'Up 2 hours' : 'Exited (0) 1 hour ago',
            HostConfig: { NetworkMode: 'bridge' },
            NetworkSettings: { Networks: {} },
            Mounts: [],
          })),
        );
      }
      if (route === 'GET /images/json') {
        const filters = JSON.parse(q.get('filters') || '{}') as Record<string, string[]>;
        // The Engine matches each pattern (a glob) against repository and repository:tag, and lists only the matching tags.
        const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
        const matches = (t: string) => !filters.reference || filters.reference.some((r) => glob(r).test(t) || glob(r).test(t.slice(0, t.lastIndexOf(':'))));
        const list = [...state.images.values()].filter((i) => !filters.reference || i.RepoTags.some(matches));
        return sendJson(
          res,
          200,
          list.map((i) => ({ Id: i.Id, ParentId: '', RepoTags: i.RepoTags.filter(matches), RepoDigests: i.RepoDigests, Created: 1767323045, Size: i.Size, SharedSize: -1, Labels: null, Containers: -1 })),
        );
      }
      if ((m = /^\/containers\/([^/]+)\/json$/.exec(p)) && req.method === 'GET') {
        const c = findContainer(decodeURIComponent(m[1]));
        return c ? sendJson(res, 200, inspectContainer(c)) : notFound(res, `No such container: ${decodeURIComponent(m[1])}`);
      }
      if ((m = /^\/containers\/([^/]+)\/logs$/.exec(p)) && req.method === 'GET') {
        const c = findContainer(decodeURIComponent(m[1]));
        if (!c) return notFound(res, `No such container: ${m[1]}`);
        const body = logFrames(c, q);
        res.writeHead(200, { 'content-type': c.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
        // Several writes so the client has to reassemble frames across chunks.
        for (let i = 0; i < body.length; i += 5) res.write(body.subarray(i, i + 5));
        return void res.end();
      }
      if ((m = /^\/images\/(.+)\/json$/.exec(p)) && req.method === 'GET') {
        const name = decodeURIComponent(m[1]);
        const i = findImage(name);
        if (!i) return notFound(res, `No such image: ${name}`);
        return sendJson(res, 200, {
          Id: i.Id,
          RepoTags: i.RepoTags,
          RepoDigests: i.RepoDigests,
          Created: i.Created,
          Size: i.Size,
          Architecture: 'amd64',
          Os: 'linux',
          Config: i.Config,
          RootFS: { Type: 'layers', Layers: [sha('l1'), sha('l2')] },
        });
      }
      if (route === 'POST /images/create') {
        const fromImage = q.get('fromImage') ?? '';
        const tag = q.get('tag') ?? 'latest';
        state.pulls.push({ fromImage, tag, auth: decodeAuth(req.headers['x-registry-auth']), platform: q.get('platform') ?? undefined });
        if (fromImage.includes('does-not-exist')) {
          return notFound(res, `pull access denied for ${fromImage}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`);
        }
        // One of our registries (htpasswd auth): the Engine answers before streaming, as dockerd 20.10 does.
        const registry = registryFor(fromImage, req.headers['x-registry-auth']);
        if (registry?.anonymous) {
          const repo = fromImage.slice(registry.address.length + 1);
          return sendJson(res, 500, { message: `Head "http://${registry.address}/v2/${repo}/manifests/${tag}": no basic auth credentials` });
        }
        if (registry && !registry.authorized) return sendJson(res, 500, { message: 'unauthorized: authentication required' });
        const stored = state.registryContent.get(`${fromImage}:${tag}`);
        if (registry && !stored) {
          return notFound(res, `manifest for ${fromImage}:${tag} not found: manifest unknown: manifest unknown`);
        }
        const lines: unknown[] = [
          { status: `Pulling from ${fromImage}`, id: tag },
          { status: 'Pulling fs layer', progressDetail: {}, id: 'a1b2c3' },
          { status: 'Downloading', progressDetail: { current: 1024, total: 4096 }, progress: '[=====>     ]  1.024kB/4.096kB', id: 'a1b2c3' },
        ];
        if (state.pullStreamError) {
          lines.push({ errorDetail: { message: state.pullStreamError }, error: state.pullStreamError });
          return writeLines(res, lines);
        }
        addImage(`${fromImage}:${tag}`);
        lines.push(
          { status: 'Pull complete', progressDetail: {}, id: 'a1b2c3' },
          { status: `Digest: ${stored ?? sha(`digest-${fromImage}:${tag}`)}` },
          { status: `Status: Downloaded newer image for ${fromImage}:${tag}` },
        );
        return writeLines(res, lines);
      }
      if (route === 'POST /build') {
        const tar = readTar(req.rawBody);
        const build: FakeBuild = { query: Object.fromEntries([...new Set(q.keys())].map((k) => [k, q.getAll(k).length > 1 ? q.getAll(k) : q.get(k)!])), ...tar };
        if (req.headers['x-registry-config']) build.registryConfig = JSON.parse(Buffer.from(String(req.headers['x-registry-config']), 'base64').toString('utf8'));
        state.builds.push(build);
        if (q.get('remote') && state.remoteFetchError) return sendJson(res, 500, { message: state.remoteFetchError });
        const dockerfileName = q.get('dockerfile') || 'Dockerfile';
        const dockerfile = q.get('remote') ? 'FROM scratch\nCOPY . /src\n' : tar.files[dockerfileName];
        if (dockerfile === undefined) return sendJson(res, 500, { message: `Cannot locate specified Dockerfile: ${dockerfileName}` });
        const steps = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
        writeLines(res, [{ stream: `Step 1/${steps.length} : ${steps[0]}\n` }], false);
        if (state.buildGate) await state.buildGate;
        const lines: unknown[] = [];
        for (const [i, step] of steps.entries()) {
          if (i > 0) lines.push({ stream: `Step ${i + 1}/${steps.length} : ${step}\n` });
          lines.push({ stream: ` ---> Running in ${randomBytes(6).toString('hex')}\n` });
          const fail = /^RUN\s+(exit\s+(\d+)|false)$/.exec(step);
          if (fail) {
            const code = fail[2] ?? '1';
            const message = `The command '/bin/sh -c ${fail[1]}' returned a non-zero code: ${code}`;
            lines.push({ errorDetail: { code: Number(code), message }, error: message });
            return writeLines(res, lines);
          }
        }
        const tags = q.getAll('t');
        const img = addImage(tags[0] ?? `built-${randomBytes(3).toString('hex')}`, { Labels: buildLabels(steps, JSON.parse(q.get('buildargs') || '{}') as Record<string, string>) });
        for (const t of tags.slice(1)) img.RepoTags.push(normalizeTag(t));
        lines.push({ aux: { ID: img.Id } }, { stream: `Successfully built ${img.Id.slice(7, 19)}\n` });
        for (const t of tags) lines.push({ stream: `Successfully tagged ${normalizeTag(t)}\n` });
        return writeLines(res, lines);
      }
      if ((m = /^\/images\/(.+)\/push$/.exec(p)) && req.method === 'POST') {
        const name = decodeURIComponent(m[1]);
        const tag = q.get('tag') || 'latest';
        if (typeof req.headers['x-registry-auth'] !== 'string') {
          return sendJson(res, 400, { message: 'Bad parameters and missing X-Registry-Auth: invalid X-Registry-Auth header: EOF' });
        }
        // The Engine starts the stream before it looks the image up: a missing image is an error inside a 200.
        const img = findImage(`${name}:${tag}`);
        const refers = { status: `The push refers to repository [${name}]` };
        const missing = `An image does not exist locally with the tag: ${name}`;
        if (!img) return writeLines(res, [refers, { errorDetail: { message: missing }, error: missing }]);
        state.pushes.push({ name, tag, auth: decodeAuth(req.headers['x-registry-auth']) });
        const lines: unknown[] = [refers, { status: 'Preparing', progressDetail: {}, id: 'a1b2c3' }];
        const registry = registryFor(name, req.headers['x-registry-auth']);
        if (registry && !registry.authorized) {
          lines.push({ errorDetail: { message: 'unauthorized: authentication required' }, error: 'unauthorized: authentication required' });
          return writeLines(res, lines);
        }
        if (state.pushError) {
          lines.push({ status: 'Waiting', progressDetail: {}, id: 'a1b2c3' }, { errorDetail: { message: state.pushError }, error: state.pushError });
          return writeLines(res, lines);
        }
        const digest = sha(`pushed-${name}:${tag}`);
        if (registry) state.registryContent.set(`${name}:${tag}`, digest);
        lines.push(
          { status: 'Pushed', progressDetail: {}, id: 'a1b2c3' },
          { status: `${tag}: digest: ${digest} size: 1570` },
          { progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: 1570 } },
        );
        return writeLines(res, lines);
      }
      if (route === 'POST /containers/create') {
        const body = JSON.parse(req.body || '{}') as {
          Image: string;
          Cmd?: string[];
          Env?: string[];
          Labels?: Record<string, string>;
          Tty?: boolean;
          HostConfig?: { AutoRemove?: boolean; PortBindings?: FakeContainer['portBindings'] };
        };
        const img = findImage(body.Image);
        if (!img) return notFound(res, `No such image: ${body.Image}`);
        const name = q.get('name') ?? `fake_${randomBytes(3).toString('hex')}`;
        const clash = findContainer(name);
        if (clash) {
          return sendJson(res, 409, {
            message: `Conflict. The container name "/${name}" is already in use by container "${clash.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
          });
        }
        const c = addContainer(name, body.Image, { running: false, tty: body.Tty });
        c.env = body.Env ?? [];
        c.cmd = body.Cmd ?? ['sh'];
        c.labels = body.Labels ?? {};
        c.autoRemove = body.HostConfig?.AutoRemove ?? false;
        c.portBindings = Object.fromEntries(
          Object.entries(body.HostConfig?.PortBindings ?? {}).map(([k, b]) => [k, b.map((x, i) => ({ HostIp: x.HostIp || '0.0.0.0', HostPort: x.HostPort || String(32768 + i) }))]),
        );
        return sendJson(res, 201, { Id: c.Id, Warnings: [] });
      }
      if ((m = /^\/containers\/([^/]+)\/(start|stop)$/.exec(p)) && req.method === 'POST') {
        const c = findContainer(decodeURIComponent(m[1]));
        if (!c) return notFound(res, `No such container: ${decodeURIComponent(m[1])}`);
        const start = m[2] === 'start';
        if (c.running === start) {
          res.writeHead(304);
          return void res.end();
        }
        c.running = start;
        if (start) c.logs.push(...echoOutput(c.cmd, c.env));
        if (!start && c.autoRemove) state.containers.delete(c.Id);
        res.writeHead(204);
        return void res.end();
      }
      if ((m = /^\/containers\/([^/]+)$/.exec(p)) && req.method === 'DELETE') {
        const c = findContainer(decodeURIComponent(m[1]));
        if (!c) return notFound(res, `No such container: ${decodeURIComponent(m[1])}`);
        if (c.running && q.get('force') !== 'true') {
          return sendJson(res, 409, {
            message: `cannot remove container "${c.Name}": container is running: stop the container before removing or force remove`,
          });
        }
        state.containers.delete(c.Id);
        res.writeHead(204);
        return void res.end();
      }
      if ((m = /^\/images\/(.+)$/.exec(p)) && req.method === 'DELETE') {
        const name = decodeURIComponent(m[1]);
        const img = findImage(name);
        if (!img) return notFound(res, `No such image: ${name}`);
        const user = [...state.containers.values()].find((c) => c.ImageID === img.Id);
        if (user && q.get('force') !== 'true') {
          return sendJson(res, 409, {
            message: `conflict: unable to remove repository reference "${name}" (must force) - container ${user.Id.slice(0, 12)} is using its referenced image ${img.Id.slice(7, 19)}`,
          });
        }
        // A reference to one of several tags only untags it; the image stays for its other tags.
        const tagRef = normalizeTag(name);
        if (img.RepoTags.length > 1 && img.RepoTags.includes(tagRef)) {
          img.RepoTags = img.RepoTags.filter((t) => t !== tagRef);
          return sendJson(res, 200, [{ Untagged: tagRef }]);
        }
        state.images.delete(img.Id);
        return sendJson(res, 200, [...img.RepoTags.map((t) => ({ Untagged: t })), { Deleted: img.Id }]);
      }
      return sendJson(res, 404, { message: `page not found: ${req.method} ${p}` });
    },
    { socketPath },
  );

  return {
    socketPath,
    url: server.url,
    state,
    requests: server.requests,
    addImage,
    addContainer,
    addRegistry: (address, credentials) => void state.registries.set(address, credentials),
    close: async () => {
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
