import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface SdkRuntime {
  types: typeof import('@modelcontextprotocol/sdk/types.js');
  Server: typeof Server;
  StreamableHTTPServerTransport: typeof StreamableHTTPServerTransport;
  SSEServerTransport: typeof SSEServerTransport;
}

let loading: Promise<SdkRuntime> | null = null;
let loaded: SdkRuntime | undefined;

/** The SDK runtime once loadSdk() has finished (hot paths skip an await with it). */
export function sdkIfLoaded(): SdkRuntime | undefined {
  return loaded;
}

/**
 * The SDK's protocol schemas, server and transports, loaded on first use (the protocol's zod schemas and the server's
 * JSON Schema validator cost ~170 ms and ~10 MB at start that REST calls and health checks never need). `preloadSdk()` starts the
 * load in the background once the hub listens, so the first MCP session rarely waits for it.
 */
export function loadSdk(): Promise<SdkRuntime> {
  loading ??= Promise.all([
    import('@modelcontextprotocol/sdk/types.js'),
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/server/sse.js'),
  ]).then(
    ([types, server, streamable, sse]) =>
      (loaded = {
        types,
        Server: server.Server,
        StreamableHTTPServerTransport: streamable.StreamableHTTPServerTransport,
        SSEServerTransport: sse.SSEServerTransport,
      }),
  );
  return loading;
}
