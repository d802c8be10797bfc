import type { EventStore } from '@modelcontextprotocol/server';

/**
 * Where stateful Streamable HTTP sessions keep the events they send, so a client that lost its SSE stream can
 * reconnect with `Last-Event-ID` and get what it missed. The SDK names its streams per session (the standalone GET
 * stream is `_GET_stream` in every session), so each session gets its own view of the store.
 */
export interface McpEventStore {
  readonly kind: 'memory' | 'redis';
  /** The SDK EventStore for one session: its stream ids never collide with another session's. */
  forSession(sessionId: string): EventStore;
  /** The session ended (DELETE, idle sweep, shutdown): drop what only it could replay. */
  endSession(sessionId: string): void;
  close(): Promise<void>;
}

/** Event ids are `${streamId}_${position}`: the stream is recoverable from the id, positions sort within a stream. */
export function eventId(streamId: string, position: string): string {
  return `${streamId}_${position}`;
}

/** Splits an event id at its last `_` (SDK stream ids such as `_GET_stream` contain underscores themselves). */
export function parseEventId(id: string, position: RegExp): { streamId: string; position: string } | undefined {
  const cut = id.lastIndexOf('_');
  if (cut <= 0) return undefined;
  const streamId = id.slice(0, cut);
  const pos = id.slice(cut + 1);
  return position.test(pos) ? { streamId, position: pos } : undefined;
}
