import type Dockerode from 'dockerode';
import { z } from 'zod';
import { HubError } from '../../tools/errors.js';
import { capItems } from '../../tools/limits.js';
import { defineTool } from '../../tools/types.js';
import { demultiplex, framesToLines, keepNewest, SINCE_PATTERN, sinceToUnix, type Frame } from './logs.js';
import { containerRef, dial, imageRef, envNames, formatPorts, inspectImage, isoFromUnix, shortId, withDocker } from './shared.js';

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export const dockerListContainers = defineTool({
  name: 'docker_list_containers',
  system: 'docker',
  title: 'List Docker containers',
  description: 'List containers on the Docker host: id, name, image, state, status and published ports. Running ones only unless all is true; optional filters by name, status, image or label.',
  level: 'LOW',
  input: z.object({
    all: z.boolean().default(false).describe('Include stopped containers (default: running only)'),
    name: z.string().max(128).optional().describe('Only containers whose name contains this text'),
    status: z.enum(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']).optional().describe('Only containers in this state'),
    ancestor: z.string().max(255).optional().describe('Only containers created from this image (name[:tag] or id)'),
    label: z.string().max(255).optional().describe('Only containers with this label, "key" or "key=value"'),
    limit: z.number().int().min(1).max(200).default(50).describe('Maximum containers to return (1-200)'),
  }),
  annotations: readOnly,
  async run(args, ctx) {
    const filters: Record<string, string[]> = {};
    if (args.name) filters.name = [args.name];
    if (args.status) filters.status = [args.status];
    if (args.ancestor) filters.ancestor = [args.ancestor];
    if (args.label) filters.label = [args.label];
    const list = await withDocker(ctx, 'listing containers', (d) =>
      d.listContainers({ all: args.all || Boolean(args.status), filters: JSON.stringify(filters), abortSignal: ctx.signal }),
    );
    const { items, truncated } = capItems(list, args.limit);
    return {
      count: list.length,
      containers: items.map((c) => ({
        id: shortId(c.Id),
        name: (c.Names?.[0] ?? '').replace(/^\//, ''),
        image: c.Image,
        state: c.State,
        status: c.Status,
        created: isoFromUnix(c.Created),
        ports: formatPorts(c.Ports),
      })),
      truncated,
    };
  },
});

export const dockerListImages = defineTool({
  name: 'docker_list_images',
  system: 'docker',
  title: 'List Docker images',
  description: 'List images on the Docker host: id, tags, digests, size and creation time. Optional filter by reference (e.g. "nginx" or "ghcr.io/org/*") and dangling images.',
  level: 'LOW',
  input: z.object({
    reference: z.string().max(255).optional().describe('Only images matching this reference pattern, e.g. "nginx", "nginx:1.*", "ghcr.io/org/*"'),
    dangling: z.boolean().optional().describe('true: only untagged (dangling) images; false: exclude them'),
    limit: z.number().int().min(1).max(200).default(50).describe('Maximum images to return (1-200)'),
  }),
  annotations: readOnly,
  async run(args, ctx) {
    const filters: Record<string, string[]> = {};
    if (args.reference) filters.reference = [args.reference];
    if (args.dangling !== undefined) filters.dangling = [String(args.dangling)];
    const list = await withDocker(ctx, 'listing images', (d) => d.listImages({ filters: JSON.stringify(filters), abortSignal: ctx.signal }));
    const { items, truncated } = capItems(list, args.limit);
    return {
      count: list.length,
      images: items.map((i) => ({
        id: shortId(i.Id),
        tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        digests: (i.RepoDigests ?? []).filter((t) => !t.startsWith('<none>')),
        size_bytes: i.Size,
        created: isoFromUnix(i.Created),
      })),
      truncated,
    };
  },
});

function containerSummary(c: Dockerode.ContainerInspectInfo): Record<string, unknown> {
  const networks = c.NetworkSettings?.Networks ?? {};
  return {
    kind: 'container',
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config?.Image,
    image_id: c.Image,
    created: c.Created,
    state: {
      status: c.State?.Status,
      running: c.State?.Running,
      exit_code: c.State?.ExitCode,
      error: c.State?.Error || null,
      started_at: c.State?.StartedAt,
      finished_at: c.State?.FinishedAt,
      health: c.State?.Health?.Status ?? null,
    },
    restart_count: c.RestartCount,
    command: [...(c.Config?.Entrypoint ? [c.Config.Entrypoint].flat() : []), ...(c.Config?.Cmd ?? [])],
    env_names: envNames(c.Config?.Env),
    labels: c.Config?.Labels ?? {},
    ports: Object.entries(c.NetworkSettings?.Ports ?? {}).map(([port, bindings]) => ({
      container_port: port,
      host: (bindings ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}`),
    })),
    networks: Object.fromEntries(Object.entries(networks).map(([n, v]) => [n, { ip_address: v.IPAddress }])),
    mounts: (c.Mounts ?? []).map((m) => ({ type: m.Type, source: m.Source, destination: m.Destination, rw: m.RW })),
    auto_remove: c.HostConfig?.AutoRemove ?? false,
    tty: c.Config?.Tty ?? false,
  };
}

function imageSummary(i: Dockerode.ImageInspectInfo): Record<string, unknown> {
  return {
    kind: 'image',
    id: i.Id,
    tags: i.RepoTags ?? [],
    digests: i.RepoDigests ?? [],
    created: i.Created,
    size_bytes: i.Size,
    architecture: i.Architecture,
    os: i.Os,
    layers: i.RootFS?.Layers?.length ?? 0,
    config: {
      entrypoint: i.Config?.Entrypoint ?? null,
      cmd: i.Config?.Cmd ?? null,
      working_dir: i.Config?.WorkingDir || null,
      exposed_ports: Object.keys(i.Config?.ExposedPorts ?? {}),
      env_names: envNames(i.Config?.Env),
      labels: i.Config?.Labels ?? {},
    },
  };
}

export const dockerInspect = defineTool({
  name: 'docker_inspect',
  system: 'docker',
  title: 'Inspect a Docker container or image',
  description: 'Details of a container (state, exit code, command, ports, networks, mounts, env variable names) or an image (tags, digests, size, config). kind "auto" tries a container first, then an image.',
  level: 'LOW',
  input: z.object({
    target: imageRef.describe('Container name or id, or image reference (nginx:1.27) or id'),
    kind: z.enum(['auto', 'container', 'image']).default('auto').describe('What target names; "auto" tries a container, then an image'),
  }),
  annotations: readOnly,
  async run(args, ctx) {
    return withDocker(ctx, `inspecting ${args.target}`, async (d) => {
      if (args.kind !== 'image') {
        try {
          return containerSummary(await d.getContainer(args.target).inspect({ abortSignal: ctx.signal }));
        } catch (err) {
          if (args.kind === 'container' || (err as { statusCode?: number }).statusCode !== 404) throw err;
        }
      }
      return imageSummary(await inspectImage(d, args.target, ctx.signal));
    });
  },
});

/** Raw log bytes kept while reading; the newest are kept so memory stays bounded whatever the container wrote. */
const RAW_LOG_CAP = 4 * 1024 * 1024;

async function readLogFrames(stream: NodeJS.ReadableStream, tty: boolean): Promise<{ frames: Frame[]; dropped: boolean }> {
  const frames: Frame[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let kept = 0;
  let dropped = false;
  const push = (f: Frame) => {
    frames.push(f);
    kept += f.payload.length;
    while (kept > RAW_LOG_CAP && frames.length > 1) {
      kept -= frames.shift()!.payload.length;
      dropped = true;
    }
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (tty) {
      push({ stream: 'stdout', payload: chunk });
      continue;
    }
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const complete = demultiplex(pending);
    let used = 0;
    for (const f of complete) {
      push({ stream: f.stream, payload: Buffer.from(f.payload) });
      used += 8 + f.payload.length;
    }
    pending = pending.subarray(used);
  }
  return { frames, dropped };
}

function dialLogs(d: Dockerode, id: string, options: Record<string, unknown>, signal: AbortSignal): Promise<NodeJS.ReadableStream> {
  // Dialled as a stream so the raw bytes are read under our own bound (the buffered form also JSON-parses them).
  const statusCodes = { 200: true, 404: 'no such container', 500: 'server error' };
  return dial(d, { path: `/containers/${encodeURIComponent(id)}/logs?`, method: 'GET', options, isStream: true, statusCodes }, signal);
}

export const dockerLogs = defineTool({
  name: 'docker_logs',
  system: 'docker',
  title: 'Read Docker container logs',
  description: 'The last lines of a container\'s stdout/stderr (demultiplexed, each line tagged with its stream), bounded by tail and max_bytes; since limits to recent output ("15m", "2h", unix seconds or ISO date-time).',
  level: 'LOW',
  input: z.object({
    container: containerRef.describe('Container name or id'),
    tail: z.number().int().min(1).max(10_000).default(200).describe('Number of lines from the end of the logs (1-10000)'),
    since: z.string().regex(SINCE_PATTERN, 'use "15m", "2h", "3d", unix seconds or an ISO date-time').optional().describe('Only logs after this time: "15m", "2h", "3d", unix seconds, or ISO date-time'),
    stdout: z.boolean().default(true).describe('Include stdout'),
    stderr: z.boolean().default(true).describe('Include stderr'),
    timestamps: z.boolean().default(false).describe('Prefix each line with the Engine\'s RFC 3339 timestamp'),
    max_bytes: z.number().int().min(1_000).max(80_000).default(40_000).describe('Maximum bytes of log text returned; the newest lines are kept'),
  }),
  annotations: readOnly,
  async run(args, ctx) {
    if (!args.stdout && !args.stderr) throw new HubError('invalid_arguments', 'at least one of stdout or stderr must be true');
    return withDocker(ctx, `reading logs of ${args.container}`, async (d) => {
      const info = await d.getContainer(args.container).inspect({ abortSignal: ctx.signal });
      const options: Record<string, unknown> = { stdout: args.stdout, stderr: args.stderr, tail: args.tail, timestamps: args.timestamps, follow: false };
      if (args.since) options.since = sinceToUnix(args.since);
      const stream = await dialLogs(d, info.Id, options, ctx.signal);
      const { frames, dropped } = await readLogFrames(stream, info.Config?.Tty ?? false);
      const kept = keepNewest(framesToLines(frames), args.max_bytes);
      return {
        container: info.Name.replace(/^\//, ''),
        id: shortId(info.Id),
        tty: info.Config?.Tty ?? false,
        lines: kept.lines,
        line_count: kept.lines.length,
        bytes: kept.bytes,
        truncated: kept.truncated || dropped,
      };
    });
  },
});
