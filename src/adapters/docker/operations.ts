import { runOperation, type OperationProgress } from '../../tools/operations.js';
import type { ToolContext } from '../../tools/types.js';

/**
 * Pull, build and push can outlast one tool call (TOOL_WAIT_MS). The Engine cancels them if the client hangs up, so
 * the stream keeps being read in the background (under its own signal, bounded by OPERATION_MAX_MS) and the caller
 * gets `{status: "running", operation}`; the state lives in the hub's operation store (src/tools/operations.ts) and a
 * later call with `operation` is answered by the pipeline from there.
 */
export { OPERATION_MAX_MS } from '../../tools/operations.js';

export function runBounded(kind: string, ctx: ToolContext, work: (signal: AbortSignal, progress: OperationProgress) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  return runOperation(kind, ctx, work);
}
