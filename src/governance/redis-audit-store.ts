import { randomUUID } from 'node:crypto';
import { outsideTraces } from '../telemetry/tracing.js';
import { HubError } from '../tools/errors.js';
import { isExecutedRecord, type AuditQuery, type AuditRecord, type AuditStatus, type AuditStore } from './audit.js';
import { matches, pageSize } from './audit-query.js';
import { AuditSpill, type NumberedRecord } from './audit-spill.js';
import { silentLog, type StoreLog } from '../log.js';
import { SELF_BATCHED_SCRIPTS, type RedisConnection } from '../redis/connection.js';

export interface RedisAuditStoreOptions {
  /** Stream key; every replica sharing the Redis reads the same log. */
  key?: string;
  /** Approximate number of executed-call records the stream keeps (XADD MAXLEN ~). */
  cap: number;
  /** Approximate number of refused / not-executed call records, kept in their own stream (`${key}:refused`). */
  refusedCap?: number;
  /** Records held in process while Redis is slow or down; beyond it the oldest are dropped (and counted). */
  maxQueue?: number;
  /** Records per pipelined round trip. */
  batchSize?: number;
  /** How long a record may wait for others to share its write (ms); a full batch leaves at once. */
  lingerMs?: number;
  /**
   * Where records go when the queue is full while Redis cannot take them: an append-only spill directory, bounded in
   * bytes, replayed into Redis in order once it is back (and by the next process if this one stops first). Without it
   * the oldest queued records are dropped (and counted).
   */
  spill?: { dir: string; maxBytes: number };
  /** This process's writer id (see NumberedRecord); random by default. */
  writer?: string;
  log?: StoreLog;
}

/** The append script registered with defineCommand (see APPEND_SCRIPT). */
interface AppendCommand {
  [SELF_BATCHED_SCRIPTS.audit](...keysAndArgs: (string | number)[]): Promise<unknown>;
}

const RETRY_MS = 1_000;
/**
 * Records wait up to this long for others to share their write: under concurrent load one script call then carries
 * many records instead of one or two, so the Redis work per call stays a small part of a call's cost. The reply never
 * waits for it (an audit write is not part of a call's latency).
 */
const LINGER_MS = 10;
const CLOSE_FLUSH_MS = 2_000;
const DROP_LOG_INTERVAL_MS = 30_000;
const STREAM_ID = /^\d+-\d+$/;

/**
 * Audit log in a capped Redis stream. append() only queues: a write within LINGER_MS (at once for a full batch) sends
 * the queue in batches of one script call each, so the reply never waits for Redis. While Redis is down the queue is
 * kept (bounded) and written when the connection comes back.
 */
export class RedisAuditStore implements AuditStore {
  readonly kind = 'redis' as const;
  private readonly key: string;
  private readonly cap: number;
  private readonly refusedCap: number;
  private readonly maxQueue: number;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly log: StoreLog;
  private queue: NumberedRecord[] = [];
  private readonly writer: string;
  private nextSeq = 1;
  private readonly spill: AuditSpill | null;
  /** Set when a record fitted neither in the queue nor in the spill; cleared once the spill has room again. */
  private full = false;
  private flushing: Promise<void> | null = null;
  private scheduled: NodeJS.Timeout | null = null;
  private scheduledAtOnce = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastDropLog = 0;
  private readonly client: RedisConnection['client'] & AppendCommand;
  /** Records lost because the queue was full while Redis was unavailable. */
  dropped = 0;

  constructor(
    private readonly connection: RedisConnection,
    options: RedisAuditStoreOptions,
  ) {
    this.key = options.key ?? 'omni:audit';
    this.cap = Math.max(1, options.cap);
    this.refusedCap = Math.max(1, options.refusedCap ?? this.cap);
    this.maxQueue = Math.max(1, options.maxQueue ?? Math.min(this.cap, 10_000));
    this.batchSize = Math.max(1, options.batchSize ?? 200);
    this.lingerMs = Math.max(0, options.lingerMs ?? LINGER_MS);
    this.log = options.log ?? silentLog;
    this.writer = options.writer ?? randomUUID();
    this.spill = options.spill ? this.openSpill(options.spill) : null;
    connection.acquire();
    // Registered once per client; then sent as EVALSHA (ioredis falls back to EVAL on NOSCRIPT).
    if (!(SELF_BATCHED_SCRIPTS.audit in connection.client)) connection.client.defineCommand(SELF_BATCHED_SCRIPTS.audit, { numberOfKeys: 4, lua: APPEND_SCRIPT });
    this.client = connection.client as RedisConnection['client'] & AppendCommand;
    connection.onReady(() => {
      if (this.hasPending()) this.schedule();
    });
    // Records a stopped process spilled are replayed as soon as Redis answers.
    if (this.spill?.active) this.schedule();
  }

  /** The spill directory; one that cannot be created or read leaves the store without a spill (said once). */
  private openSpill({ dir, maxBytes }: { dir: string; maxBytes: number }): AuditSpill | null {
    try {
      return new AuditSpill(dir, maxBytes, this.writer);
    } catch (err) {
      this.log.error({ store: 'redis', spill_dir: dir, err: (err as Error).message }, 'audit spill directory unusable: records beyond the queue will be dropped while redis is down');
      return null;
    }
  }

    /** Records waiting in memory to be written. */
  get pending(): number {
    return this.queue.length;
  }

  status(): AuditStatus {
    return {
      pending: this.queue.length,
      spill_bytes: this.spill?.pendingBytes ?? 0,
      spilled: this.spill?.spilled ?? 0,
      dropped: this.dropped,
      saturated: this.saturated,
    };
  }

  /** Neither the queue nor the spill can take more records: AUDIT_FAILURE decides what calls do. */
  get saturated(): boolean {
    return this.full;
  }

  append(record: AuditRecord): void {
    if (this.closed) {
      this.drop(0, 1);
      return;
    }
    this.queue.push({ w: this.writer, s: this.nextSeq++, r: record });
    if (this.queue.length > this.maxQueue) {
      if (this.spill) this.spillQueue();
      else this.drop(this.queue.length - this.maxQueue);
    }
    this.schedule();
  }

  private hasPending(): boolean {
    return this.queue.length > 0 || this.spill?.active === true;
  }

  /** Moves the whole queue, in order, to the spill file; what does not fit is dropped (and counted). */
  private spillQueue(): void {
    const spill = this.spill!;
    const written = spill.append(this.queue);
    const lost = this.queue.length - written;
    this.queue = [];
    this.full = lost > 0;
    if (lost > 0) this.drop(0, lost);
  }

  async list(query: AuditQuery): Promise<{ records: AuditRecord[]; next_cursor: string | null }> {
    const limit = pageSize(query);
    if (query.cursor !== undefined && !STREAM_ID.test(query.cursor)) {
      throw new HubError('invalid_arguments', 'cursor is not one returned by this audit log', { issues: [{ field: 'cursor', message: 'unknown cursor' }] });
    }
    // Read-your-writes for this replica: what it has queued goes out first (best effort).
    if (this.hasPending() && this.connection.isHealthy()) await this.drain().catch(() => undefined);
    const records: AuditRecord[] = [];
    const chunk = Math.min(1_000, Math.max(limit * 2, 100));
    const maxScan = (this.cap + this.refusedCap) * 2 + 1_000;
    const start = query.cursor === undefined ? '+' : `(${query.cursor}`;
    // Both streams share one id sequence (see APPEND_SCRIPT): merging by id gives one newest-first order.
    const readers = [new StreamReader(this.connection, this.key, start, chunk), new StreamReader(this.connection, this.refusedKey, start, chunk)];
    let scanned = 0;
    let last: string;
    for (;;) {
      const heads = await Promise.all(readers.map((r) => r.peek()));
      const pick = newestOf(heads);
      if (pick < 0) return { records, next_cursor: null };
      const [id, fields] = readers[pick]!.take();
      last = id;
      scanned += 1;
      const record = parseRecord(fields);
      if (record && matches(record, query)) records.push(record);
      if (records.length === limit) return { records, next_cursor: id };
      if (scanned >= maxScan) return { records, next_cursor: last };
    }
  }

  /** The stream of refused / not-executed call records. */
  private get refusedKey(): string {
    return `${this.key}:refused`;
  }

  /** Holds the last id given to a record of either stream. */
  private get lastIdKey(): string {
    return `${this.key}:last-id`;
  }

  async flush(): Promise<void> {
    await this.drain();
  }

  /**
   * Writes what is queued, within CLOSE_FLUSH_MS; if Redis cannot take it (down at shutdown), the queue goes to the
   * spill file instead, which the next process replays.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.scheduled) clearTimeout(this.scheduled);
    try {
      if (!this.connection.isHealthy()) throw new Error('redis is unavailable');
      await Promise.race([
        this.drain(),
        new Promise<void>((_, reject) => setTimeout(() => reject(new Error('flush timed out')), CLOSE_FLUSH_MS).unref()),
      ]);
    } catch (err) {
      // A write still running keeps its batch out of the queue until it settles; waited for so nothing is left out.
      await this.flushing?.catch(() => undefined);
      if (this.spill && this.queue.length > 0) {
        const queued = this.queue.length;
        this.spillQueue();
        this.log.warn({ store: 'redis', spilled: queued, spill_dir: this.spill.dir, err: (err as Error).message }, 'audit records written to the spill file at close');
      } else if (this.queue.length > 0) {
        this.log.error({ store: 'redis', lost: this.queue.length, err: (err as Error).message }, 'audit records not written at close');
      }
    }
    await this.connection.release();
  }

  /**
   * A write within lingerMs, or at once when a batch is full; while one is pending, appends just join the queue (a
   * lingering write is brought forward once when the batch fills, not rescheduled on every append after that).
   */
  private schedule(): void {
    if (this.closed) return;
    const full = this.queue.length >= this.batchSize;
    if (this.scheduled && (!full || this.scheduledAtOnce)) return;
    if (this.scheduled) clearTimeout(this.scheduled);
    this.scheduledAtOnce = full;
    // A batch holds records of many calls: its write is traced as none of them.
    this.scheduled = outsideTraces(() => setTimeout(this.write, full ? 0 : this.lingerMs));
    this.scheduled.unref();
  }

  private readonly write = (): void => {
    this.scheduled = null;
    this.drain().catch(() => this.retryLater());
  };

  private retryLater(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.hasPending()) this.schedule();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  /** One writer at a time; appends made while it runs are picked up by its loop. */
  private drain(): Promise<void> {
    this.flushing ??= this.writeQueue().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writeQueue(): Promise<void> {
    for (;;) {
      if (this.spill?.active) {
        // Catching up after an outage: records newer than the spill join it behind the older ones, so Redis receives
        // every record in the order it was made.
        if (this.queue.length > 0) this.spillQueue();
        // Appends during an outage schedule writes every few milliseconds: no file read for a write that cannot go.
        if (!this.connection.isHealthy()) throw unavailable(new Error('not connected'));
        const chunk = this.spill.read(this.batchSize);
        if (!chunk) continue; // every file written: the spill is no longer active
        if (chunk.records.length > 0) await this.send(chunk.records);
        chunk.commit();
        // Room again once half the spill is replayed (not at the first freed byte, so the state does not flap).
        if (this.full && this.spill.pendingBytes <= this.spill.maxBytes / 2) this.full = false;
        continue;
      }
      if (this.queue.length === 0) return;
      const batch = this.queue.splice(0, this.batchSize);
      try {
        await this.send(batch);
        this.full = false;
      } catch (err) {
        // Put them back in front so they are retried first; beyond the bound they go to the spill (or the oldest go).
        this.queue.unshift(...batch);
        if (this.queue.length > this.maxQueue) {
          if (this.spill) this.spillQueue();
          else this.drop(this.queue.length - this.maxQueue);
        }
        throw err;
      }
    }
  }

  /** One script call per batch: the script's own cost on the server is paid once, not once per record. */
  private async send(batch: readonly NumberedRecord[]): Promise<void> {
    const args: (string | number)[] = [this.key, this.refusedKey, this.lastIdKey, this.writersKey, this.cap, this.refusedCap];
    for (const { w, s, r } of batch) args.push(isExecutedRecord(r) ? 'e' : 'r', w, s, JSON.stringify(r));
    try {
      await this.client[SELF_BATCHED_SCRIPTS.audit](...args);
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Per writer, the highest record number the streams hold (see NumberedRecord). */
  private get writersKey(): string {
    return `${this.key}:writers`;
  }

  /** Drops `fromQueue` queued records, oldest refused first (plus `refused` never queued), counting and logging them. */
  private drop(fromQueue: number, refused = 0): void {
    // Refused-call records go first, so a flood of refusals cannot push executed calls' records out of the queue.
    for (let n = 0; n < fromQueue; n += 1) {
      const at = this.queue.findIndex((q) => !isExecutedRecord(q.r));
      this.queue.splice(Math.max(0, at), 1);
    }
    this.dropped += fromQueue + refused;
    const now = Date.now();
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.lastDropLog = now;
      this.log.warn(
        { store: 'redis', dropped_total: this.dropped, queue_bound: this.maxQueue, spill_max_bytes: this.spill?.maxBytes },
        'audit records dropped (queue and spill full while redis was unavailable, or store closed)',
      );
    }
  }
}

/**
 * Appends a batch of records, each to its stream (executed "e" or refused "r"), under ids from one sequence shared by
 * both streams (`<ms>-<seq>`, never going back), so ids order records across the two streams and one cursor pages
 * both. A record whose number is not above the highest taken from its writer (KEYS[4], a hash writer → number) is
 * skipped: it is already there (a retried batch whose reply was lost, a spill replayed twice). Each writer sends its
 * records in order, one batch at a time, so a high-water mark is an exact test.
 * KEYS: executed stream, refused stream, last-id key, writers hash. ARGV: the two caps, then kind, writer, number and
 * JSON per record.
 */
const APPEND_SCRIPT = `
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = 0
local last = redis.call('GET', KEYS[3])
if last then
  local lms, lseq = string.match(last, '^(%d+)-(%d+)$')
  if lms and tonumber(lms) >= ms then
    ms = tonumber(lms)
    seq = tonumber(lseq) + 1
  end
end
local marks = {}
local raised = {}
local id
for i = 3, #ARGV, 4 do
  local writer = ARGV[i + 1]
  local n = tonumber(ARGV[i + 2])
  local mark = marks[writer]
  if mark == nil then
    mark = tonumber(redis.call('HGET', KEYS[4], writer) or '0')
  end
  if n > mark then
    id = string.format('%d-%d', ms, seq)
    if ARGV[i] == 'e' then
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id, 'r', ARGV[i + 3])
    else
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], id, 'r', ARGV[i + 3])
    end
    seq = seq + 1
    mark = n
    raised[writer] = true
  end
  marks[writer] = mark
end
for writer in pairs(raised) do redis.call('HSET', KEYS[4], writer, marks[writer]) end
if id then redis.call('SET', KEYS[3], id) end
return id
`;

/** Reads one stream newest first, a chunk at a time, from an (exclusive) start id. */
class StreamReader {
  private buffer: [string, string[]][] = [];
  private exhausted = false;

  constructor(
    private readonly connection: RedisConnection,
    private readonly key: string,
    private start: string,
    private readonly chunk: number,
  ) {}

  async peek(): Promise<[string, string[]] | undefined> {
    if (this.buffer.length === 0 && !this.exhausted) {
      let entries: [string, string[]][];
      try {
        entries = (await this.connection.client.xrevrange(this.key, this.start, '-', 'COUNT', this.chunk)) as [string, string[]][];
      } catch (err) {
        throw unavailable(err);
      }
      this.buffer = entries;
      if (entries.length < this.chunk) this.exhausted = true;
      if (entries.length > 0) this.start = `(${entries.at(-1)![0]}`;
    }
    return this.buffer[0];
  }

  take(): [string, string[]] {
    return this.buffer.shift()!;
  }
}

/** Index of the head with the highest stream id, or -1 when every reader is done. */
function newestOf(heads: ([string, string[]] | undefined)[]): number {
  let best = -1;
  for (let i = 0; i < heads.length; i += 1) {
    const head = heads[i];
    if (head && (best < 0 || compareIds(head[0], heads[best]![0]) > 0)) best = i;
  }
  return best;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am > bm ? 1 : -1;
}

function unavailable(err: unknown): HubError {
  const message = err instanceof Error ? err.message : String(err);
  return new HubError('governance_unavailable', `audit store (redis) unavailable: ${message}`, { store: 'redis' });
}

function parseRecord(fields: string[]): AuditRecord | null {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'r') continue;
    try {
      return JSON.parse(fields[i + 1]) as AuditRecord;
    } catch {
      return null;
    }
  }
  return null;
}
