import type { EventStore } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { silentLog, type StoreLog } from '../log.js';
import type { RedisConnection } from '../redis/connection.js';
import { eventId, parseEventId, type McpEventStore } from './event-store.js';

export interface RedisEventStoreOptions {
  /** Key prefix; a stream lives at `${prefix}${sessionId}:${streamId}`. */
  prefix?: string;
  /** Events kept per stream (oldest dropped first). */
  maxLen?: number;
  /** Bytes (serialized JSON) kept per stream, oldest dropped first. */
  streamMaxBytes?: number;
  /** Bytes kept across all streams of all sessions; the least recently written streams lose their oldest events first. */
  totalMaxBytes?: number;
  /** A stream not written for this long expires (ms, refreshed on every write). */
  ttlMs?: number;
  log?: StoreLog;
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
  private readonly streamMaxBytes: number;
  private readonly totalMaxBytes: number;
  private readonly log: StoreLog;
  private degraded = false;

  constructor(
    private readonly connection: RedisConnection,
    options: RedisEventStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'omni:mcp:events:';
    this.maxLen = options.maxLen ?? 1_000;
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.streamMaxBytes = options.streamMaxBytes ?? 4 * 1024 * 1024;
    this.totalMaxBytes = Math.max(options.totalMaxBytes ?? 64 * 1024 * 1024, this.streamMaxBytes);
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
            const json = JSON.stringify(message);
            const id = await storeScript(client)(
              keyOf(streamId),
              this.sizesKey,
              this.indexKey,
              this.totalKey,
              json,
              Buffer.byteLength(json),
              this.maxLen,
              this.streamMaxBytes,
              this.totalMaxBytes,
              this.ttlMs,
              Date.now(),
            );
            if (typeof id === 'string') {
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

  /** Bytes held across all streams, as the store accounts them (for tests and diagnostics). */
  async bytes(): Promise<number> {
    return Number((await this.connection.client.get(this.totalKey)) ?? 0);
  }

  /** Bookkeeping of the byte bounds, next to the streams (a session id never starts with `~`). */
  private get sizesKey(): string {
    return `${this.prefix}~bytes`;
  }

  private get indexKey(): string {
    return `${this.prefix}~written`;
  }

  private get totalKey(): string {
    return `${this.prefix}~total`;
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

/**
 * Stores one event and enforces the bounds atomically. Each entry carries its size (`s`); a hash keeps each stream's
 * bytes, a sorted set the streams by last write, a counter the total. Over a bound, the oldest entries go first: of
 * this stream for the per-stream bounds, of the least recently written stream for the total. Streams that expired
 * (TTL) are found in the index and their bytes released; a couple are swept per call so the index stays small.
 * (Keys of other streams are reached from the index: this needs a single Redis, not a cluster.)
 */
const STORE_SCRIPT = `
local stream, sizes, index, total = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local size = tonumber(ARGV[2])
local maxLen, streamMax, totalMax = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function forget(key)
  local b = tonumber(redis.call('HGET', sizes, key) or '0')
  redis.call('HDEL', sizes, key)
  redis.call('ZREM', index, key)
  redis.call('DECRBY', total, b)
  redis.call('DEL', key)
end
local function popOldest(key)
  local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
  if not first then return false end
  local fields, s = first[2], 0
  for i = 1, #fields, 2 do if fields[i] == 's' then s = tonumber(fields[i + 1]) end end
  redis.call('XDEL', key, first[1])
  redis.call('HINCRBY', sizes, key, -s)
  redis.call('DECRBY', total, s)
  return true
end
for _, key in ipairs(redis.call('ZRANGE', index, 0, 1)) do
  if key ~= stream and redis.call('EXISTS', key) == 0 then forget(key) end
end
local id = redis.call('XADD', stream, '*', 'm', ARGV[1], 's', size)
redis.call('PEXPIRE', stream, ARGV[6])
redis.call('ZADD', index, tonumber(ARGV[7]), stream)
local bytes = redis.call('HINCRBY', sizes, stream, size)
redis.call('INCRBY', total, size)
while (bytes > streamMax or redis.call('XLEN', stream) > maxLen) and popOldest(stream) do
  bytes = tonumber(redis.call('HGET', sizes, stream))
end
while tonumber(redis.call('GET', total) or '0') > totalMax do
  local oldest = redis.call('ZRANGE', index, 0, 0)[1]
  if not oldest then redis.call('SET', total, 0) break end
  if redis.call('EXISTS', oldest) == 0 or not popOldest(oldest) then forget(oldest) end
end
return id
`;

type StoreCommand = (...args: (string | number)[]) => Promise<unknown>;

/** The Lua command, registered once per client (ioredis sends EVALSHA, falling back to EVAL on NOSCRIPT). */
function storeScript(client: RedisConnection['client']): StoreCommand {
  const named = client as unknown as { omniMcpStoreEvent?: StoreCommand };
  if (!named.omniMcpStoreEvent) client.defineCommand('omniMcpStoreEvent', { numberOfKeys: 4, lua: STORE_SCRIPT });
  return (...args) => named.omniMcpStoreEvent!.call(client, ...args) as Promise<unknown>;
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
