import { loadSdk } from './sdk.js';
import type { McpSurface } from './server.js';

/**
 * The one measured fast path DESIGN.md §7 allows: a POST /mcp carrying a single `tools/call` or `tools/list` request,
 * stateless or inside a known session (issue 18), is answered here, without an SDK Server and transport. It validates
 * with the SDK's own schemas and answers exactly what the SDK transport answers in JSON response mode (tests compare
 * both byte for byte); in a session the caller adds the `Mcp-Session-Id` header, as the SDK does. Anything else —
 * initialize, notifications, batches, bad headers, protocol errors — returns null and goes through the SDK
 * transport, which owns those answers.
 */
export interface FastPathRequest {
  body: unknown;
  accept: string | undefined;
  protocolVersion: string | string[] | undefined;
  principal: string;
}

export async function tryFastPath(surface: McpSurface, req: FastPathRequest): Promise<string | null> {
  const { body } = req;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const method = (body as { method?: unknown }).method;
  if (method !== 'tools/call' && method !== 'tools/list') return null;
  if (!req.accept?.includes('application/json') || !req.accept.includes('text/event-stream')) return null;
  const {
    CallToolRequestSchema,
    CallToolResultSchema,
    ErrorCode,
    JSONRPCRequestSchema,
    ListToolsRequestSchema,
    McpError,
    SUPPORTED_PROTOCOL_VERSIONS,
  } = (await loadSdk()).types;
  const pv = req.protocolVersion;
  if (pv !== undefined && (typeof pv !== 'string' || !SUPPORTED_PROTOCOL_VERSIONS.includes(pv))) return null;
  const envelope = JSONRPCRequestSchema.safeParse(body);
  if (!envelope.success) return null;
  const id = envelope.data.id;

  if (method === 'tools/list') {
    if (!ListToolsRequestSchema.safeParse(body).success) return null;
    return JSON.stringify({ result: surface.toolsList, jsonrpc: '2.0', id });
  }
  const call = CallToolRequestSchema.safeParse(body);
  if (!call.success || call.data.params.task) return null;
  // Progress needs the SDK's SSE answer, and an upstream (federated) call must be cancellable by the client's
  // notifications/cancelled, which only reaches calls the SDK transport runs: both take the SDK path.
  if (call.data.params._meta?.progressToken !== undefined || surface.registry.get(call.data.params.name)?.def.passthrough) return null;
  try {
    const result = await surface.callTool(call.data.params.name, call.data.params.arguments ?? {}, req.principal);
    const checked = CallToolResultSchema.safeParse(result);
    if (!checked.success) throw new McpError(ErrorCode.InvalidParams, `Invalid tools/call result: ${checked.error.message}`);
    return JSON.stringify({ result: checked.data, jsonrpc: '2.0', id });
  } catch (err) {
    if (!(err instanceof McpError)) throw err;
    return JSON.stringify({ jsonrpc: '2.0', id, error: { code: err.code ?? ErrorCode.InternalError, message: err.message } });
  }
}
