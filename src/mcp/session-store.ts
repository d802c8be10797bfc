import type { ClientCapabilities, Implementation, LoggingLevel } from '@modelcontextprotocol/server';

/**
 * What any hub process needs to serve a stateful MCP session it did not open: who owns it and what was negotiated.
 * Transports and open streams are not here: they belong to the process holding the connection.
 */
export interface SessionRecord {
  id: string;
  /** `streamable` sessions can be served anywhere; `sse` sessions only by the instance holding their stream. */
  kind: 'streamable' | 'sse';
  /** The key id (or OAuth principal) that opened it: nobody else can use it. */
  principal: string;
  /** The process that opened it (the one an SSE session's stream is held by). */
  instance: string;
  protocolVersion?: string;
  clientCapabilities?: ClientCapabilities;
  clientInfo?: Implementation;
  logLevel?: LoggingLevel;
  createdAt: number;
}

/**
 * Where session records live: process memory without Redis (today's per-process sessions), Redis with it (any
 * instance serves any session). Idle expiry is the store's: a record not read for `idleMs` is gone everywhere.
 */
export interface McpSessionStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Saves a new session. When its principal already holds `maxPerPrincipal` sessions, the least recently used ones are
   * ended first (and reported through `onEnded`), so one principal can never crowd others out.
   */
  create(record: SessionRecord, maxPerPrincipal: number): Promise<void>;
  /** The live record (refreshing its idle expiry), or undefined when unknown, expired or ended. */
  get(id: string): Promise<SessionRecord | undefined>;
  /** Changes negotiated state later in the session (the log level). */
  update(id: string, patch: Pick<SessionRecord, 'logLevel'>): Promise<void>;
  /** Ends a session everywhere (DELETE /mcp). */
  delete(id: string): Promise<void>;
  /** Called for sessions ended by delete() or eviction, on this instance or (Redis) any other. */
  onEnded(listener: (id: string) => void): void;
  /** Drops expired records (memory) or stale cache entries (Redis). */
  sweep(): void;
  close(): Promise<void>;
}

/** One process's sessions (no REDIS_URL): a Map, with the same idle expiry and per-principal LRU eviction as Redis. */
export class MemorySessionStore implements McpSessionStore {
  readonly kind = 'memory';
  private readonly records = new Map<string, { record: SessionRecord; lastSeen: number }>();
  private readonly byPrincipal = new Map<string, Set<string>>();
  private readonly listeners = new Set<(id: string) => void>();

  constructor(private readonly idleMs: number) {}

  async create(record: SessionRecord, maxPerPrincipal: number): Promise<void> {
    const own = this.byPrincipal.get(record.principal) ?? new Set<string>();
    this.byPrincipal.set(record.principal, own);
    const now = Date.now();
    for (const id of own) if (!this.live(id, now)) this.end(id);
    if (own.size >= maxPerPrincipal) {
      const oldestFirst = [...own].sort((a, b) => this.records.get(a)!.lastSeen - this.records.get(b)!.lastSeen);
      for (const id of oldestFirst.slice(0, own.size - maxPerPrincipal + 1)) this.end(id);
    }
    this.records.set(record.id, { record, lastSeen: now });
    own.add(record.id);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const now = Date.now();
    const entry = this.live(id, now);
    if (!entry) return undefined;
    entry.lastSeen = now;
    return entry.record;
  }

  async update(id: string, patch: Pick<SessionRecord, 'logLevel'>): Promise<void> {
    const entry = this.records.get(id);
    if (entry) entry.record = { ...entry.record, ...patch };
  }

  async delete(id: string): Promise<void> {
    this.end(id);
  }

  onEnded(listener: (id: string) => void): void {
    this.listeners.add(listener);
  }

  sweep(): void {
    const now = Date.now();
    for (const id of this.records.keys()) if (!this.live(id, now)) this.end(id);
  }

  async close(): Promise<void> {
    this.records.clear();
    this.byPrincipal.clear();
  }

  private live(id: string, now: number) {
    const entry = this.records.get(id);
    if (!entry) return undefined;
    if (now - entry.lastSeen > this.idleMs) {
      this.end(id);
      return undefined;
    }
    return entry;
  }

  private end(id: string): void {
    const entry = this.records.get(id);
    if (!entry) return;
    this.records.delete(id);
    const own = this.byPrincipal.get(entry.record.principal);
    own?.delete(id);
    if (own?.size === 0) this.byPrincipal.delete(entry.record.principal);
    for (const listener of this.listeners) listener(id);
  }
}
