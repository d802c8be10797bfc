import { traceContextOf, type TraceContextMeta } from '../telemetry/tracing.js';
import { boundedUnknownKeys } from '../tools/limits.js';
import { loadSdk, sdkIfLoaded } from './sdk.js';
import { callToolAnswer, toCallToolResult } from './results.js';
import type { McpSurface } from './server.js';

/**
 * The one measured fast path DESIGN.md §7 allows: a POST /mcp carrying a single `tools/call` or `tools/list` request,
 * stateless or inside a known session (issue 18), is answered here, without an SDK Server and transport. It accepts
 * exactly what the SDK's own schemas accept and answers exactly what the SDK transport answers in JSON response mode
 * (tests compare both byte for byte); in a session the caller adds the `Mcp-Session-Id` header, as the SDK does.
 * Anything else — initialize, notifications, batches, bad headers, protocol errors — returns null and goes through
 * the SDK transport, which owns those answers.
 */
export interface FastPathRequest {
  body: unknown;
  accept: string | undefined;
  protocolVersion: string | string[] | undefined;
  principal: string;
  /** The OAuth token's scopes (empty for a hub key): they narrow tools/list. */
  scopes?: readonly string[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every own key of `o` is declared in `shape`. */
const onlyKeys = (o: Json, shape: Record<string, true>): boolean => boundedUnknownKeys(shape, o, 1).length === 0;

/**
 * The common request shape, checked without zod: `{jsonrpc: "2.0", id, method, params: {name, arguments?}}` with an
 * integer or string id and plain-object arguments (tools/list: no params, or empty ones). Whatever passes is accepted
 * by the SDK's JSONRPCRequestSchema and CallToolRequestSchema / ListToolsRequestSchema unchanged, so those parses are
 * skipped; anything else (a `_meta`, a cursor, odd ids) is left to the schemas themselves.
 */
function isSimpleRequest(body: Json, method: string): boolean {
  if (body.jsonrpc !== '2.0' || !onlyKeys(body, ENVELOPE_KEYS)) return false;
  const id = body.id;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return false;
  const params = body.params;
  if (method === 'tools/list') return params === undefined || (isObject(params) && Object.keys(params).length === 0);
  if (!isObject(params) || typeof params.name !== 'string' || !onlyKeys(params, CALL_PARAM_KEYS)) return false;
  return params.arguments === undefined || (isObject(params.arguments) && !Object.hasOwn(params.arguments, '__proto__'));
}
const ENVELOPE_KEYS = { jsonrpc: true, id: true, method: true, params: true } as const;
const CALL_PARAM_KEYS = { name: true, arguments: true } as const;

export async function tryFastPath(surface: McpSurface, req: FastPathRequest): Promise<string | null> {
  const { body } = req;
  if (!isObject(body)) return null;
  const method = body.method;
  if (method !== 'tools/call' && method !== 'tools/list') return null;
  if (!req.accept?.includes('application/json') || !req.accept.includes('text/event-stream')) return null;
  const { CallToolRequestSchema, CallToolResultSchema, ErrorCode, JSONRPCRequestSchema, ListToolsRequestSchema, McpError, SUPPORTED_PROTOCOL_VERSIONS } = (
    sdkIfLoaded() ?? (await loadSdk())
  ).types;
  const pv = req.protocolVersion;
  if (pv !== undefined && (typeof pv !== 'string' || !SUPPORTED_PROTOCOL_VERSIONS.includes(pv))) return null;

  let id: string | number;
  let name = '';
  let args: Json = {};
  let traceContext: TraceContextMeta | undefined;
  if (isSimpleRequest(body, method)) {
    id = body.id as string | number;
    if (method === 'tools/call') {
      const params = body.params as { name: string; arguments?: Json };
      name = params.name;
      args = params.arguments ?? {};
    }
  } else {
    const envelope = JSONRPCRequestSchema.safeParse(body);
    if (!envelope.success) return null;
    id = envelope.data.id;
    if (method === 'tools/list') {
      if (!ListToolsRequestSchema.safeParse(body).success) return null;
    } else {
      const call = CallToolRequestSchema.safeParse(body);
      // Progress needs the SDK's SSE answer, and tasks its task machinery: both take the SDK path.
      if (!call.success || call.data.params.task || call.data.params._meta?.progressToken !== undefined) return null;
      name = call.data.params.name;
      args = call.data.params.arguments ?? {};
      traceContext = traceContextOf(call.data.params._meta);
    }
  }

  if (method === 'tools/list') return JSON.stringify({ result: surface.toolsListFor(req.principal, req.scopes), jsonrpc: '2.0', id });
  // An upstream (federated) call must be cancellable by the client's notifications/cancelled, which only reaches
  // calls the SDK transport runs: those take the SDK path.
  if (surface.registry.get(name)?.def.passthrough) return null;
  try {
    const invoked = await surface.invoke(name, args, req.principal, { traceContext });
    const answer = callToolAnswer(invoked, id);
    if (answer !== null) return answer;
    // Media or other shapes: built and checked as the SDK's Server checks a tools/call result.
    const checked = CallToolResultSchema.safeParse(toCallToolResult(invoked));
    if (!checked.success) throw new McpError(ErrorCode.InvalidParams, `Invalid tools/call result: ${checked.error.message}`);
    return JSON.stringify({ result: checked.data, jsonrpc: '2.0', id });
  } catch (err) {
    if (!(err instanceof McpError)) throw err;
    return JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.code ?? ErrorCode.InternalError, message: err.message } });
  }
}
