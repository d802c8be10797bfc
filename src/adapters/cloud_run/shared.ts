import { z } from 'zod';
import type { Config } from '../../config.js';
import { cancelledBy, HubError } from '../../tools/errors.js';
import type { ToolContext } from '../../tools/types.js';
import { raceSignal, withRetries } from '../google/retry.js';
import { runError, type ServicesClient } from './client.js';
import type { RunService, ServiceName } from './service-shape.js';

export const serviceNameField = z
  .string()
  .min(1)
  .max(49)
  .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'lowercase letters, digits and hyphens; starts with a letter; does not end with a hyphen')
  .describe('Cloud Run service name: lowercase letters, digits and hyphens, starting with a letter, at most 49 characters');

export const regionField = z
  .string()
  .regex(/^[a-z]+-[a-z]+\d+$/, 'a Cloud Run region such as us-central1')
  .optional()
  .describe('Region such as us-central1 or europe-west1 (default: GOOGLE_CLOUD_REGION)');

export const projectField = z
  .string()
  .regex(/^([a-z][a-z0-9.-]*:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/, 'a Google Cloud project id such as my-project-123')
  .optional()
  .describe('Google Cloud project id (default: GOOGLE_CLOUD_PROJECT)');

/** Resolves project and region from the arguments and the defaults; a missing project names GOOGLE_CLOUD_PROJECT. */
export function resolveTarget(args: { service_name: string; project_id?: string; region?: string }, config: Config): ServiceName {
  const project = args.project_id ?? config.google.project;
  if (!project) {
    throw new HubError('not_configured', 'no Google Cloud project: pass project_id or set GOOGLE_CLOUD_PROJECT', { variable: 'GOOGLE_CLOUD_PROJECT' });
  }
  return { project, region: args.region ?? config.google.region, service: args.service_name };
}

/** Target text for describeAction (runs before any call, so a missing project is shown, not thrown). */
export function targetText(args: { service_name: string; project_id?: string; region?: string }, config: Config): string {
  const project = args.project_id ?? config.google.project ?? '<GOOGLE_CLOUD_PROJECT unset>';
  return `Cloud Run service "${args.service_name}" in project ${project}, region ${args.region ?? config.google.region}`;
}

/** Per-request options: the library's timeout is the time left for this call (at least 1 s). */
export function callOptions(ctx: ToolContext): { timeout: number } {
  return { timeout: Math.max(1_000, ctx.deadline - Date.now()) };
}

/** One library call bounded by ctx.signal, with errors mapped; reads pass `idempotent` to get 2 jittered retries. */
export async function runCall<T>(
  ctx: ToolContext,
  what: string,
  fn: () => Promise<T>,
  opts: { idempotent?: boolean; notFound?: string } = {},
): Promise<T> {
  const once = async () => {
    try {
      return await raceSignal(fn(), ctx.signal, what);
    } catch (err) {
      throw runError(err, ctx.config, { notFound: opts.notFound });
    }
  };
  return opts.idempotent ? withRetries(once, ctx.signal) : once();
}

export async function getServiceOrNull(client: ServicesClient, name: string, ctx: ToolContext): Promise<RunService | null> {
  try {
    const [service] = await runCall(ctx, `reading ${name}`, () => client.getService({ name }, callOptions(ctx)), { idempotent: true, notFound: name });
    return service;
  } catch (err) {
    if (err instanceof HubError && err.code === 'not_found') return null;
    throw err;
  }
}

/** Stop waiting this long before the deadline, so the answer still reaches the caller in time. */
const DEADLINE_MARGIN_MS = 1_500;
const POLL_DELAYS_MS = [250, 500, 1_000, 2_000, 3_000, 5_000];

export interface OperationOutcome {
  done: boolean;
  result?: RunService;
  error?: { code?: number; message?: string };
}

interface PolledOperation {
  done?: boolean | null;
  result?: unknown;
  error?: unknown;
}

/**
 * Polls a long-running operation until it is done or the call's deadline is near; past that the caller answers
 * `{status: "running", operation}` and a later describe completes the picture.
 */
export async function waitForOperation(
  ctx: ToolContext,
  first: PolledOperation,
  poll: () => Promise<PolledOperation>,
): Promise<OperationOutcome> {
  let op = first;
  // Out of time, the call answers "still running"; cancelled by its caller (an MCP task's tasks/cancel), it ends so.
  const stopped = (): OperationOutcome => {
    const cancelled = cancelledBy(ctx.signal);
    if (cancelled) throw cancelled;
    return { done: false };
  };
  for (let i = 0; !op.done; i += 1) {
    const remaining = ctx.deadline - Date.now() - DEADLINE_MARGIN_MS;
    if (remaining <= 0 || ctx.signal.aborted) return stopped();
    const delay = Math.min(POLL_DELAYS_MS[Math.min(i, POLL_DELAYS_MS.length - 1)]!, remaining);
    if (!(await sleep(delay, ctx.signal))) return stopped();
    op = await runCall(ctx, 'polling the operation', poll, { idempotent: true });
    ctx.progress?.({ progress: i + 1, message: op.done ? 'the Cloud Run operation finished' : 'the Cloud Run operation is still running' });
  }
  if (op.error) {
    const e = op.error as { code?: number; message?: string };
    return { done: true, error: { code: e.code, message: e.message } };
  }
  return { done: true, result: (op.result ?? undefined) as RunService | undefined };
}

/** Resolves true after `ms`, false at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The operation's failure as a HubError carrying the google.rpc code and the operation name. */
export function operationFailed(what: string, operation: string, error: { code?: number; message?: string }): HubError {
  const mapped = runError({ code: error.code ?? 2, message: error.message ?? 'operation failed' }, { google: {} } as Config);
  return new HubError('upstream_error', `${what} failed: ${mapped.message}`, { ...mapped.details, operation });
}
