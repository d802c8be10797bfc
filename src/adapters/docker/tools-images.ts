import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { HubError } from '../../tools/errors.js';
import { defineTool, type ToolContext } from '../../tools/types.js';
import { dockerClient, dockerError, REGISTRY_REFUSED } from './client.js';
import { packBuildContext, resolveBuildContext } from './build-context.js';
import { runOperation, type OperationProgress } from '../../tools/operations.js';
import { consumeProgress, type ProgressSummary } from './progress.js';
import { checkRemoteContext, remoteFetchError } from './remote.js';
import { imageRef, inspectImage, shortId, splitReference } from './shared.js';

const operationField = z
  .string()
  .regex(/^docker_(pull|build|push)-[0-9a-f-]{36}$/)
  .optional()
  .describe('Id returned by an earlier call that answered status "running"; when given, only the outcome of that operation is returned');

const requireUnlessOperation = (field: string) => (v: { operation?: string } & Record<string, unknown>) => v.operation !== undefined || v[field] !== undefined;

/**
 * A stream error event (`{"error": ...}`) means the operation failed even though the HTTP status was 200. The Engine
 * starts the push stream before it looks the image up, and the registry's refusal arrives the same way.
 */
function failIfStreamError(what: string, summary: ProgressSummary): void {
  if (summary.error) {
    const details = { upstream_message: summary.error, last_lines: summary.lines };
    if (/does not exist locally/i.test(summary.error)) throw new HubError('not_found', `${what} failed: ${summary.error}`, details);
    if (REGISTRY_REFUSED.test(summary.error)) throw new HubError('auth_error', `${what}: the registry refused the credentials (DOCKER_REGISTRY_AUTH): ${summary.error}`, details);
    throw new HubError('upstream_error', `${what} failed: ${summary.error}`, details);
  }
}

/** Opens a progress stream and reads it to the end under the operation's own signal; failures become HubErrors. */
async function streamOperation(
  config: Config,
  what: string,
  open: (docker: Dockerode) => Promise<NodeJS.ReadableStream>,
  progress?: OperationProgress,
): Promise<{ docker: Dockerode; summary: ProgressSummary }> {
  try {
    const docker = await dockerClient(config);
    const summary = await consumeProgress(await open(docker), progress && ((_events, line) => progress(line)));
    failIfStreamError(what, summary);
    return { docker, summary };
  } catch (err) {
    throw dockerError(err, config, what);
  }
}

/**
 * Pull, build and push can outlast one call (TOOL_WAIT_MS), and the Engine cancels them if the client hangs up: the
 * stream is read to its end in the background and the caller gets `{status: "running", operation}` (see
 * src/tools/operations.ts; the pipeline answers the follow-up).
 */
function bounded(kind: string, ctx: ToolContext, work: (signal: AbortSignal, progress: OperationProgress) => Promise<Record<string, unknown>>) {
  return runOperation(kind, ctx, (signal, progress) => work(signal, withCallerProgress(progress, ctx)));
}

/** Each progress line also goes to the caller when it asked for progress (an MCP progressToken), counted from 1. */
function withCallerProgress(progress: OperationProgress, ctx: ToolContext): OperationProgress {
  const caller = ctx.progress;
  if (!caller) return progress;
  let count = 0;
  return (line) => {
    progress(line);
    caller({ progress: ++count, message: line });
  };
}

export const dockerPull = defineTool({
  name: 'docker_pull',
  system: 'docker',
  title: 'Pull a Docker image',
  description: 'Pull an image from its registry (credentials from DOCKER_REGISTRY_AUTH when set). Returns the digest, image id and last progress lines; a long pull answers status "running" with an operation id to call again.',
  level: 'MEDIUM',
  input: z
    .object({
      image: imageRef.optional().describe('Image to pull, e.g. "nginx:1.27", "ghcr.io/org/app:v1" (tag defaults to latest)'),
      platform: z.string().regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/).optional().describe('Platform such as "linux/amd64" (default: the daemon\'s)'),
      operation: operationField,
    })
    .refine(requireUnlessOperation('image'), { message: 'image is required (or operation)', path: ['image'] }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  longRunning: true,
  async run(args, ctx) {
    const image = args.image!;
    const ref = splitReference(image);
    const reference = ref.tag || ref.digest ? image : `${image}:latest`;
    return bounded('docker_pull', ctx, async (signal, progress) => {
      const what = `pulling ${reference}`;
      const { docker, summary } = await streamOperation(ctx.config, what, (d) =>
        d.pull(reference, {
          ...(args.platform ? { platform: args.platform } : {}),
          ...(ctx.config.docker.registryAuth ? { authconfig: ctx.config.docker.registryAuth } : {}),
          abortSignal: signal,
        }),
        progress,
      );
      let imageId: string | null = null;
      try {
        imageId = (await inspectImage(docker, reference, signal)).Id;
      } catch {
        // The pull itself succeeded; the id is a convenience.
      }
      return { status: 'pulled', image: reference, digest: summary.digest ?? null, image_id: imageId, last_lines: summary.lines };
    });
  },
});

const buildArgName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

export const dockerBuild = defineTool({
  name: 'docker_build',
  system: 'docker',
  title: 'Build a Docker image',
  description: 'Build an image from a directory inside DOCKER_BUILD_ROOT (context, .dockerignore honoured) or from a Git URL (remote). Returns the image id, tags and last build lines; a failed step is an error. Long builds answer status "running".',
  level: 'HIGH',
  input: z
    .object({
      context: z.string().max(1024).optional().describe('Directory relative to DOCKER_BUILD_ROOT holding the Dockerfile, e.g. "my-app"; mutually exclusive with remote'),
      remote: z
        .string()
        .max(2048)
        .regex(/^https:\/\/\S+$/, 'must be an https:// URL of a Git repository or context archive')
        .optional()
        .describe('Public https:// Git repository URL (or context archive) to build from instead of a directory, e.g. "https://github.com/org/app.git#main:subdir"; no credentials in the URL'),
      tags: z.array(imageRef).max(10).default([]).describe('Tags for the built image, e.g. ["ghcr.io/org/app:v1"]'),
      dockerfile: z
        .string()
        .max(512)
        .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/, 'must be a relative path inside the context without ".."')
        .optional()
        .describe('Dockerfile path relative to the context (default "Dockerfile")'),
      build_args: z.record(buildArgName, z.string().max(4096)).default({}).describe('Build-time variables (ARG), e.g. {"NODE_ENV": "production"}'),
      target: z.string().max(128).optional().describe('Multi-stage target stage to build'),
      platform: z.string().regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/).optional().describe('Target platform such as "linux/amd64"'),
      no_cache: z.boolean().default(false).describe('Do not use the build cache'),
      pull: z.boolean().default(false).describe('Always pull newer versions of base images'),
      labels: z.record(z.string().max(128), z.string().max(1024)).default({}).describe('Labels to set on the image'),
      operation: operationField,
    })
    .refine((v) => v.operation !== undefined || (v.context === undefined) !== (v.remote === undefined), {
      message: 'give exactly one of context or remote (or operation)',
      path: ['context'],
    }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  longRunning: true,
  async run(args, ctx) {
    // The context is checked completely (traversal, symlinks, links, size) before anything reaches the daemon, within the call's deadline.
    const context = args.context !== undefined ? await resolveBuildContext(ctx.config.docker.buildRoot, args.context, ctx.signal) : undefined;
    const remote = args.remote !== undefined ? await checkRemoteContext(args.remote, ctx.config, ctx.signal) : undefined;
    const auth = ctx.config.docker.registryAuth;
    const options: Record<string, unknown> = {
      t: args.tags,
      nocache: args.no_cache,
      pull: args.pull,
      rm: true,
      forcerm: true,
      ...(args.dockerfile ? { dockerfile: args.dockerfile } : {}),
      ...(Object.keys(args.build_args).length ? { buildargs: JSON.stringify(args.build_args) } : {}),
      ...(Object.keys(args.labels).length ? { labels: JSON.stringify(args.labels) } : {}),
      ...(args.target ? { target: args.target } : {}),
      ...(args.platform ? { platform: args.platform } : {}),
      ...(remote ? { remote } : {}),
      // Private base images: the Engine reads X-Registry-Config, keyed by registry address.
      ...(auth?.serveraddress ? { registryconfig: { [auth.serveraddress]: auth } } : {}),
    };
    return bounded('docker_build', ctx, async (signal, progress) => {
      const what = `building ${args.tags[0] ?? args.context ?? args.remote}`;
      // With remote the daemon fetches the context itself and the request body stays empty.
      const body = context ? packBuildContext(context) : Readable.from([]);
      // A context that changed after its check fails the stream; that reason is the answer, not the cut connection.
      let packError: unknown;
      body.once('error', (err) => (packError = err));
      const { summary } = await streamOperation(ctx.config, what, (d) => d.buildImage(body, { ...options, abortSignal: signal }), progress).catch((err: unknown) => {
        throw packError ?? (remote ? remoteFetchError(err, remote) : err);
      });
      if (packError) throw packError;
      if (!summary.image_id) {
        throw new HubError('upstream_error', `${what}: the build stream ended without an image id`, { last_lines: summary.lines });
      }
      return {
        status: 'built',
        image_id: summary.image_id,
        short_id: shortId(summary.image_id),
        tags: args.tags,
        source: context ? { context: args.context, files: context.entries.filter((e) => e.type === 'file').length, bytes: context.bytes } : { remote: args.remote },
        last_lines: summary.lines,
      };
    });
  },
});

export const dockerPush = defineTool({
  name: 'docker_push',
  system: 'docker',
  title: 'Push a Docker image',
  description: 'Push a local image tag to its registry with the credentials in DOCKER_REGISTRY_AUTH. Returns the pushed digest; a refused or failed push is an error. Long pushes answer status "running" with an operation id.',
  level: 'HIGH',
  input: z
    .object({
      image: imageRef.optional().describe('Image to push including registry, e.g. "ghcr.io/org/app:v1" (tag defaults to latest)'),
      operation: operationField,
    })
    .refine(requireUnlessOperation('image'), { message: 'image is required (or operation)', path: ['image'] }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  longRunning: true,
  async run(args, ctx) {
    const ref = splitReference(args.image!);
    if (ref.digest) throw new HubError('invalid_arguments', 'push a tag, not a digest reference', { field: 'image' });
    const tag = ref.tag ?? 'latest';
    return bounded('docker_push', ctx, async (signal, progress) => {
      const what = `pushing ${ref.repository}:${tag}`;
      const { summary } = await streamOperation(ctx.config, what, (d) =>
        // The Engine requires X-Registry-Auth on push; "{}" means anonymous.
        d.getImage(ref.repository).push({ tag, authconfig: ctx.config.docker.registryAuth ?? {}, abortSignal: signal }),
        progress,
      );
      return { status: 'pushed', image: `${ref.repository}:${tag}`, digest: summary.digest ?? null, last_lines: summary.lines };
    });
  },
});
