import { randomUUID } from 'node:crypto';
import type { CallToolResult, Server, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { HubError } from '../tools/errors.js';
import { OPERATION_KEEP_MS, OPERATION_MAX_MS, ProgressWriter, type OperationRecord, type OperationStore } from '../tools/operations.js';
import type { CallOrigin, InvokeResult } from '../tools/pipeline.js';
import type { ToolRegistry } from '../tools/registry.js';
import { isModernRequest, requestEnvelope, type SdkRuntime } from './sdk.js';

/**
 * MCP Tasks (the `io.modelcontextprotocol/tasks` extension) for the hub's long tools. A client that declares the
 * extension (its 2026-07-28 request envelope, or its 2025 session's capabilities) gets a task at once for a long
 * call: `{resultType: "task", taskId, status: "working", ttlMs, pollIntervalMs}`. This instance runs the call through
 * the one invoke pipeline in the background (quota charged once, at the start; the audit record written at the end
 * with the outcome, as for any call) and keeps the task's state in the operation store, so with Redis any instance
 * answers `tasks/get` and `tasks/cancel`. Clients without the extension keep the `{"status": "running", "operation"}`
 * follow-up of tools/operations.ts.
 *
 * While it works, the tool's progress lines (a Docker build's steps, a pull's layers) are written to the task's
 * record at most every couple of seconds: `tasks/get` on any instance answers the latest as `statusMessage`, and a
 * 2025 session that created the task is sent a status notification with it.
 *
 * A tool that ran and reported an error completes with `result.isError` (the spec keeps `failed` for protocol
 * errors: the hub's own failure to run the call). Cancelling writes a cancellation mark next to the task's record
 * (a separate key, so a progress write of the running instance cannot undo it); the instance running it sees the
 * mark (at once when it is this one, at its next check otherwise) and aborts the work's signal, which the Docker and
 * Cloud Run adapters pass to their requests.
 */

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/**
 * Tools that answer with a task: the ones declaring `longRunning`, and the Cloud Run deploy and delete, which wait on
 * Google's long-running operations and otherwise answer a still-running deployment that a later describe completes.
 */
const WAITING_TOOLS = new Set(['google_cloud_run_deploy', 'google_cloud_run_delete']);

/** How often a client is told to poll, and how often the running instance looks for a cancellation from elsewhere. */
export const TASK_POLL_MS = 2_000;
/**
 * A task can be read at least this long after it is created (its work is bounded by OPERATION_MAX_MS), and this long
 * after it ends: every write keeps it for the whole `ttlMs` it was announced with.
 */
const TASK_TTL_MS = OPERATION_MAX_MS + OPERATION_KEEP_MS;

const TaskParams = z.looseObject({ taskId: z.string().min(1).max(200) });

type TaskStatus = 'working' | 'completed' | 'failed' | 'cancelled';

/** What a task record adds to an operation record: when it last changed (the store keeps the rest). */
interface TaskRecord extends OperationRecord {
  updated_at?: number;
}

/** Whether this request's client declared the Tasks extension (2026-07-28 envelope, else its 2025 session). */
export function clientSupportsTasks(sdk: SdkRuntime['server'], ctx: ServerContext, legacyCapabilities: () => { extensions?: Record<string, unknown> } | undefined): boolean {
  const modern = requestEnvelope(ctx)?.[sdk.CLIENT_CAPABILITIES_META_KEY] as { extensions?: Record<string, unknown> } | undefined;
  if (modern?.extensions?.[TASKS_EXTENSION] !== undefined) return true;
  if (isModernRequest(sdk, ctx)) return false;
  return legacyCapabilities()?.extensions?.[TASKS_EXTENSION] !== undefined;
}

export function runsAsTask(registry: ToolRegistry, name: string): boolean {
  const tool = registry.get(name);
  return tool !== undefined && (tool.def.longRunning === true || WAITING_TOOLS.has(tool.def.name));
}

const iso = (ms: number) => new Date(ms).toISOString();

function wireStatus(record: OperationRecord): TaskStatus {
  if (record.status === 'running') return 'working';
  if (record.status === 'succeeded') return 'completed';
  return record.status;
}

/** Why a cancelled task's call ended: its audit record's error. */
const cancellation = (tool: string) => new HubError('cancelled', `${tool} was cancelled by its client (tasks/cancel)`);

/** The key of a task's cancellation mark in the operation store (the task id itself never contains `#`). */
const cancelMark = (taskId: string) => `${taskId}#cancelled`;

/** The task fields every answer about it carries (flat, as the extension asks: no `task` wrapper). */
function taskFields(record: TaskRecord) {
  const latest = record.status === 'running' ? record.last_lines?.at(-1) : undefined;
  return {
    taskId: record.id,
    status: wireStatus(record),
    ...(latest ? { statusMessage: latest } : {}),
    createdAt: iso(record.started_at),
    lastUpdatedAt: iso(record.updated_at ?? record.finished_at ?? record.started_at),
    ttlMs: TASK_TTL_MS,
    pollIntervalMs: TASK_POLL_MS,
  };
}

export class TaskRunner {
  /** Abort controllers of the tasks this instance runs, by task id. */
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly store: OperationStore,
    private readonly invoke: (name: string, args: unknown, principal: string, call: Omit<CallOrigin, 'principal' | 'transport'>) => Promise<InvokeResult>,
    private readonly toResult: (result: InvokeResult) => CallToolResult,
    private readonly log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void },
  ) {}

  /**
   * Creates the task, starts the call in the background and answers the flat CreateTaskResult. `notify` is told of
   * each change the task's client can be sent (progress while it works, then its end).
   */
  async start(name: string, args: unknown, principal: string, call: Omit<CallOrigin, 'principal' | 'transport' | 'signal' | 'onProgress'>, notify?: (record: TaskRecord) => void) {
    const now = Date.now();
    const record: TaskRecord = { id: `${name}-${randomUUID()}`, tool: name, principal, status: 'running', started_at: now, updated_at: now };
    await this.store.save(record, TASK_TTL_MS);
    const controller = new AbortController();
    this.running.set(record.id, controller);
    const work = AbortSignal.any([controller.signal, AbortSignal.timeout(OPERATION_MAX_MS)]);
    const watcher = setInterval(() => void this.checkCancelled(record, controller), TASK_POLL_MS);
    watcher.unref();
    const progress = new ProgressWriter();
    progress.start((lines) => {
      const working: TaskRecord = { ...record, last_lines: lines, updated_at: Date.now() };
      this.store.save(working, TASK_TTL_MS).then(
        () => notify?.(working),
        (err: unknown) => this.log.warn({ err, task: record.id }, 'could not store task progress'),
      );
    });
    const onProgress = (p: { message?: string; progress: number; total?: number }) =>
      progress.report(p.message ?? (p.total ? `${p.progress}/${p.total}` : String(p.progress)));
    void this.invoke(name, args, principal, { ...call, signal: work, waitMs: OPERATION_MAX_MS, onProgress })
      .then(
        (result): TaskRecord => ({ ...record, status: 'succeeded', result: this.toResult(result) as Record<string, unknown> }),
        (err: unknown): TaskRecord => {
          this.log.error({ err, task: record.id }, 'a task failed to run');
          return { ...record, status: 'failed', error: { code: 'internal_error', message: err instanceof Error ? err.message : String(err), details: {} } };
        },
      )
      .then(async (done) => {
        clearInterval(watcher);
        progress.stop();
        this.running.delete(record.id);
        // A cancellation stays the outcome, even when the work finished before it noticed.
        if (await this.cancelled(record.id).catch(() => false)) return;
        const finished = { ...done, finished_at: Date.now(), updated_at: Date.now() };
        await this.store.save(finished, TASK_TTL_MS);
        notify?.(finished);
      })
      .catch((err: unknown) => this.log.error({ err, task: record.id }, 'could not store the outcome of a task'));
    return { resultType: 'task' as const, ...taskFields(record) };
  }

  /** `tasks/get`: the task's state, with the tool's result inline once it completed (or the error once it failed). */
  async get(taskId: string, principal: string) {
    const record = await this.find(taskId, principal);
    const fields = taskFields(record);
    if (record.status === 'succeeded') return { ...fields, result: record.result ?? { content: [] } };
    if (record.status === 'failed') return { ...fields, error: { code: -32603, message: record.error?.message ?? 'the task failed' } };
    return fields;
  }

  /** `tasks/cancel`: marks a working task cancelled and aborts its work; a finished one stays as it is. */
  async cancel(taskId: string, principal: string): Promise<void> {
    const record = await this.find(taskId, principal);
    if (record.status !== 'running') return;
    const now = Date.now();
    const cancelled: TaskRecord = { ...record, status: 'cancelled', finished_at: now, updated_at: now };
    // The mark first: from then on every instance reads the task as cancelled, whatever its running instance writes.
    await this.store.save({ ...cancelled, id: cancelMark(taskId) }, TASK_TTL_MS);
    await this.store.save(cancelled, TASK_TTL_MS);
    this.running.get(taskId)?.abort(cancellation(record.tool));
  }

  private async cancelled(id: string): Promise<boolean> {
    return (await this.store.get(cancelMark(id))) !== null;
  }

  private async checkCancelled(record: TaskRecord, controller: AbortController): Promise<void> {
    try {
      if (await this.cancelled(record.id)) controller.abort(cancellation(record.tool));
    } catch (err) {
      this.log.warn({ err, task: record.id }, 'could not check a task for cancellation');
    }
  }

  /**
   * A task of this principal; an unknown id, or another principal's, is -32602 as the extension asks. A working
   * task with a cancellation mark is the cancelled task the mark holds.
   */
  private async find(taskId: string, principal: string): Promise<TaskRecord> {
    if (taskId.includes('#')) throw new UnknownTask(taskId);
    const record = (await this.store.get(taskId)) as TaskRecord | null;
    if (!record || record.principal !== principal) throw new UnknownTask(taskId);
    if (record.status !== 'running') return record;
    const mark = (await this.store.get(cancelMark(taskId))) as TaskRecord | null;
    return mark ? { ...mark, id: taskId } : record;
  }

  /** Registers `tasks/get` and `tasks/cancel` on a protocol server, gated on the client declaring the extension. */
  register(sdk: SdkRuntime['server'], server: Server): void {
    const { ProtocolError, ProtocolErrorCode, MissingRequiredClientCapabilityError } = sdk;
    const guard = async <T>(ctx: ServerContext, fn: (principal: string) => Promise<T>): Promise<T> => {
      if (!clientSupportsTasks(sdk, ctx, () => server.getClientCapabilities() as { extensions?: Record<string, unknown> } | undefined)) {
        throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } }, `${ctx.mcpReq.method} needs the ${TASKS_EXTENSION} extension`);
      }
      try {
        return await fn(ctx.http?.authInfo?.clientId ?? 'anonymous');
      } catch (err) {
        if (err instanceof UnknownTask) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
        throw err;
      }
    };
    server.setRequestHandler('tasks/get', { params: TaskParams }, (params, ctx) => guard(ctx, (principal) => this.get(params.taskId, principal)));
    // No hub task ever waits for input (a call that needs a person's approval asks before it becomes a task): an update
    // names the task's state instead of reaching a task that could take it.
    server.setRequestHandler('tasks/update', { params: TaskParams }, (params, ctx) =>
      guard(ctx, async (principal) => {
        const record = await this.find(params.taskId, principal);
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `task ${record.id} is ${wireStatus(record)}, not waiting for input`);
      }),
    );
    server.setRequestHandler('tasks/cancel', { params: TaskParams }, (params, ctx) =>
      guard(ctx, async (principal) => {
        await this.cancel(params.taskId, principal);
        return {};
      }),
    );
  }
}

class UnknownTask extends Error {
  constructor(taskId: string) {
    super(`Unknown task: ${taskId.slice(0, 200)} (tasks are kept for their ttlMs)`);
  }
}

/** The `notifications/tasks/status` params for a task's change (sent on legacy sessions that can take it). */
export function statusNotification(record: TaskRecord) {
  return { method: 'notifications/tasks/status', params: taskFields(record) };
}
