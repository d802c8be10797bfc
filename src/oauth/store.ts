import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GovernanceLog } from '../governance/log.js';
import type { RedisConnection } from '../governance/redis-connection.js';

/**
 * The small key/value surface the authorization server needs: clients, consent transactions, codes, tokens and token
 * families, each a JSON string under a key, most with a time to live. `take` is an atomic read-and-delete: a code or
 * a refresh token is accepted once, even when two instances race for it.
 */
export interface OAuthStore {
  readonly kind: 'redis' | 'file';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlS?: number): Promise<void>;
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

interface FileState {
  entries: Record<string, { v: string; exp?: number }>;
  sets: Record<string, string[]>;
}

/**
 * One process, no Redis: state in memory, written through to `DATA_DIR/oauth/state.json` (owner-only, replaced
 * atomically by rename) after every change, so registered clients and live tokens survive a restart.
 */
export class FileOAuthStore implements OAuthStore {
  readonly kind = 'file' as const;
  private readonly entries = new Map<string, { v: string; exp?: number }>();
  private readonly sets = new Map<string, Set<string>>();
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(dataDir: string, private readonly log?: GovernanceLog) {
    const dir = path.join(dataDir, 'oauth');
    this.file = path.join(dir, 'state.json');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      // A read-only DATA_DIR must not stop the hub: OAuth then works until the next restart, and says so.
      this.log?.error({ err: (err as Error).message, dir }, 'oauth state directory cannot be created; clients and tokens will not survive a restart');
    }
    let text: string | null = null;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      text = null; // first start
    }
    if (text !== null) {
      try {
        const state = JSON.parse(text) as FileState;
        const now = Date.now();
        for (const [k, e] of Object.entries(state.entries ?? {})) if (!e.exp || e.exp > now) this.entries.set(k, e);
        for (const [k, members] of Object.entries(state.sets ?? {})) this.sets.set(k, new Set(members));
      } catch {
        this.log?.warn({ file: this.file }, 'oauth state file is unreadable; starting empty');
      }
    }
  }

  private live(key: string): { v: string; exp?: number } | undefined {
    const e = this.entries.get(key);
    if (e?.exp && e.exp <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Writes are chained: one at a time, and a burst of changes costs one write after the current one. */
  private persist(): Promise<void> {
    if (this.dirty) return this.writing;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      const now = Date.now();
      const state: FileState = { entries: {}, sets: {} };
      for (const [k, e] of this.entries) if (!e.exp || e.exp > now) state.entries[k] = e;
      for (const [k, s] of this.sets) if (s.size) state.sets[k] = [...s];
      const tmp = `${this.file}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
        await rename(tmp, this.file);
      } catch (err) {
        this.log?.error({ err: (err as Error).message, file: this.file }, 'oauth state write failed');
      }
    });
    return this.writing;
  }

  async get(key: string) {
    return this.live(key)?.v ?? null;
  }
  async set(key: string, value: string, ttlS?: number) {
    this.entries.set(key, ttlS ? { v: value, exp: Date.now() + ttlS * 1000 } : { v: value });
    await this.persist();
  }
  async take(key: string) {
    const e = this.live(key);
    if (!e) return null;
    this.entries.delete(key);
    await this.persist();
    return e.v;
  }
  async del(keys: string[]) {
    for (const k of keys) this.entries.delete(k);
    await this.persist();
  }
  async setAdd(set: string, member: string) {
    let s = this.sets.get(set);
    if (!s) this.sets.set(set, (s = new Set()));
    s.add(member);
    await this.persist();
  }
  async setRemove(set: string, member: string) {
    this.sets.get(set)?.delete(member);
    await this.persist();
  }
  async setMembers(set: string) {
    return [...(this.sets.get(set) ?? [])];
  }
  async close() {
    await this.writing;
  }
}
