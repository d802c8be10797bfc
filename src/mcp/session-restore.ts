import type { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { Server } from '@modelcontextprotocol/server';
import type { SessionRecord } from './session-store.js';

/**
 * The one place that reaches into the MCP SDK's private state (`@modelcontextprotocol/server` 2.4, `@modelcontextprotocol/node` 2.1). A session opened on another process is
 * rebuilt here: the SDK has no public way to create a transport for an existing session id (an option doing
 * what `adoptSession` does has been proposed upstream; when the SDK ships one, this file goes), nor to give a Server the client's
 * capabilities and log level without replaying `initialize`. Replaying it would send and store an answer nobody asked
 * for. `test/mcp/session-restore.test.ts` fails if any of these fields moves in a new SDK version.
 */

/** The fields the Node transport's inner web-standard transport sets when it answers `initialize`. */
interface WebTransportState {
  sessionId?: string;
  _initialized: boolean;
}

/** The fields `Server._oninitialize` and the `logging/setLevel` handler set. */
interface ServerState {
  _negotiatedProtocolVersion?: string;
  _clientCapabilities?: unknown;
  _clientVersion?: unknown;
  _loggingLevels: Map<string | undefined, string>;
}

function webTransport(transport: NodeStreamableHTTPServerTransport): WebTransportState {
  const inner = (transport as unknown as { _webStandardTransport?: WebTransportState })._webStandardTransport;
  if (!inner || typeof inner._initialized !== 'boolean') throw new Error('MCP SDK changed: NodeStreamableHTTPServerTransport has no _webStandardTransport._initialized');
  return inner;
}

/** Marks a fresh transport as the already-initialized transport of `sessionId` (its generator must return the same id). */
export function adoptSession(transport: NodeStreamableHTTPServerTransport, sessionId: string): void {
  const inner = webTransport(transport);
  inner.sessionId = sessionId;
  inner._initialized = true;
}

/** Gives a fresh Server (connected to an adopted transport) what the client declared at `initialize`, and its log level. */
export function restoreClientState(server: Server, record: SessionRecord): void {
  const state = server as unknown as ServerState;
  if (!(state._loggingLevels instanceof Map)) throw new Error('MCP SDK changed: Server has no _loggingLevels map');
  if (record.protocolVersion) state._negotiatedProtocolVersion = record.protocolVersion;
  state._clientCapabilities = record.clientCapabilities;
  state._clientVersion = record.clientInfo;
  if (record.logLevel) state._loggingLevels.set(record.id, record.logLevel);
}
