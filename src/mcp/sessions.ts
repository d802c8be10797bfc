import { randomUUID } from 'node:crypto';
import type { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';
import type { Config } from '../config.js';
import { silentLog, type StoreLog } from '../log.js';
import type { McpEventStore } from './event-store.js';
import { loadSdk } from './sdk.js';
import type { McpSurface } from './server.js';
import { adoptSession, restoreClientState } from './session-restore.js';
import type { McpSessionStore, SessionRecord } from './session-store.js';

/** The `retry:` a resumable SSE stream announces: how long a client waits before reconnecting (ms). */
const SSE_RETRY_MS = 1_000;
/** An unreachable store is logged at most this often, not once per request. */
const WARN_INTERVAL_MS = 30_000;

/**
 * A session's live SDK objects in this process (with Redis, a cache that any process can rebuild for a streamable
 * session). `degraded`: opened while the session store was unreachable, so only this process knows it.
 */
type LocalSession = (
  | { kind: 'streamable'; transport: NodeStreamableHTTPServerTransport }
  | { kind: 'sse'; transport: SSEServerTransport }
) & { record: SessionRecord; lastSeen: number; degraded?: true };

export type Lookup = SessionRecord | 'unknown' | 'unavailable';

export interface SessionManagerOptions {
  store: McpSessionStore;
  events: McpEventStore;
  surface: McpSurface;
  limits: Config['sessions'];
  log?: StoreLog;
  /** Counts sessions opened while the session store was unreachable (served by this process alone). */
  onDegraded?: (kind: SessionRecord['kind']) => void;
}

/**
 * Stateful MCP sessions: records in the session store (memory, or Redis so any instance serves any session), live
 * transports in `local`. A streamable session missing here is rebuilt from its record; an SSE session cannot be (its
 * stream is a connection to the instance that opened it).
 */
export class SessionManager {
  /** Names this process in SSE records, so another instance can say who holds the stream. */
  readonly instance = randomUUID();
  private readonly local = new Map<string, LocalSession>();
  private readonly rebuilding = new Map<string, Promise<NodeStreamableHTTPServerTransport>>();
  private readonly store: McpSessionStore;
  private readonly log: StoreLog;
  private lastWarning = 0;

  constructor(private readonly opts: SessionManagerOptions) {
    this.store = opts.store;
    this.log = opts.log ?? silentLog;
    // Ended everywhere (DELETE, eviction): its transport here goes, and so do its stored events.
    this.store.onEnded((id) => {
      this.dropLocal(id);
      opts.events.endSession(id);
    });
  }

  get localCount(): number {
    return this.local.size;
  }

  /**
   * The session's record when `principal` opened it; another principal gets 'unknown', exactly like an unknown id.
   * With the store unreachable, a session this process holds keeps working (its expiry waits for the store).
   */
  async find(id: string, principal: string): Promise<Lookup> {
    const held = this.local.get(id);
    // A session opened during an outage was never stored: this process alone answers for it, until it goes idle.
    if (held?.degraded) return held.record.principal === principal ? this.touch(id, held).record : 'unknown';
    let record: SessionRecord | undefined;
    try {
      record = await this.store.get(id);
    } catch (err) {
      if (held && held.record.principal === principal) return this.touch(id, held).record;
      this.warnUnavailable(err, 'MCP session store unavailable');
      return 'unavailable';
    }
    if (!record) {
      if (held) this.dropLocal(id);
      return 'unknown';
    }
    if (record.principal !== principal) return 'unknown';
    if (held) this.touch(id, held);
    return record;
  }

  /** This process's SSE transport for the session, if it holds it. */
  sseTransport(id: string): SSEServerTransport | undefined {
    const held = this.local.get(id);
    return held?.kind === 'sse' ? held.transport : undefined;
  }

  /** The streamable transport for a found session: this process's, or one rebuilt from the record. Null when full. */
  async transportFor(record: SessionRecord): Promise<NodeStreamableHTTPServerTransport | null> {
    const held = this.local.get(record.id);
    if (held?.kind === 'streamable') return held.transport;
    // Concurrent first requests of a session on this process share one rebuild.
    const pending = this.rebuilding.get(record.id);
    if (pending) return pending;
    if (!this.makeRoom()) return null;
    const built = this.attach(record, true).finally(() => this.rebuilding.delete(record.id));
    this.rebuilding.set(record.id, built);
    return built;
  }

  /**
   * Opens a streamable session for an `initialize` request: the record is saved (evicting the principal's least
   * recently used sessions beyond its cap) before the SDK answers, so the client's next request can land anywhere.
   * With the store unreachable the session is opened anyway, degraded: served by this process alone (logged and
   * counted), so an outage of the session store never locks new clients out. Null when this process is full.
   */
  async openStreamable(principal: string, initialize: unknown): Promise<{ transport: NodeStreamableHTTPServerTransport; record: SessionRecord } | null> {
    const { specTypeSchemas, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } = (await loadSdk()).server;
    const parsed = specTypeSchemas.InitializeRequest['~standard'].validate(initialize);
    const record: SessionRecord = {
      id: randomUUID(),
      kind: 'streamable',
      principal,
      instance: this.instance,
      createdAt: Date.now(),
    };
    let degraded = false;
    if (!('then' in parsed) && parsed.issues === undefined) {
      const { protocolVersion, capabilities, clientInfo } = parsed.value.params;
      // The version Server._oninitialize negotiates: the client's when supported, else the latest.
      record.protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion) ? protocolVersion : LATEST_PROTOCOL_VERSION;
      record.clientCapabilities = capabilities;
      record.clientInfo = clientInfo;
      // First the principal's own cap (its oldest sessions end, here at once), then the process's.
      degraded = !(await this.stored(record));
    }
    if (!this.makeRoom()) {
      if (!degraded) await this.store.delete(record.id).catch(() => undefined);
      return null;
    }
    return { transport: await this.attach(record, false, degraded), record };
  }

  /** Saves a new session's record; false (logged and counted) when the store is unreachable. */
  private async stored(record: SessionRecord): Promise<boolean> {
    try {
      await this.store.create(record, this.opts.limits.maxPerPrincipal);
      return true;
    } catch (err) {
      this.opts.onDegraded?.(record.kind);
      this.warnUnavailable(err, 'MCP session opened degraded: the session store is unavailable, only this instance serves it');
      return false;
    }
  }

  private warnUnavailable(err: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_INTERVAL_MS) return;
    this.lastWarning = now;
    this.log.warn({ store: this.store.kind, err: err instanceof Error ? err.message : String(err) }, message);
  }

  /** The SDK refused the initialize (bad headers...): the record saved for it goes. */
  async abandon(record: SessionRecord, transport: NodeStreamableHTTPServerTransport): Promise<void> {
    if (transport.sessionId !== undefined) return;
    void transport.close();
    await this.store.delete(record.id).catch(() => undefined);
  }

  /** Registers a legacy SSE session (degraded when the store is unreachable); false when this process is full. */
  async openSse(principal: string, transport: SSEServerTransport): Promise<boolean> {
    const record: SessionRecord = { id: transport.sessionId, kind: 'sse', principal, instance: this.instance, createdAt: Date.now() };
    const degraded = !(await this.stored(record));
    if (!this.makeRoom()) {
      if (!degraded) await this.store.delete(record.id).catch(() => undefined);
      return false;
    }
    this.local.set(record.id, { kind: 'sse', transport, record, lastSeen: Date.now(), ...(degraded ? { degraded: true as const } : {}) });
    transport.onclose = () => {
      this.local.delete(record.id);
      // Its stream is gone and cannot be resumed: the session ends everywhere.
      void this.store.delete(record.id).catch(() => undefined);
    };
    return true;
  }

  /** Persists a log level the client set (restored when another process rebuilds the session). */
  async setLogLevel(id: string, level: SessionRecord['logLevel']): Promise<void> {
    await this.store.update(id, { logLevel: level }).catch(() => undefined);
  }

  /** Closes this process's transports idle for longer than the idle time (the store expires their records). */
  sweep(): void {
    this.store.sweep();
    const cutoff = Date.now() - this.opts.limits.idleMs;
    for (const [id, s] of this.local) if (s.lastSeen < cutoff) this.dropLocal(id);
  }

  /** Shutdown: closes this process's transports. Streamable records stay for the other instances. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.local.values()].map((s) => s.transport.close()));
  }

  private touch(id: string, held: LocalSession): LocalSession {
    held.lastSeen = Date.now();
    // Map order is the local LRU order: the most recently used session goes last.
    this.local.delete(id);
    this.local.set(id, held);
    return held;
  }

  /**
   * Room for one more local transport. Over the per-process cap, a Redis-backed hub closes its least recently used
   * streamable transport (the session itself lives on in Redis and is rebuilt on its next request); an embedded hub
   * refuses, since its sessions exist only here.
   */
  private makeRoom(): boolean {
    if (this.local.size < this.opts.limits.maxPerProcess) return true;
    if (this.store.kind !== 'redis') return false;
    for (const [id, s] of this.local) {
      // A degraded session exists only here: closing it would end it.
      if (s.kind !== 'streamable' || s.degraded) continue;
      this.local.delete(id);
      void s.transport.close();
      return true;
    }
    return false;
  }

  private dropLocal(id: string): void {
    const held = this.local.get(id);
    if (!held) return;
    this.local.delete(id);
    void held.transport.close();
  }

  private async attach(record: SessionRecord, restored: boolean, degraded = false): Promise<NodeStreamableHTTPServerTransport> {
    const sdk = await loadSdk();
    const server = await this.opts.surface.createServer(true);
    const { events, store } = this.opts;
    const transport: NodeStreamableHTTPServerTransport = new sdk.node.NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => record.id,
      eventStore: events.forSession(record.id),
      retryInterval: SSE_RETRY_MS,
      // DELETE /mcp: the session ends everywhere. Redis unreachable: it ends here and expires there when idle.
      onsessionclosed: async (sid) => {
        await store.delete(sid).catch((err: unknown) => this.log.warn({ err: String(err) }, 'MCP session store unavailable at DELETE'));
      },
    });
    // The SDK's Protocol wraps this handler and cleans the server up itself; calling server.close() from here would
    // re-enter transport.close() → onclose without end.
    transport.onclose = () => {
      if (this.local.get(record.id)?.transport === transport) this.local.delete(record.id);
      // Without Redis a transport closing here is the session's end. With Redis it may only be this process letting go
      // (idle here, LRU, shutdown): another process may still serve and resume the session, so its events stay (unless
      // it was opened degraded: then no other process knows it).
      if (store.kind === 'memory' || degraded) events.endSession(record.id);
    };
    if (restored) adoptSession(transport, record.id);
    await server.connect(transport);
    if (restored) restoreClientState(server, record);
    this.local.set(record.id, { kind: 'streamable', transport, record, lastSeen: Date.now(), ...(degraded ? { degraded: true as const } : {}) });
    return transport;
  }
}
