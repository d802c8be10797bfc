import { createHash, randomBytes } from 'node:crypto';
import type { Level } from './levels.js';

/**
 * Approvals by a person of one gated call (a deploy, delete or remove): the hub creates one when such a call arrives
 * without a valid approval id, a person answers it on the approval page (or, later, through MCP elicitation), and the
 * same call with the approved id runs once. An approval is bound to the caller, the tool and a hash of the call's
 * canonical arguments, expires, and is consumed atomically, so a replay or a changed call never runs on it.
 */

export type ApprovalState = 'pending' | 'approved' | 'denied';
/** How the person answered: on the hub's approval page, or in the MCP client through elicitation. */
export type ApprovalChannel = 'page' | 'elicitation';

export interface ApprovalBinding {
  principal: string;
  tool: string;
  /** SHA-256 (hex) of the canonical arguments (canonicalArgsHash). */
  args_hash: string;
}

export interface ApprovalDecision {
  state: 'approved' | 'denied';
  /** Who answered: the hub key's id (`key:…`) or the e-mail address of an OpenID Connect sign-in. */
  by: string;
  via: ApprovalChannel;
  /** Epoch ms. */
  at: number;
}

export interface ApprovalRecord extends ApprovalBinding {
  id: string;
  level: Level;
  transport: 'mcp' | 'rest';
  /** The tool's description of what the call will do (describeAction). */
  action: string;
  /** The call's arguments, redacted as the audit log stores them: what the page shows. */
  args: unknown;
  created_at: number;
  expires_at: number;
  state: ApprovalState;
  decision?: ApprovalDecision;
}

/** What consuming an approval id for a call found; only `used` removes the approval (atomically, once). */
export type ConsumeResult =
  | { status: 'missing' }
  | { status: 'mismatch'; record: ApprovalRecord }
  | { status: 'expired'; record: ApprovalRecord }
  | { status: 'pending'; record: ApprovalRecord }
  | { status: 'used'; record: ApprovalRecord };

export interface ApprovalStore {
  readonly kind: 'memory' | 'redis';
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | null>;
  /** Answers a pending, unexpired approval; null when it is unknown, expired or already answered. */
  decide(id: string, decision: ApprovalDecision): Promise<ApprovalRecord | null>;
  /** Looks the id up for a call with this binding; an answered approval with the same binding is removed and returned once. */
  consume(id: string, binding: ApprovalBinding, now?: number): Promise<ConsumeResult>;
  /**
   * The open approval (pending, or approved and not yet used) of this exact call, if one has not expired: a call made
   * again before the person answered gets the same approval instead of a second one.
   */
  findOpen(binding: ApprovalBinding, now?: number): Promise<ApprovalRecord | null>;
  /** Pending approvals that have not expired, oldest first. */
  pending(now?: number): Promise<ApprovalRecord[]>;
  /** Removes and returns the approvals that expired unused; each is returned to exactly one caller (any instance). */
  takeExpired(now?: number): Promise<ApprovalRecord[]>;
  /** A short-lived value for a sign-in in progress (OpenID Connect state); `unstash` reads and deletes it once. */
  stash(key: string, value: string, ttlMs: number): Promise<void>;
  unstash(key: string): Promise<string | null>;
  close(): Promise<void>;
}

/** Arguments that steer the gate itself and so are no part of what is approved. */
const GATE_FIELDS: ReadonlySet<string> = new Set(['confirm', 'dry_run', 'approval_id']);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = canonical((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * SHA-256 (hex) of the canonical form of a call's validated arguments: object keys sorted at every depth, the gate's
 * own fields (`confirm`, `dry_run`, `approval_id`) left out at the top, serialised as JSON. Two calls that differ in
 * any other argument value hash differently; key order does not matter.
 */
export function canonicalArgsHash(args: Record<string, unknown>): string {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (!GATE_FIELDS.has(k) && v !== undefined) kept[k] = v;
  return createHash('sha256').update(JSON.stringify(canonical(kept))).digest('hex');
}

/** One string per binding, for the lookup of an open approval by call. */
export const bindingKey = (b: ApprovalBinding) => createHash('sha256').update(`${b.principal}\n${b.tool}\n${b.args_hash}`).digest('hex');

/** An unguessable approval id (it names the approval page; approving still needs an operator's sign-in). */
export const newApprovalId = () => `apr_${randomBytes(18).toString('base64url')}`;

/** Approval ids as newApprovalId makes them: anything else is refused before any store lookup. */
export const APPROVAL_ID = /^apr_[A-Za-z0-9_-]{24}$/;

const MAX_MEMORY_APPROVALS = 10_000;

/** This process's approvals (the default without REDIS_URL). Every method runs in one turn, so each is atomic. */
export class MemoryApprovalStore implements ApprovalStore {
  readonly kind = 'memory' as const;
  private readonly records = new Map<string, ApprovalRecord>();
  /** bindingKey → id of the newest approval of that call. */
  private readonly byBinding = new Map<string, string>();
  private readonly stashed = new Map<string, { value: string; expiresAt: number }>();

  create(record: ApprovalRecord): Promise<void> {
    if (this.records.size >= MAX_MEMORY_APPROVALS) throw new Error(`more than ${MAX_MEMORY_APPROVALS} approvals are open`);
    this.records.set(record.id, structuredClone(record));
    this.byBinding.set(bindingKey(record), record.id);
    return Promise.resolve();
  }

  get(id: string): Promise<ApprovalRecord | null> {
    const r = this.records.get(id);
    return Promise.resolve(r ? structuredClone(r) : null);
  }

  decide(id: string, decision: ApprovalDecision): Promise<ApprovalRecord | null> {
    const r = this.records.get(id);
    if (!r || r.state !== 'pending' || r.expires_at <= decision.at) return Promise.resolve(null);
    r.state = decision.state;
    r.decision = { ...decision };
    return Promise.resolve(structuredClone(r));
  }

  consume(id: string, binding: ApprovalBinding, now = Date.now()): Promise<ConsumeResult> {
    const r = this.records.get(id);
    if (!r) return Promise.resolve({ status: 'missing' });
    const record = structuredClone(r);
    if (r.principal !== binding.principal || r.tool !== binding.tool || r.args_hash !== binding.args_hash) return Promise.resolve({ status: 'mismatch', record });
    if (r.expires_at <= now) return Promise.resolve({ status: 'expired', record });
    if (r.state === 'pending') return Promise.resolve({ status: 'pending', record });
    this.forget(r);
    return Promise.resolve({ status: 'used', record });
  }

  findOpen(binding: ApprovalBinding, now = Date.now()): Promise<ApprovalRecord | null> {
    const id = this.byBinding.get(bindingKey(binding));
    const r = id === undefined ? undefined : this.records.get(id);
    return Promise.resolve(r && r.state !== 'denied' && r.expires_at > now ? structuredClone(r) : null);
  }

  private forget(r: ApprovalRecord): void {
    this.records.delete(r.id);
    const key = bindingKey(r);
    if (this.byBinding.get(key) === r.id) this.byBinding.delete(key);
  }

  pending(now = Date.now()): Promise<ApprovalRecord[]> {
    const list = [...this.records.values()].filter((r) => r.state === 'pending' && r.expires_at > now);
    return Promise.resolve(list.sort((a, b) => a.created_at - b.created_at).map((r) => structuredClone(r)));
  }

  takeExpired(now = Date.now()): Promise<ApprovalRecord[]> {
    const out: ApprovalRecord[] = [];
    for (const r of this.records.values()) {
      if (r.expires_at > now) continue;
      this.forget(r);
      out.push(r);
    }
    for (const [k, s] of this.stashed) if (s.expiresAt <= now) this.stashed.delete(k);
    return Promise.resolve(out);
  }

  stash(key: string, value: string, ttlMs: number): Promise<void> {
    this.stashed.set(key, { value, expiresAt: Date.now() + ttlMs });
    return Promise.resolve();
  }

  unstash(key: string): Promise<string | null> {
    const s = this.stashed.get(key);
    this.stashed.delete(key);
    return Promise.resolve(s && s.expiresAt > Date.now() ? s.value : null);
  }

  close(): Promise<void> {
    this.records.clear();
    this.byBinding.clear();
    this.stashed.clear();
    return Promise.resolve();
  }
}
