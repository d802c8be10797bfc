import type { FastifyReply, FastifyRequest } from 'fastify';
import { isObject, MODERN_ENVELOPE_KEYS, MODERN_VERSION, onlyKeys, REQUEST_KEYS } from '../mcp/plain-request.js';
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

/** What the era classification reads of a POST: its body and the three standard MCP headers. */
export interface McpPostInput {
  body: unknown;
  protocolVersionHeader: string | undefined;
  mcpMethodHeader: string | undefined;
  mcpNameHeader: string | undefined;
}

const inputOf = (request: FastifyRequest): McpPostInput => ({
  body: request.body,
  protocolVersionHeader: header(request, 'mcp-protocol-version'),
  mcpMethodHeader: header(request, 'mcp-method'),
  mcpNameHeader: header(request, 'mcp-name'),
});

/** The route of a request the SDK classified as a modern request (`message` is the body). */
function modernRoute(input: McpPostInput, message: { method: string; params?: unknown }, id: string | number | undefined): McpRoute {
  const params = message.params as { name?: unknown; uri?: unknown } | undefined;
  const target = typeof params?.name === 'string' ? params.name : typeof params?.uri === 'string' ? params.uri : undefined;
  const headersAgree = input.protocolVersionHeader !== undefined && input.mcpMethodHeader === message.method && input.mcpNameHeader === target;
  return { era: 'modern', method: message.method, name: headersAgree ? input.mcpNameHeader : target, id, headersAgree };
}

/** The route the SDK's own classification gives a POST /mcp. */
export function sdkRoute(sdk: SdkRuntime, input: McpPostInput): McpRoute {
  const outcome = sdk.server.classifyInboundRequest({ httpMethod: 'POST', ...input });
  if (outcome.kind === 'legacy') return { era: 'legacy' };
  if (outcome.kind === 'reject') return { era: 'modern', rejected: true };
  return modernRoute(input, outcome.message, outcome.messageKind === 'request' ? outcome.message.id : undefined);
}

/** A 2025-era version as a header carries it: the SDK compares versions as strings, anything else is its to judge. */
const LEGACY_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The `_meta` envelopes (as JSON text) the SDK's classification has accepted: a client sends the same capabilities and
 * identity on every request, so their schema check is the SDK's verdict on the first one. Bounded: past the bound an
 * envelope is checked by the SDK every time, as every request was before.
 */
const acceptedEnvelopes = new Set<string>();
const ACCEPTED_ENVELOPES_MAX = 256;

/**
 * The route of a POST /mcp. The plain single requests clients send on every call are recognised here without the
 * SDK's schemas, and only where the SDK's answer is certain (a property test compares both on generated requests):
 * a JSON-RPC request (`jsonrpc`, an integer or string id, a method, params an object or absent, no other key) with
 * - no `_meta` and no modern `MCP-Protocol-Version` header: a 2025-era request;
 * - a `_meta` holding only the envelope keys, naming 2026-07-28, with headers that do not contradict it, and an envelope
 *   the SDK has accepted before: a modern request.
 * Everything else, and the first request of each envelope, is classified by the SDK.
 */
export function classifyMcpPost(sdk: SdkRuntime, input: McpPostInput): McpRoute {
  const { body } = input;
  if (!isObject(body) || body.jsonrpc !== '2.0' || typeof body.method !== 'string' || !onlyKeys(body, REQUEST_KEYS)) return sdkRoute(sdk, input);
  const id = body.id;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return sdkRoute(sdk, input);
  const params = body.params;
  if (params !== undefined && !isObject(params)) return sdkRoute(sdk, input);
  const pv = input.protocolVersionHeader;
  const meta = params?._meta;
  if (meta === undefined) {
    return pv === undefined || (LEGACY_VERSION.test(pv) && pv < MODERN_VERSION) ? { era: 'legacy' } : sdkRoute(sdk, input);
  }
  if (
    !isObject(meta) ||
    !onlyKeys(meta, MODERN_ENVELOPE_KEYS) ||
    meta['io.modelcontextprotocol/protocolVersion'] !== MODERN_VERSION ||
    (pv !== undefined && pv !== MODERN_VERSION) ||
    (input.mcpMethodHeader !== undefined && input.mcpMethodHeader !== body.method)
  ) {
    return sdkRoute(sdk, input);
  }
  const envelope = JSON.stringify(meta);
  if (acceptedEnvelopes.has(envelope)) return modernRoute(input, body as { method: string; params?: unknown }, id as string | number);
  const route = sdkRoute(sdk, input);
  if (route.era === 'modern' && !('rejected' in route) && acceptedEnvelopes.size < ACCEPTED_ENVELOPES_MAX) acceptedEnvelopes.add(envelope);
  return route;
}

/** preValidation hook of the POST /mcp routes: classifies the request after the body is parsed, before the preHandler guards. */
export function mcpClassifyHook(request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  const sdk = sdkIfLoaded();
  if (sdk) {
    request.mcpRoute = classifyMcpPost(sdk, inputOf(request));
    return done();
  }
  loadSdk().then((loaded) => {
    request.mcpRoute = classifyMcpPost(loaded, inputOf(request));
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
