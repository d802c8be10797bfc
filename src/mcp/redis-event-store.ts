import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { silentLog, type GovernanceLog } from '../governance/log.js';
import type { RedisConnection } from '../governance/redis-connection.js';
import { eventId, parseEventId, type McpEventStore } from './event-store.js';

export interface RedisEventStoreOptions {
  /** Key prefix; a stream lives at `${prefix}${sessionId}:${streamId}`. */
  prefix?: string;
  /** Approximate events kept per stream (XADD MAXLEN ~). */
  maxLen?: number;
  /** A stream not written for this long expires (ms, refreshed on every write). */
  ttlMs?: number;
  log?: GovernanceLog;
}

/** Redis stream entry ids: `<ms>-<seq>`. */
const ENTRY_ID = /^\d+-\d+$/;

/**
 * One Redis stream per MCP stream on the hub's shared connection (bounded command timeouts, no offline queue).
 * Storing never fails the live stream: with Redis down the event is sent without being kept (logged once per outage)
 * and only resumption is lost. Sessions themselves stay in the process that opened them.
 */
export class RedisEventStore implements McpEventStore {
  readonly kind = 'redis';
  private readonly prefix: string;
  private readonly maxLen: number;
  private readonly ttlMs: number;
  private readonly log: GovernanceLog;
  private degraded = false;

  constructor(
    private readonly connection: RedisConnection,
    options: RedisEventStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'omni:mcp:events:';
    this.maxLen = options.maxLen ?? 1_000;
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.log = options.log ?? silentLog;
    connection.acquire();
  }

  forSession(sessionId: string): EventStore {
    const keyOf = (streamId: string) => `${this.prefix}${sessionId}:${streamId}`;
    const client = this.connection.client;
    return {
      storeEvent: async (streamId, message) => {
        if (this.connection.isHealthy()) {
          try {
            const key = keyOf(streamId);
            // Sent in one write (auto-pipelining), in order: the expiry applies to the stream the XADD just made.
            const [id] = await Promise.all([
              client.xadd(key, 'MAXLEN', '~', this.maxLen, '*', 'm', JSON.stringify(message)),
              client.pexpire(key, this.ttlMs),
            ]);
            if (id) {
              this.degraded = false;
              return eventId(streamId, id);
            }
          } catch (err) {
            this.warnOnce(err);
          }
        } else {
          this.warnOnce(new Error('redis connection is down'));
        }
        // Not stored: an id in Redis's own format still lets a later resume pick up whatever is stored after now.
        return eventId(streamId, `${Date.now()}-0`);
      },
      getStreamIdForEventId: async (id) => {
        const parsed = parseEventId(id, ENTRY_ID);
        if (!parsed) return undefined;
        return (await client.exists(keyOf(parsed.streamId))) === 1 ? parsed.streamId : undefined;
      },
      replayEventsAfter: async (lastEventId, { send }) => {
        const parsed = parseEventId(lastEventId, ENTRY_ID);
        if (!parsed) throw new Error(`Malformed event id: ${lastEventId}`);
        const entries = (await client.xrange(keyOf(parsed.streamId), `(${parsed.position}`, '+')) as [string, string[]][];
        for (const [id, fields] of entries) {
          const message = decode(fields);
          if (message) await send(eventId(parsed.streamId, id), message);
        }
        return parsed.streamId;
      },
    };
  }

  /** Streams expire on their own: a later replica could still rebuild the session from them. */
  endSession(): void {}

  async close(): Promise<void> {
    await this.connection.release();
  }

  private warnOnce(err: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    const message = err instanceof Error ? err.message : String(err);
    this.log.warn({ store: 'redis', err: message }, 'MCP event store unavailable: streams continue without resumption until Redis answers');
  }
}

function decode(fields: string[]): JSONRPCMessage | undefined {
  const at = fields.indexOf('m');
  if (at < 0 || at + 1 >= fields.length) return undefined;
  try {
    return JSON.parse(fields[at + 1] as string) as JSONRPCMessage;
  } catch {
    return undefined;
  }
}
