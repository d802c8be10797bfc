import type { FastifyReply, FastifyRequest } from 'fastify';
import { loadSdk, sdkIfLoaded, type SdkRuntime } from '../mcp/sdk.js';

/**
 * The protocol era of a POST /mcp, decided once by the SDK's own classification (the step its HTTP entry runs) before
 * any guard reads the request. A request the classification refuses is marked `rejected`: the SDK entry refuses it too,
 * with its own error (carrying the request id), before any handler runs. On a 2026-07-28 request the SDK entry then
 * requires `MCP-Protocol-Version`, `Mcp-Method` and (for a named target) `Mcp-Name` to agree with the body;
 * `headersAgree` says they do, literally, and then `method` and `name` are the headers' values. When they do not
 * (absent, different, or a Base64-encoded name), `method` and `name` come from the body, so a guard never decides on a
 * header the body contradicts, and the request is left to the SDK entry, which refuses a real mismatch (`-32020`).
 */
export type McpRoute =
  | { era: 'legacy' }
  | { era: 'modern'; method: string; name: string | undefined; id: string | number | undefined; headersAgree: boolean }
  | { era: 'modern'; rejected: true };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on POST /mcp by the classification hook. */
    mcpRoute?: McpRoute;
  }
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const v = request.headers[name];
  return typeof v === 'string' ? v : undefined;
};

function classify(sdk: SdkRuntime, request: FastifyRequest): McpRoute {
  const outcome = sdk.server.classifyInboundRequest({
    httpMethod: request.method,
    protocolVersionHeader: header(request, 'mcp-protocol-version'),
    mcpMethodHeader: header(request, 'mcp-method'),
    mcpNameHeader: header(request, 'mcp-name'),
    body: request.body,
  });
  if (outcome.kind === 'legacy') return { era: 'legacy' };
  if (outcome.kind === 'reject') return { era: 'modern', rejected: true };
  const { message } = outcome;
  const id = outcome.messageKind === 'request' ? outcome.message.id : undefined;
  const params = message.params as { name?: unknown; uri?: unknown } | undefined;
  const target = typeof params?.name === 'string' ? params.name : typeof params?.uri === 'string' ? params.uri : undefined;
  const headersAgree =
    header(request, 'mcp-protocol-version') !== undefined && header(request, 'mcp-method') === message.method && header(request, 'mcp-name') === target;
  return { era: 'modern', method: message.method, name: headersAgree ? header(request, 'mcp-name') : target, id, headersAgree };
}

/** preValidation hook of the POST /mcp routes: classifies the request after the body is parsed, before the preHandler guards. */
export function mcpClassifyHook(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const sdk = sdkIfLoaded();
  if (sdk) {
    request.mcpRoute = classify(sdk, request);
    return done();
  }
  loadSdk().then((loaded) => {
    request.mcpRoute = classify(loaded, request);
    done();
  }, done);
}

/** The era of a POST /mcp as classified by mcpClassifyHook (undefined on other routes). */
export function mcpRoute(request: FastifyRequest): McpRoute | undefined {
  return request.mcpRoute;
}

export interface McpToolCall {
  name: unknown;
  args: unknown;
  id: unknown;
}

/**
 * The `tools/call` requests an MCP POST carries, for guards that decide before anything runs: on a 2026-07-28 request
 * the tool name comes from the `Mcp-Name` header once it is known to agree with the body (see McpRoute); on 2025-era
 * requests (and `/messages`), from the body, which may be a batch. A request the classification refused carries none:
 * the SDK refuses it before any call.
 */
export function mcpToolCalls(request: FastifyRequest): McpToolCall[] {
  const route = request.mcpRoute;
  if (route?.era === 'modern') {
    if ('rejected' in route || route.method !== 'tools/call') return [];
    // `name`: the validated Mcp-Name header, or the body's name when the headers did not agree with it.
    const params = (request.body as { params?: { arguments?: unknown } }).params;
    return [{ name: route.name, args: params?.arguments, id: route.id }];
  }
  const messages = Array.isArray(request.body) ? request.body : [request.body];
  const calls: McpToolCall[] = [];
  for (const m of messages) {
    if (!m || typeof m !== 'object' || (m as { method?: unknown }).method !== 'tools/call') continue;
    const params = (m as { params?: { name?: unknown; arguments?: unknown } }).params ?? {};
    calls.push({ name: params.name, args: params.arguments, id: (m as { id?: unknown }).id });
  }
  return calls;
}
