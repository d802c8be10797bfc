import type { ServerContext } from '@modelcontextprotocol/server';
import type { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';

export interface SdkRuntime {
  /** The v2 server package: `Server`, `createMcpHandler`, the era classification and the protocol's error types. */
  server: typeof import('@modelcontextprotocol/server');
  /** Node adapters: the sessionful Streamable HTTP transport for 2025-era sessions, `toNodeHandler`. */
  node: typeof import('@modelcontextprotocol/node');
  /** The SDK's frozen 2025 HTTP+SSE transport (`/sse` + `/messages`), which the v2 server package no longer ships. */
  SSEServerTransport: typeof SSEServerTransport;
}

let loading: Promise<SdkRuntime> | null = null;
let loaded: SdkRuntime | undefined;

/** The SDK runtime once loadSdk() has finished (hot paths skip an await with it). */
export function sdkIfLoaded(): SdkRuntime | undefined {
  return loaded;
}

/**
 * The SDK's server, transports and protocol schemas, loaded on first use (they cost time and memory at start that
 * REST calls and health checks never need). The MCP routes start the load in the background once the hub listens, so
 * the first MCP request rarely waits for it.
 */
export function loadSdk(): Promise<SdkRuntime> {
  loading ??= Promise.all([import('@modelcontextprotocol/server'), import('@modelcontextprotocol/node'), import('@modelcontextprotocol/server-legacy/sse')]).then(
    ([server, node, sse]) => (loaded = { server, node, SSEServerTransport: sse.SSEServerTransport }),
  );
  return loading;
}

/** A request's 2026-07-28 envelope (the `_meta` entries the SDK lifted from it), if it has one. */
export const requestEnvelope = (ctx: ServerContext): Record<string, unknown> | undefined => ctx.mcpReq.envelope as Record<string, unknown> | undefined;

/** Whether a request is a 2026-07-28 one (its envelope names a protocol version) rather than a 2025 session's. */
export function isModernRequest(sdk: SdkRuntime['server'], ctx: ServerContext): boolean {
  return requestEnvelope(ctx)?.[sdk.PROTOCOL_VERSION_META_KEY] !== undefined;
}
