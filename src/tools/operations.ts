import { randomUUID } from 'node:crypto';
import { HubError, toHubError } from './errors.js';
import type { OperationRecord, OperationStore } from './operation-store.js';
import type { ToolContext } from './types.js';

export type { OperationRecord, OperationStore } from './operation-store.js';

/**
 * Long operations (Docker pull/build/push today) can outlast one call's budget (TOOL_WAIT_MS, GPT Actions' 45 s). The
 * instance running the work answers `{"status": "running", "operation"}` and keeps reading in the background; it
 * writes the operation's state to the OperationStore (Redis when REDIS_URL is set, so any instance answers the
 * follow-up; this process's memory otherwise). A follow-up call with `operation` is answered by the pipeline from the
 * store: it starts no work and uses no quota (see operationOutcome).
 */

/** Hard bound for a background operation: its work is aborted after this. */
export const OPERATION_MAX_MS = 30 * 60_000;
/** How long a finished operation can be read. */
export const OPERATION_KEEP_MS = 60 * 60_000;
/** A stored record is at most this many bytes of JSON: larger results lose their biggest fields (see bounded()). */
export const OPERATION_MAX_BYTES = 64 * 1024;
const MAX_MEMORY_OPERATIONS = 500;
/** Answer a little before the caller's deadline so the reply still fits in its budget. */
const DEADLINE_MARGIN_MS = 1_000;
/** A running operation's progress lines are written at most this often. */
const PROGRESS_WRITE_MS = 2_000;
const PROGRESS_LINES = 15;

/** Reports one new progress line of a running operation (cheap to call often: writes are throttled). */
export type OperationProgress = (line: string) => void;

/** This process's operations (the default without REDIS_URL): bounded in count, each dropped after its TTL. */
export class MemoryOperationStore implements OperationStore {
  readonly kind = 'memory' as const;
  private readonly records = new Map<string, { json: string; expiresAt: number }>();

  save(record: OperationRecord, ttlMs: number): Promise<void> {
    const now = Date.now();
    this.records.delete(record.id);
    for (const [id, r] of this.records) {
      if (r.expiresAt > now && this.records.size < MAX_MEMORY_OPERATIONS) break;
      this.records.delete(id);
    }
    // Stored as JSON, as in Redis, so both stores hand out the same copies.
    this.records.set(record.id, { json: JSON.stringify(bounded(record)), expiresAt: now + ttlMs });
    return Promise.resolve();
  }

  get(id: string): Promise<OperationRecord | null> {
    const r = this.records.get(id);
    if (!r || r.expiresAt <= Date.now()) return Promise.resolve(null);
    return Promise.resolve(JSON.parse(r.json) as OperationRecord);
  }

  close(): Promise<void> {
    this.records.clear();
    return Promise.resolve();
  }
}

/**
 * Keeps a record within OPERATION_MAX_BYTES: first `last_lines` shrink, then the result is replaced by a note. The
 * adapters already bound their results far below this; the bound protects the store from a future tool that does not.
 */
export function bounded(record: OperationRecord): OperationRecord {
  const size = (r: OperationRecord) => Buffer.byteLength(JSON.stringify(r), 'utf8');
  if (size(record) <= OPERATION_MAX_BYTES) return record;
  const trimmed: OperationRecord = { ...record };
  if (trimmed.result && Array.isArray(trimmed.result.last_lines)) {
    trimmed.result = { ...trimmed.result, last_lines: trimmed.result.last_lines.slice(-3), truncated: true };
  }
  if (trimmed.error) trimmed.error = { ...trimmed.error, message: trimmed.error.message.slice(0, 2_000), details: {} };
  if (size(trimmed) <= OPERATION_MAX_BYTES) return trimmed;
  return { ...trimmed, result: trimmed.result && { status: trimmed.result.status ?? 'done', truncated: true, message: 'the result was too large to keep' } };
}

/**
 * A running operation's (or MCP task's) latest progress lines, written to the store once it is handed out as running:
 * at most every PROGRESS_WRITE_MS, the latest lines always written eventually (trailing write), never after the outcome.
 */
export class ProgressWriter {
  private lines: string[] = [];
  private dirty = false;
  private write: ((lines: string[]) => void) | undefined;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  readonly report: OperationProgress = (line) => {
    this.lines = [...this.lines.slice(1 - PROGRESS_LINES), line.slice(0, 500)];
    this.dirty = true;
    this.schedule();
  };

  /** The lines for the first stored record; later changes are written by start()'s writer. */
  snapshot(): string[] {
    this.dirty = false;
    return this.lines;
  }

  start(write: (lines: string[]) => void): void {
    this.write = write;
    this.lastWrite = Date.now();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (!this.write || this.stopped || this.timer || !this.dirty) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.lastWrite = Date.now();
      this.dirty = false;
      this.write!(this.lines);
    }, Math.max(0, this.lastWrite + PROGRESS_WRITE_MS - Date.now()));
    this.timer.unref();
  }
}

/**
 * Runs `work` under its own abort signal (bounded by OPERATION_MAX_MS, not by the call) and waits for it until the
 * call's deadline. Returns the result, or — when the deadline or the caller's abort comes first — a running marker
 * whose operation id a later call passes back. From then on the state lives in `ctx.services.operations`.
 */
export async function runOperation(
  tool: string,
  ctx: Pick<ToolContext, 'deadline' | 'signal' | 'principal' | 'services' | 'log'>,
  work: (signal: AbortSignal, progress: OperationProgress) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const startedAt = Date.now();
  const progress = new ProgressWriter();
  // A caller that waits about as long as the bound itself (an MCP task) owns the work: its signal (the task's cancel)
  // stops it. Any other caller's signal ends only its wait, never the work.
  const bound = AbortSignal.timeout(OPERATION_MAX_MS);
  const owned = ctx.deadline - startedAt > OPERATION_MAX_MS / 2;
  const promise = work(owned ? AbortSignal.any([ctx.signal, bound]) : bound, progress.report);
  if (owned) {
    // Its end is the call's answer, never "running": stopped by its caller, the call ends with the caller's reason.
    return promise.catch((err: unknown) => {
      throw ctx.signal.aborted ? toHubError(ctx.signal.reason) : err;
    });
  }
  // Marks the promise handled: a failure after the caller left is stored below, not an unhandled rejection.
  promise.catch(() => undefined);
  const waitMs = Math.max(0, ctx.deadline - Date.now() - DEADLINE_MARGIN_MS);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<'running'>((resolve) => {
    timer = setTimeout(() => resolve('running'), waitMs);
    onAbort = () => resolve('running');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([promise, timedOut]);
    if (first !== 'running') return first;
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
  }

  const id = `${tool}-${randomUUID()}`;
  const store = ctx.services.operations;
  const base = { id, tool, principal: ctx.principal, started_at: startedAt };
  const runningTtl = OPERATION_MAX_MS + OPERATION_KEEP_MS;
  try {
    await store.save({ ...base, status: 'running', last_lines: progress.snapshot() }, runningTtl);
  } catch (err) {
    // Without a stored record nobody could read the outcome: say so now rather than hand out a dead id.
    throw new HubError('governance_unavailable', `${tool} is still running but its state cannot be stored (${toHubError(err).message}); check the outcome later with a read tool`, {
      store: store.kind,
    });
  }
  progress.start((lines) =>
    store.save({ ...base, status: 'running', last_lines: lines }, runningTtl).catch((err: unknown) => ctx.log.warn({ err, operation: id }, 'could not store operation progress')),
  );
  void promise.then(
    (result) => ({ ...base, status: 'succeeded' as const, finished_at: Date.now(), result }),
    (err: unknown) => {
      const e = toHubError(err);
      return { ...base, status: 'failed' as const, finished_at: Date.now(), error: { code: e.code, message: e.message, details: e.details } };
    },
  ).then((record) => {
    progress.stop();
    return store.save(record, OPERATION_KEEP_MS).catch((err: unknown) => ctx.log.error({ err, operation: id }, 'could not store the outcome of an operation'));
  });
  return { status: 'running', operation: id, message: `${tool} is still running; call the tool again with {"operation": "${id}"} for the result` };
}

/**
 * The answer to a follow-up call: the result, a running marker, or the error the operation failed with (thrown).
 * An unknown id, an id of another tool or of another principal is `not_found`.
 */
export async function operationOutcome(store: OperationStore, tool: string, id: string, principal: string): Promise<Record<string, unknown>> {
  let record: OperationRecord | null;
  try {
    record = await store.get(id);
  } catch (err) {
    throw new HubError('governance_unavailable', `the operation store (${store.kind}) is unavailable: ${toHubError(err).message}`, { store: store.kind });
  }
  if (!record || record.tool !== tool || record.principal !== principal) {
    throw new HubError('not_found', `no ${tool} operation ${id.slice(0, 100)} (operations are kept for one hour after they finish)`, { operation: id.slice(0, 100) });
  }
  const elapsed = Math.round(((record.finished_at ?? Date.now()) - record.started_at) / 1000);
  if (record.status === 'running') {
    if (Date.now() - record.started_at > OPERATION_MAX_MS + DEADLINE_MARGIN_MS * 60) {
      // Its instance stopped before writing an outcome (e.g. replaced by Cloud Run).
      throw new HubError('timeout', `${tool} operation ${id} did not finish: the instance running it stopped or it ran past ${OPERATION_MAX_MS / 60_000} minutes`);
    }
    return { status: 'running', operation: id, elapsed_s: elapsed, last_lines: record.last_lines ?? [] };
  }
  if (record.status === 'succeeded') return record.result ?? {};
  if (record.status === 'cancelled') throw new HubError('not_found', `${tool} operation ${id} was cancelled`, { operation: id });
  const e = record.error!;
  throw new HubError(e.code, e.message, { ...e.details, operation: id });
}
