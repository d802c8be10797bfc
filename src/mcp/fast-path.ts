import type { StandardSchemaV1Sync } from '@modelcontextprotocol/server';
import { traceContextOf, type TraceContextMeta } from '../telemetry/tracing.js';
import { isObject, MODERN_ENVELOPE_KEYS, MODERN_VERSION, onlyKeys, REQUEST_KEYS, type Json } from './plain-request.js';
import { loadSdk, sdkIfLoaded } from './sdk.js';
import { callToolAnswer, modernResultMeta, toCallToolResult, toModernResult, type ModernResultMeta } from './results.js';
import { SERVER_INFO, type McpSurface } from './server.js';
import type { InFlightCalls } from './in-flight.js';
import { runsAsTask } from './tasks.js';

/**
 * The fast path for 2025-era requests: a POST /mcp carrying a single `tools/call` or `tools/list` request,
 * stateless or inside a known session, is answered here, without an SDK Server and transport. It accepts
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
  /**
   * Present when an upstream (federated) tool may be answered here: the caller has checked that nothing can reach the
   * client during the call (no progress token, and a client that cannot be asked to elicit or sample and set no log
   * level). In a session, `calls` tracks the call so the client's `notifications/cancelled` still stops it; a stateless
   * request has no session to cancel it in (`untracked`).
   */
  upstream?: { calls: InFlightCalls; session: string } | 'untracked';
}

/**
 * The common request shape, checked without zod: `{jsonrpc: "2.0", id, method, params: {name, arguments?}}` with an
 * integer or string id and plain-object arguments (tools/list: no params, or empty ones). Whatever passes is accepted
 * by the SDK's JSONRPCRequestSchema and CallToolRequestSchema / ListToolsRequestSchema unchanged, so those parses are
 * skipped; anything else (a `_meta`, a cursor, odd ids) is left to the schemas themselves.
 */
function isSimpleRequest(body: Json, method: string): boolean {
  if (body.jsonrpc !== '2.0' || !onlyKeys(body, REQUEST_KEYS)) return false;
  const id = body.id;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return false;
  const params = body.params;
  if (method === 'tools/list') return params === undefined || (isObject(params) && Object.keys(params).length === 0);
  if (!isObject(params) || typeof params.name !== 'string' || !onlyKeys(params, CALL_PARAM_KEYS)) return false;
  return params.arguments === undefined || (isObject(params.arguments) && !Object.hasOwn(params.arguments, '__proto__'));
}
const CALL_PARAM_KEYS = { name: true, arguments: true } as const;

/** The value when the SDK's own schema accepts it (the spec schemas validate synchronously), else null. */
function parsed<T>(schema: StandardSchemaV1Sync<unknown, T>, value: unknown): T | null {
  const result = schema['~standard'].validate(value);
  return 'then' in result || result.issues !== undefined ? null : result.value;
}

export async function tryFastPath(surface: McpSurface, req: FastPathRequest): Promise<string | null> {
  const { body } = req;
  if (!isObject(body)) return null;
  const method = body.method;
  if (method !== 'tools/call' && method !== 'tools/list') return null;
  if (!req.accept?.includes('application/json') || !req.accept.includes('text/event-stream')) return null;
  const { ProtocolError, ProtocolErrorCode, SUPPORTED_PROTOCOL_VERSIONS, specTypeSchemas } = (sdkIfLoaded() ?? (await loadSdk())).server;
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
    const envelope = parsed(specTypeSchemas.JSONRPCRequest, body);
    if (!envelope) return null;
    id = envelope.id;
    // A per-request `_meta` envelope makes it a 2026-07-28 request: those are classified before they get here.
    if (method === 'tools/list') {
      if (!parsed(specTypeSchemas.ListToolsRequest, body)) return null;
    } else {
      const call = parsed(specTypeSchemas.CallToolRequest, body);
      // Progress needs the SDK's SSE answer, and tasks their extension: both take the SDK path.
      if (!call || call.params.task || call.params._meta?.progressToken !== undefined) return null;
      name = call.params.name;
      args = call.params.arguments ?? {};
      traceContext = traceContextOf(call.params._meta);
    }
  }

  if (method === 'tools/list') return JSON.stringify({ result: surface.toolsListFor(req.principal, req.scopes), jsonrpc: '2.0', id });
  // An upstream (federated) call may meet requests for the client (elicitation, sampling, log lines): only a caller
  // that ruled them out lets it run here, tracked for cancellation.
  const passthrough = surface.registry.get(name)?.def.passthrough === true;
  if (passthrough && !req.upstream) return null;
  // A long call may become an MCP task (the client's Tasks extension decides): the SDK handler answers those.
  if (runsAsTask(surface.registry, name)) return null;
  // A call a person approves may be asked through elicitation, which needs the SDK's handler (and, in a session, its stream).
  if (surface.pipeline.asksPerson(name, { principal: req.principal, transport: 'mcp' })) return null;
  const tracked = passthrough && typeof req.upstream === 'object' ? req.upstream.calls.start(req.upstream.session, id) : undefined;
  try {
    const invoked = await surface.invoke(name, args, req.principal, tracked ? { traceContext, signal: tracked.signal } : { traceContext });
    const answer = callToolAnswer(invoked, id);
    if (answer !== null) return answer;
    // Media or other shapes: built and checked as the SDK's Server checks a tools/call result.
    const checked = specTypeSchemas.CallToolResult['~standard'].validate(toCallToolResult(invoked));
    if ('then' in checked || checked.issues !== undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid tools/call result');
    return JSON.stringify({ result: checked.value, jsonrpc: '2.0', id });
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.code ?? ProtocolErrorCode.InternalError, message: err.message } });
  } finally {
    tracked?.done();
  }
}

/** The params of a plain 2026-07-28 tools/call. */
const MODERN_CALL_KEYS = { name: true, arguments: true, _meta: true } as const;

/** The server's identity as 2026-07-28 results carry it: the same for every answer of the process. */
let modernMeta: ModernResultMeta | undefined;

export interface ModernFastPathRequest {
  body: unknown;
  accept: string | undefined;
  principal: string;
}

/**
 * The 2026-07-28 counterpart: a single plain `tools/call` the SDK's classification has already accepted as modern
 * (envelope valid, `Mcp-Method`/`Mcp-Name` equal to the body) is answered here, exactly as the SDK's entry answers it
 * in JSON (its result plus `resultType` and the server's identity in `_meta`; `test/mcp/modern-fast-path.test.ts`
 * compares both byte for byte). Anything beyond the plain shape — progress, a log level, other `_meta`, an odd id, a
 * federated tool (its cancellation needs the SDK's stream) — returns null and goes to the SDK.
 */
export async function tryModernFastPath(surface: McpSurface, req: ModernFastPathRequest): Promise<string | null> {
  const { body } = req;
  if (!isObject(body) || body.method !== 'tools/call' || body.jsonrpc !== '2.0' || !onlyKeys(body, REQUEST_KEYS)) return null;
  if (!req.accept?.includes('application/json') || !req.accept.includes('text/event-stream')) return null;
  const id = body.id;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return null;
  const params = body.params;
  if (!isObject(params) || typeof params.name !== 'string' || !onlyKeys(params, MODERN_CALL_KEYS)) return null;
  const meta = params._meta;
  if (!isObject(meta) || !onlyKeys(meta, MODERN_ENVELOPE_KEYS) || meta['io.modelcontextprotocol/protocolVersion'] !== MODERN_VERSION) return null;
  const args = params.arguments ?? {};
  if (!isObject(args) || Object.hasOwn(args, '__proto__')) return null;
  if (surface.registry.get(params.name)?.def.passthrough) return null;
  if (runsAsTask(surface.registry, params.name)) return null;
  if (surface.pipeline.asksPerson(params.name, { principal: req.principal, transport: 'mcp' })) return null;
  const sdk = (sdkIfLoaded() ?? (await loadSdk())).server;
  const modern = (modernMeta ??= modernResultMeta(sdk.SERVER_INFO_META_KEY, SERVER_INFO));
  const rid = id as string | number;
  try {
    const invoked = await surface.invoke(params.name, args, req.principal);
    const answer = callToolAnswer(invoked, rid, modern);
    if (answer !== null) return answer;
    const checked = sdk.specTypeSchemas.CallToolResult['~standard'].validate(toCallToolResult(invoked));
    if ('then' in checked || checked.issues !== undefined) throw new sdk.ProtocolError(sdk.ProtocolErrorCode.InvalidParams, 'Invalid tools/call result');
    return JSON.stringify({ result: toModernResult(checked.value, modern), jsonrpc: '2.0', id: rid });
  } catch (err) {
    if (!(err instanceof sdk.ProtocolError)) throw err;
    return JSON.stringify({ jsonrpc: '2.0', id: rid, error: { code: err.code ?? sdk.ProtocolErrorCode.InternalError, message: err.message } });
  }
}
