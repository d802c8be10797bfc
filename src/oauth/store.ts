import { mkdirSync, readFileSync } from 'node:fs';
import { appendFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoreLog } from '../log.js';
import type { RedisConnection } from '../redis/connection.js';

/**
 * The small key/value surface the authorization server needs: clients, consent transactions, codes, tokens and token
 * families, each a JSON string under a key, most with a time to live. `take` is an atomic read-and-delete: a code or
 * a refresh token is accepted once, even when two instances race for it.
 */
export interface OAuthStore {
  readonly kind: 'redis' | 'file';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlS?: number): Promise<void>;
  /** Sets the key only when it is absent; true when this call set it (a single-use marker, e.g. an assertion's jti). */
  add(key: string, value: string, ttlS: number): Promise<boolean>;
  take(key: string): Promise<string | null>;
  del(keys: string[]): Promise<void>;
  setAdd(set: string, member: string): Promise<void>;
  setRemove(set: string, member: string): Promise<void>;
  setMembers(set: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Shared by every instance through Redis; keys live under one prefix so tests and operators can find them. */
export class RedisOAuthStore implements OAuthStore {
  readonly kind = 'redis' as const;

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix = 'omni-hub:oauth:',
  ) {}

  private get r() {
    return this.connection.client;
  }

  async get(key: string) {
    return this.r.get(this.prefix + key);
  }
  async set(key: string, value: string, ttlS?: number) {
    if (ttlS) await this.r.set(this.prefix + key, value, 'EX', Math.max(1, Math.ceil(ttlS)));
    else await this.r.set(this.prefix + key, value);
  }
  async add(key: string, value: string, ttlS: number) {
    return (await this.r.set(this.prefix + key, value, 'EX', Math.max(1, Math.ceil(ttlS)), 'NX')) === 'OK';
  }
  async take(key: string) {
    return this.r.getdel(this.prefix + key);
  }
  async del(keys: string[]) {
    if (keys.length) await this.r.del(...keys.map((k) => this.prefix + k));
  }
  async setAdd(set: string, member: string) {
    await this.r.sadd(this.prefix + set, member);
  }
  async setRemove(set: string, member: string) {
    await this.r.srem(this.prefix + set, member);
  }
  async setMembers(set: string) {
    return this.r.smembers(this.prefix + set);
  }
  async close() {
    await this.connection.release();
  }
}

interface Entry {
  v: string;
  exp?: number;
}

interface FileState {
  entries: Record<string, Entry>;
  sets: Record<string, string[]>;
}

/** One change, as a line of the append-only log. */
type Change = { s: [string, string, number?] } | { d: string[] } | { a: [string, string] } | { r: [string, string] };

/**
 * Entries living at most this long (consent transactions, codes, sign-ins, assertion ids, the refresh grace answer)
 * stay in memory only: losing them in a restart costs a client one new authorization, and writing them would let
 * anyone who can send `GET /authorize` grow the file.
 */
const MEMORY_ONLY_MAX_TTL_S = 600;
/** Memory-only entries per key prefix; past it the oldest of that prefix goes first. */
const MEMORY_ONLY_MAX_PER_PREFIX = 5_000;
const SWEEP_INTERVAL_MS = 30_000;
/** The log is folded into the snapshot once it has this many lines and more lines than twice the live entries. */
const COMPACT_MIN_LINES = 1_000;

/**
 * One process, no Redis: state in memory. Long-lived entries (clients, refresh tokens, grants) are written through to
 * `DATA_DIR/oauth/`: each change appends one line to `state.log`, and the log is folded into `state.json` (owner-only,
 * replaced atomically by rename) when it has grown past the live state, so a change never rewrites the whole file.
 * Expired entries are removed by a timer, not only when read.
 */
export class FileOAuthStore implements OAuthStore {
  readonly kind = 'file' as const;
  private readonly entries = new Map<string, Entry>();
  /** Short-lived entries by key prefix, each map in insertion order (oldest first). */
  private readonly memory = new Map<string, Map<string, Entry>>();
  private readonly sets = new Map<string, Set<string>>();
  private readonly file: string;
  private readonly logFile: string;
  private writing: Promise<void> = Promise.resolve();
  private pending: Change[] = [];
  private logLines = 0;
  private readonly sweeper: NodeJS.Timeout;

  /** `subdir` names the directory under DATA_DIR (the upstream credential vault keeps its own, `vault`). */
  constructor(dataDir: string, private readonly log?: StoreLog, subdir = 'oauth') {
    const dir = path.join(dataDir, subdir);
    this.file = path.join(dir, 'state.json');
    this.logFile = path.join(dir, 'state.log');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      // A read-only DATA_DIR must not stop the hub: OAuth then works until the next restart, and says so.
      this.log?.error({ err: (err as Error).message, dir }, 'oauth state directory cannot be created; clients and tokens will not survive a restart');
    }
    this.load();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  private load(): void {
    const read = (file: string): string | null => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return null; // first start
      }
    };
    const snapshot = read(this.file);
    if (snapshot !== null) {
      try {
        const state = JSON.parse(snapshot) as FileState;
        for (const [k, e] of Object.entries(state.entries ?? {})) this.entries.set(k, e);
        for (const [k, members] of Object.entries(state.sets ?? {})) this.sets.set(k, new Set(members));
      } catch {
        this.log?.warn({ file: this.file }, 'oauth state file is unreadable; starting empty');
      }
    }
    const lines = read(this.logFile)?.split('\n') ?? [];
    for (const line of lines) {
      if (!line) continue;
      try {
        this.apply(JSON.parse(line) as Change);
        this.logLines++;
      } catch {
        // A line cut short by a crash is the last one; what it described is lost, the rest stands.
      }
    }
    this.sweep();
  }

  private apply(c: Change): void {
    if ('s' in c) this.entries.set(c.s[0], c.s[2] ? { v: c.s[1], exp: c.s[2] } : { v: c.s[1] });
    else if ('d' in c) for (const k of c.d) this.entries.delete(k);
    else if ('a' in c) this.setOf(c.a[0]).add(c.a[1]);
    else this.sets.get(c.r[0])?.delete(c.r[1]);
  }

  private setOf(name: string): Set<string> {
    let s = this.sets.get(name);
    if (!s) this.sets.set(name, (s = new Set()));
    return s;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, e] of this.entries) if (e.exp && e.exp <= now) this.entries.delete(k);
    for (const [prefix, m] of this.memory) {
      for (const [k, e] of m) if (e.exp && e.exp <= now) m.delete(k);
      if (!m.size) this.memory.delete(prefix);
    }
  }

  /** Live entries held in memory, both kinds (for tests and diagnostics). */
  get size(): number {
    let n = this.entries.size;
    for (const m of this.memory.values()) n += m.size;
    return n;
  }

  private memoryMap(key: string): Map<string, Entry> {
    const prefix = key.slice(0, key.indexOf(':') + 1);
    let m = this.memory.get(prefix);
    if (!m) this.memory.set(prefix, (m = new Map()));
    return m;
  }

  private find(key: string): { e: Entry; persisted: boolean } | undefined {
    const persisted = this.entries.get(key);
    const e = persisted ?? this.memoryMap(key).get(key);
    if (!e) return undefined;
    if (e.exp && e.exp <= Date.now()) {
      this.entries.delete(key);
      this.memoryMap(key).delete(key);
      return undefined;
    }
    return { e, persisted: persisted !== undefined };
  }

  /** Changes are appended in order, one write at a time; a burst of changes costs one append after the current one. */
  private persist(change: Change): Promise<void> {
    this.pending.push(change);
    if (this.pending.length > 1) return this.writing;
    this.writing = this.writing.then(async () => {
      const batch = this.pending;
      this.pending = [];
      try {
        await appendFile(this.logFile, batch.map((c) => `${JSON.stringify(c)}\n`).join(''), { mode: 0o600 });
        this.logLines += batch.length;
        if (this.logLines >= COMPACT_MIN_LINES && this.logLines > 2 * (this.entries.size + this.sets.size)) await this.compact();
      } catch (err) {
        this.log?.error({ err: (err as Error).message, file: this.logFile }, 'oauth state write failed');
      }
    });
    return this.writing;
  }

  /** Folds the log into a new snapshot; replaying the old log over the new snapshot (a crash in between) is harmless. */
  private async compact(): Promise<void> {
    const now = Date.now();
    const state: FileState = { entries: {}, sets: {} };
    for (const [k, e] of this.entries) if (!e.exp || e.exp > now) state.entries[k] = e;
    for (const [k, s] of this.sets) if (s.size) state.sets[k] = [...s];
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
    await rename(tmp, this.file);
    await writeFile(this.logFile, '', { mode: 0o600 });
    this.logLines = 0;
  }

  async get(key: string) {
    return this.find(key)?.e.v ?? null;
  }
  async set(key: string, value: string, ttlS?: number) {
    const entry: Entry = ttlS ? { v: value, exp: Date.now() + ttlS * 1000 } : { v: value };
    if (ttlS && ttlS <= MEMORY_ONLY_MAX_TTL_S) {
      if (this.entries.delete(key)) await this.persist({ d: [key] });
      const m = this.memoryMap(key);
      m.delete(key);
      m.set(key, entry);
      if (m.size > MEMORY_ONLY_MAX_PER_PREFIX) m.delete(m.keys().next().value!);
      return;
    }
    this.memoryMap(key).delete(key);
    this.entries.set(key, entry);
    await this.persist({ s: entry.exp ? [key, value, entry.exp] : [key, value] });
  }
  async add(key: string, value: string, ttlS: number) {
    if (this.find(key)) return false;
    await this.set(key, value, ttlS);
    return true;
  }
  async take(key: string) {
    const found = this.find(key);
    if (!found) return null;
    if (found.persisted) {
      this.entries.delete(key);
      await this.persist({ d: [key] });
    } else this.memoryMap(key).delete(key);
    return found.e.v;
  }
  async del(keys: string[]) {
    const persisted = keys.filter((k) => this.entries.delete(k));
    for (const k of keys) this.memoryMap(k).delete(k);
    if (persisted.length) await this.persist({ d: persisted });
  }
  async setAdd(set: string, member: string) {
    const s = this.setOf(set);
    if (s.has(member)) return;
    s.add(member);
    await this.persist({ a: [set, member] });
  }
  async setRemove(set: string, member: string) {
    if (!this.sets.get(set)?.delete(member)) return;
    await this.persist({ r: [set, member] });
  }
  async setMembers(set: string) {
    return [...(this.sets.get(set) ?? [])];
  }
  async close() {
    clearInterval(this.sweeper);
    await this.writing;
  }
}
