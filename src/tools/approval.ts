import type { Level } from '../governance/levels.js';
import { APPROVAL_ID, canonicalArgsHash, newApprovalId, type ApprovalRecord, type ApprovalStore } from '../governance/approvals.js';
import { auditTimestamp, type ApprovalMark, type AuditRecord } from '../governance/audit.js';
import { redactArgs } from '../governance/redact.js';
import { HubError, toHubError } from './errors.js';

/**
 * The pipeline's approval step for gated calls under `APPROVAL=person`. The pipeline hands the call to a PersonAsker
 * and acts on its answer: `approved` runs the call (its audit record carries `approved_by`), `denied` and `pending`
 * refuse it with the answer's error (`approval_denied`, `approval_required`). The asker decides how the person is
 * reached: the approval page (ApprovalPageAsker, any client) or, where the client offers it, an MCP elicitation; a
 * transport that can elicit passes its own asker in the call's origin and the pipeline does not change.
 */

export interface ApprovalRequest {
  tool: string;
  level: Level;
  principal: string;
  transport: 'mcp' | 'rest';
  /** The validated arguments (the approval binds their canonical hash). */
  args: Record<string, unknown>;
  /** The tool's describeAction line: what the person is asked to approve. */
  action: string;
  /** The hub's origin as the caller reached it (PUBLIC_URL wins), for an absolute approval URL. */
  baseUrl?: () => string;
}

export type ApprovalAnswer =
  | { state: 'approved'; mark: ApprovalMark }
  | { state: 'denied'; error: HubError; mark?: ApprovalMark }
  | { state: 'pending'; error: HubError };

export interface PersonAsker {
  ask(request: ApprovalRequest): Promise<ApprovalAnswer>;
}

export const approvalMark = (record: ApprovalRecord): ApprovalMark | undefined =>
  record.decision && { who: record.decision.by, via: record.decision.via, at: new Date(record.decision.at).toISOString(), approval_id: record.id };

export const approvalPath = (id: string) => `/approvals/${id}`;

/**
 * Asks through the approval page: a call without an approval id (or with one that expired, was used, or belongs to
 * other arguments) creates a pending approval and answers `approval_required` with its URL; the same call with the
 * id runs once a person approved it there.
 */
export class ApprovalPageAsker implements PersonAsker {
  constructor(
    private readonly store: ApprovalStore,
    private readonly ttlMs: number,
    private readonly publicUrl?: string,
  ) {}

  async ask(request: ApprovalRequest): Promise<ApprovalAnswer> {
    const hash = canonicalArgsHash(request.args);
    const given = request.args.approval_id;
    let note = '';
    if (typeof given === 'string') {
      if (!APPROVAL_ID.test(given)) return this.open(request, hash, `The "approval_id" ${JSON.stringify(given.slice(0, 60))} is not an approval id of this hub. `);
      const found = await this.store.consume(given, { principal: request.principal, tool: request.tool, args_hash: hash });
      switch (found.status) {
        case 'used': {
          const mark = approvalMark(found.record)!;
          if (found.record.state === 'approved') return { state: 'approved', mark };
          return {
            state: 'denied',
            mark,
            error: new HubError('approval_denied', `${request.tool} was denied by an operator of this hub; do not retry this call unless the user asks for it again`, {
              approval_id: given,
              action: request.action,
            }),
          };
        }
        case 'pending':
          return { state: 'pending', error: this.required(request, found.record, 'This approval has not been answered yet. ') };
        case 'expired':
          note = `Approval ${given} expired unanswered or unused. `;
          break;
        case 'mismatch':
          note = `Approval ${given} was given for other arguments (or another tool or caller); any change needs a new approval. `;
          break;
        case 'missing':
          note = `Approval ${given} is unknown or was already used (each approval runs one call). `;
          break;
      }
    }
    const open = await this.store.findOpen({ principal: request.principal, tool: request.tool, args_hash: hash });
    if (open) {
      const state =
        open.state === 'approved'
          ? `${note}A person already approved this call: call again with "approval_id": "${open.id}". `
          : `${note}This call already waits for a person's approval. `;
      return { state: 'pending', error: this.required(request, open, state) };
    }
    return this.open(request, hash, note);
  }

  /** Creates a pending approval for this call and answers `approval_required` with its URL. */
  private async open(request: ApprovalRequest, hash: string, note: string): Promise<ApprovalAnswer> {
    const record = pendingApproval(request, hash, this.ttlMs);
    await this.store.create(record);
    return { state: 'pending', error: this.required(request, record, note) };
  }

  private required(request: ApprovalRequest, record: ApprovalRecord, note: string): HubError {
    const url = `${this.publicUrl ?? request.baseUrl?.() ?? ''}${approvalPath(record.id)}`;
    const minutes = Math.max(1, Math.round((record.expires_at - Date.now()) / 60_000));
    const message =
      `${note}${request.tool} needs a person's approval. It would: ${request.action}. Ask the user to open ${url}, sign in as an operator of ` +
      `this hub and approve it within ${minutes} min; then call ${request.tool} again with the same arguments plus "approval_id": "${record.id}".`;
    return new HubError('approval_required', message, {
      approval_id: record.id,
      approval_url: url,
      action: request.action,
      expires_at: new Date(record.expires_at).toISOString(),
      how: `after a person approved at approval_url, call again with the same arguments and "approval_id": "${record.id}"`,
    });
  }
}

/** The call's arguments without the gate's own fields: what an approval shows. */
/** A new pending approval of this exact call (its arguments' hash), kept redacted, expiring `ttlMs` from now. */
export function pendingApproval(request: ApprovalRequest, argsHash: string, ttlMs: number): ApprovalRecord {
  const now = Date.now();
  return {
    id: newApprovalId(),
    tool: request.tool,
    level: request.level,
    principal: request.principal,
    transport: request.transport,
    args_hash: argsHash,
    args: redactArgs(withoutGateFields(request.args)),
    action: request.action,
    created_at: now,
    expires_at: now + ttlMs,
    state: 'pending',
  };
}

export function withoutGateFields(args: Record<string, unknown>): Record<string, unknown> {
  const { confirm: _c, dry_run: _d, approval_id: _a, ...rest } = args;
  return rest;
}

/**
 * The audit record of an approval that ended without a call: denied on the page, or expired (unanswered, or approved
 * but never used). Such records name the approval's tool, caller and arguments and have outcome `denied_approval`.
 */
export function approvalEndRecord(record: ApprovalRecord, system: string | null, code: 'approval_denied' | 'approval_expired'): AuditRecord {
  const mark = approvalMark(record);
  const message =
    code === 'approval_denied'
      ? `the approval of ${record.tool} was denied by ${mark?.who ?? 'an operator'}`
      : `the approval of ${record.tool} expired ${record.state === 'approved' ? 'approved but unused' : 'unanswered'}`;
  const out: AuditRecord = {
    id: record.id,
    ts: auditTimestamp(),
    tool: record.tool,
    system,
    level: record.level,
    principal: record.principal,
    transport: record.transport,
    outcome: 'denied_approval',
    duration_ms: 0,
    args: record.args,
    error: { code, message },
  };
  if (mark && record.state === 'approved') out.approved_by = mark;
  if (mark && record.state === 'denied') out.denied_by = mark;
  return out;
}

/** Turns a store failure into the refusal every store outage gets (the call does not run without its approval). */
export function approvalStoreDown(store: ApprovalStore, err: unknown): HubError {
  return new HubError('governance_unavailable', `the approval store (${store.kind}) is unavailable: ${toHubError(err).message}; try again shortly`, {
    store: store.kind,
    retry_after_s: 5,
  });
}
