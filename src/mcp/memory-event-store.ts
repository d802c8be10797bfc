import type { EventStore } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { eventId, parseEventId, type McpEventStore } from './event-store.js';

export interface MemoryEventStoreOptions {
  /** Events kept per stream (oldest dropped first). */
  perStream?: number;
  /** Events kept across all streams (least recently written streams lose their oldest events first). */
  total?: number;
  /** Bytes (serialized JSON) kept per stream, oldest dropped first. */
  streamMaxBytes?: number;
  /** Bytes kept across all streams (least recently written streams lose their oldest events first). */
  totalMaxBytes?: number;
  /** A stream not written for this long is dropped (ms). */
  idleMs?: number;
  now?: () => number;
}

interface StoredStream {
  readonly sessionId: string;
  events: { seq: number; message: JSONRPCMessage; bytes: number }[];
  bytes: number;
  lastWrite: number;
}

const SEQ_DIGITS = 12;
const SEQ = /^\d+$/;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The embedded default: bounded per stream and in total (in events and in bytes of serialized JSON) and in time, so
 * neither a flood of sessions nor a few huge results can grow it without end.
 */
export class MemoryEventStore implements McpEventStore {
  readonly kind = 'memory';
  /** Keyed by session and stream; Map order is write recency (re-inserted on every write), oldest first. */
  private readonly streams = new Map<string, StoredStream>();
  private readonly sessions = new Map<string, Set<string>>();
  private readonly perStream: number;
  private readonly maxTotal: number;
  private readonly streamMaxBytes: number;
  private readonly totalMaxBytes: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private seq = 0;
  private total = 0;
  private totalBytes = 0;
  private lastSweep = 0;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.perStream = options.perStream ?? 1_000;
    this.maxTotal = options.total ?? 50_000;
    this.streamMaxBytes = options.streamMaxBytes ?? 4 * 1024 * 1024;
    this.totalMaxBytes = Math.max(options.totalMaxBytes ?? 64 * 1024 * 1024, this.streamMaxBytes);
    this.idleMs = options.idleMs ?? 60 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Events currently held, across all streams (for tests and diagnostics). */
  size(): number {
    return this.total;
  }

  /** Bytes of serialized events currently held, across all streams. */
  bytes(): number {
    return this.totalBytes;
  }

  forSession(sessionId: string): EventStore {
    const keyOf = (streamId: string) => `${sessionId}\n${streamId}`;
    const live = (streamId: string): StoredStream | undefined => {
      const stream = this.streams.get(keyOf(streamId));
      if (stream && stream.lastWrite < this.now() - this.idleMs) {
        this.drop(keyOf(streamId));
        return undefined;
      }
      return stream;
    };
    return {
      storeEvent: async (streamId, message) => {
        this.sweepIdle();
        const key = keyOf(streamId);
        let stream = this.streams.get(key);
        if (stream) this.streams.delete(key);
        else {
          stream = { sessionId, events: [], bytes: 0, lastWrite: 0 };
          let keys = this.sessions.get(sessionId);
          if (!keys) this.sessions.set(sessionId, (keys = new Set()));
          keys.add(key);
        }
        this.streams.set(key, stream);
        stream.lastWrite = this.now();
        const seq = ++this.seq;
        const bytes = Buffer.byteLength(JSON.stringify(message));
        stream.events.push({ seq, message, bytes });
        stream.bytes += bytes;
        this.total += 1;
        this.totalBytes += bytes;
        // An event larger than the stream bound is sent live but not kept.
        while (stream.events.length > this.perStream || stream.bytes > this.streamMaxBytes) this.shiftOldest(stream);
        this.enforceTotal();
        return eventId(streamId, String(seq).padStart(SEQ_DIGITS, '0'));
      },
      getStreamIdForEventId: async (id) => {
        const parsed = parseEventId(id, SEQ);
        return parsed && live(parsed.streamId) ? parsed.streamId : undefined;
      },
      replayEventsAfter: async (lastEventId, { send }) => {
        const parsed = parseEventId(lastEventId, SEQ);
        if (!parsed) throw new Error(`Malformed event id: ${lastEventId}`);
        const after = Number(parsed.position);
        // A snapshot (empty for an unknown or expired stream): events stored while we await send() reach the client live.
        for (const e of live(parsed.streamId)?.events.filter((ev) => ev.seq > after) ?? []) {
          await send(eventId(parsed.streamId, String(e.seq).padStart(SEQ_DIGITS, '0')), e.message);
        }
        return parsed.streamId;
      },
    };
  }

  endSession(sessionId: string): void {
    for (const key of this.sessions.get(sessionId) ?? []) this.drop(key);
    this.sessions.delete(sessionId);
  }

  async close(): Promise<void> {
    this.streams.clear();
    this.sessions.clear();
    this.total = 0;
    this.totalBytes = 0;
  }

  private drop(key: string): void {
    const stream = this.streams.get(key);
    if (!stream) return;
    this.streams.delete(key);
    this.total -= stream.events.length;
    this.totalBytes -= stream.bytes;
    const keys = this.sessions.get(stream.sessionId);
    keys?.delete(key);
    if (keys?.size === 0) this.sessions.delete(stream.sessionId);
  }

  private enforceTotal(): void {
    while (this.total > this.maxTotal || this.totalBytes > this.totalMaxBytes) {
      const [key, oldest] = this.streams.entries().next().value as [string, StoredStream];
      if (oldest.events.length > 0) this.shiftOldest(oldest);
      if (oldest.events.length === 0) this.drop(key);
    }
  }

  private shiftOldest(stream: StoredStream): void {
    const dropped = stream.events.shift();
    if (!dropped) return;
    stream.bytes -= dropped.bytes;
    this.total -= 1;
    this.totalBytes -= dropped.bytes;
  }

  /** Streams are in write order, so the idle ones are a prefix of the map. */
  private sweepIdle(): void {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    const cutoff = now - this.idleMs;
    for (const [key, stream] of this.streams) {
      if (stream.lastWrite >= cutoff) break;
      this.drop(key);
    }
  }
}
