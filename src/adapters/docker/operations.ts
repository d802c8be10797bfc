import { randomUUID } from 'node:crypto';
import { HubError } from '../../tools/errors.js';

/**
 * Pull, build and push can outlast one tool call (TOOL_WAIT_MS). The Engine cancels them if the client hangs
 * up, so the stream keeps being read here in the background and the caller gets `{status: "running",
 * operation}`; calling the same tool again with `operation` returns the outcome. Operations live in this
 * process's memory for an hour.
 */

/** Hard bound for a background operation: the stream is aborted after this. */
export const OPERATION_MAX_MS = 30 * 60_000;
const KEEP_MS = 60 * 60_000;
const MAX_OPERATIONS = 200;
/** Answer a little before the caller's deadline so the reply still fits in its budget. */
const DEADLINE_MARGIN_MS = 1_000;

interface Operation {
  kind: string;
  startedAt: number;
  promise: Promise<Record<string, unknown>>;
  outcome?: { ok: true; result: Record<string, unknown> } | { ok: false; error: unknown };
}

const operations = new Map<string, Operation>();

function prune(now: number): void {
  for (const [id, op] of operations) {
    if (now - op.startedAt > KEEP_MS || operations.size > MAX_OPERATIONS) operations.delete(id);
  }
}

/**
 * Runs `work` with its own abort signal (bounded by OPERATION_MAX_MS, not by the call) and waits for it
 * until the call's deadline. Returns the result, or a running marker when the deadline comes first.
 */
export async function runBounded(
  kind: string,
  deadline: number,
  callSignal: AbortSignal,
  work: (signal: AbortSignal) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const signal = AbortSignal.timeout(OPERATION_MAX_MS);
  const op: Operation = { kind, startedAt: Date.now(), promise: work(signal) };
  op.promise.then(
    (result) => (op.outcome = { ok: true, result }),
    (error: unknown) => (op.outcome = { ok: false, error }),
  );
  const id = `${kind}-${randomUUID()}`;
  const waitMs = Math.max(0, deadline - Date.now() - DEADLINE_MARGIN_MS);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<'running'>((resolve) => {
    timer = setTimeout(() => resolve('running'), waitMs);
    onAbort = () => resolve('running');
    callSignal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([op.promise, timedOut]);
    if (first !== 'running') return first;
  } finally {
    clearTimeout(timer);
    if (onAbort) callSignal.removeEventListener('abort', onAbort);
  }
  prune(Date.now());
  operations.set(id, op);
  return { status: 'running', operation: id, message: `${kind} is still running; call the tool again with {"operation": "${id}"} for the result` };
}

/** The outcome of an earlier operation: its result, a running marker, or the error it failed with. */
export function operationOutcome(kind: string, id: string): Record<string, unknown> {
  const op = operations.get(id);
  if (!op || op.kind !== kind) {
    throw new HubError('not_found', `no ${kind} operation ${id} in this hub process (operations are kept for one hour)`);
  }
  if (!op.outcome) return { status: 'running', operation: id, elapsed_s: Math.round((Date.now() - op.startedAt) / 1000) };
  if (op.outcome.ok) return op.outcome.result;
  throw op.outcome.error;
}
