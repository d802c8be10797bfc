import type { Level } from './levels.js';
import type { SystemId } from '../adapters/names.js';

export type AuditOutcome =
  | 'ok'
  | 'error'
  | 'invalid'
  | 'denied_disabled'
  | 'not_configured'
  | 'denied_confirmation'
  | 'denied_quota'
  | 'denied_store_unavailable'
  /** An OAuth token below the tool's level (src/oauth): refused before the pipeline. */
  | 'denied_scope'
  /** The audit store could take no record and AUDIT_FAILURE=refuse: calls above LOW are refused. */
  | 'denied_audit_unavailable'
  /** A gated call without a person's approval: asked for one, denied, or its approval expired (src/tools/approval.ts). */
  | 'denied_approval';

/** Who answered a call's approval, through which channel, and when (ISO time). */
export interface ApprovalMark {
  who: string;
  via: 'page' | 'elicitation';
  at: string;
  approval_id: string;
}

export interface AuditRecord {
  id: string;
  ts: string;
  tool: string;
  system: SystemId | null;
  level: Level | null;
  /** Key id (e.g. "key:3f9a1c2b"), never the key. */
  principal: string;
  transport: 'mcp' | 'rest';
  outcome: AuditOutcome;
  duration_ms: number;
  quota?: { used: number; limit: number; reset_s: number };
  /** Secrets redacted, long values truncated. */
  args: unknown;
  error?: { code: string; message: string };
  governance?: { degraded?: boolean; warning?: string };
  dry_run?: boolean;
  /** The W3C trace id of the call when tracing is on, so a record leads to its trace. */
  trace_id?: string;
  /** The person who approved this call (gated calls under APPROVAL=person). */
  approved_by?: ApprovalMark;
  /** The person who denied this call's approval. */
  denied_by?: ApprovalMark;
}

export interface AuditQuery {
  limit?: number;
  tool?: string;
  outcome?: AuditOutcome;
  /** Opaque cursor from a previous page's next_cursor. */
  cursor?: string;
}

export interface AuditStatus {
  /** Records waiting in memory for the durable store. */
  pending: number;
  /** Bytes of records waiting in the spill files. */
  spill_bytes: number;
  /** Records this process has written to the spill since it started. */
  spilled: number;
  /** Records this process lost (queue and spill full, or written after close). */
  dropped: number;
  saturated: boolean;
}

export interface AuditStore {
  readonly kind: 'memory' | 'redis';
  /** Never blocks the reply: queued and written in batches; bounded queue. */
  append(record: AuditRecord): void;
  /** Newest first. */
  list(query: AuditQuery): Promise<{ records: AuditRecord[]; next_cursor: string | null }>;
  /** Whether records are waiting or were lost: GET /v1/audit and the console show it, metrics count it. */
  status(): AuditStatus;
  /** True while the store can take no more records (queue and spill full): AUDIT_FAILURE decides what calls do. */
  readonly saturated: boolean;
  /** Writes everything queued (shutdown, tests). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Records of calls that ran an adapter (or delivered a callback) are kept apart from records of calls that did not
 * run anything (unknown tool, invalid arguments, denials, dry runs): those cost the caller no quota, so a flood of
 * them must not evict the executed calls' records. Each kind has its own cap (AUDIT_CAP, AUDIT_REFUSED_CAP).
 */
export function isExecutedRecord(record: AuditRecord): boolean {
  return (record.outcome === 'ok' || record.outcome === 'error') && record.dry_run !== true;
}

let stampSecond = Number.NaN;
let stampPrefix = '';

/**
 * The audit timestamp of `ms` (now by default): exactly `new Date(ms).toISOString()`, with the part up to the second
 * formatted once per second. Every call writes one, and `toISOString` was the costliest line of the audit record.
 */
export function auditTimestamp(ms: number = Date.now()): string {
  const second = Math.floor(ms / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stampPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
  const millis = ms - second * 1000;
  return `${stampPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
