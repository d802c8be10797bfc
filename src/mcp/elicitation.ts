import { hkdfSync, randomBytes } from 'node:crypto';
import type { InputRequiredResult, RequestStateCodec, ServerContext } from '@modelcontextprotocol/server';
import { canonicalArgsHash, type ApprovalBinding, type ApprovalStore } from '../governance/approvals.js';
import { approvalMark, pendingApproval, type ApprovalAnswer, type ApprovalRequest, type PersonAsker } from '../tools/approval.js';
import { HubError } from '../tools/errors.js';
import { isModernRequest, requestEnvelope, type SdkRuntime } from './sdk.js';

/**
 * Approval by a person through MCP elicitation, for clients that declare it. A gated call first creates a pending
 * approval bound to the exact call (principal, tool, canonical arguments hash) in the approval store and answers
 * `input_required`: a form elicitation stating what the call would do, plus a signed `requestState` naming the
 * approval. The client asks its user and calls again with the answer; on 2025 sessions the SDK's legacy shim sends
 * the same elicitation as `elicitation/create` and re-enters the handler, so this one path serves both eras.
 *
 * The retried call's answer decides the approval (via `elicitation`, by the calling principal) and consumes it in
 * the same step: approve runs the call once; decline or cancel refuses it (`approval_denied`). An answer replayed
 * after its approval was used, or sent with changed arguments, finds no pending approval of that call and is asked
 * anew: it never runs on the old answer.
 */

/** The key of the approval question in `inputRequests` / `inputResponses`. */
export const APPROVAL_INPUT = 'approval';

/**
 * What the hub's signed `requestState` carries between the rounds: the approval question's id, or (a relayed
 * upstream round, src/mcp/upstream-rounds.ts) the upstream tool it belongs to and the upstream's own state.
 */
export interface HubRequestState {
  approval_id?: string;
  relay?: { tool: string; state?: string };
}

/** The form the person answers: one boolean, so a client renders it as a yes/no question under the message. */
const APPROVAL_FORM = {
  type: 'object' as const,
  properties: { approve: { type: 'boolean' as const, title: 'Approve', description: 'Run this call once, exactly as described' } },
  required: ['approve'],
};

/**
 * The requestState codec (the SDK's HMAC-SHA256 helper). Its key is derived (HKDF) from the hub's API keys, which
 * every instance of one deployment shares, so any instance verifies the state another minted; a hub without keys
 * uses a key of this process. The state is bound to the method and the caller. One codec signs the approval question's
 * state and the wrapped state of upstream rounds: the server's one `requestState.verify` hook reads both.
 */
export function approvalStateCodec(sdk: SdkRuntime['server'], apiKeys: readonly string[], ttlMs: number): RequestStateCodec<HubRequestState> {
  const secret = apiKeys.length > 0 ? [...apiKeys].sort().join('\n') : randomBytes(32).toString('base64url');
  const key = new Uint8Array(hkdfSync('sha256', secret, 'omni-hub', 'mcp requestState: approvals', 32));
  return sdk.createRequestStateCodec<HubRequestState>({
    key,
    ttlSeconds: Math.max(1, Math.round(ttlMs / 1000)),
    bind: (ctx) => `${ctx.mcpReq.method}\0${ctx.http?.authInfo?.clientId ?? 'anonymous'}`,
  });
}

/** Whether the client of this request can answer a form elicitation (its 2026-07-28 envelope, or its 2025 session's capabilities). */
export function clientElicits(sdk: SdkRuntime['server'], ctx: ServerContext, legacyCapabilities: () => { elicitation?: unknown } | undefined): boolean {
  const modern = requestEnvelope(ctx)?.[sdk.CLIENT_CAPABILITIES_META_KEY] as { elicitation?: unknown } | undefined;
  if (isModernRequest(sdk, ctx)) return elicitsForm(modern?.elicitation);
  return elicitsForm(legacyCapabilities()?.elicitation);
}

/** `elicitation: {}` means form mode (the spec's default); `{url: {}}` alone does not offer forms. */
function elicitsForm(cap: unknown): boolean {
  if (cap === null || typeof cap !== 'object') return false;
  const modes = cap as { form?: unknown; url?: unknown };
  return modes.form !== undefined || modes.url === undefined;
}

export class ElicitationAsker implements PersonAsker {
  /** Set when the person has to be asked: the tools/call handler answers input_required with it. */
  question?: { approvalId: string; message: string };

  constructor(
    private readonly store: ApprovalStore,
    private readonly ttlMs: number,
    /** The verified requestState of a retried call, and the client's answer to the approval question. */
    private readonly round: { state?: HubRequestState; response?: unknown },
  ) {}

  async ask(request: ApprovalRequest): Promise<ApprovalAnswer> {
    const binding: ApprovalBinding = { principal: request.principal, tool: request.tool, args_hash: canonicalArgsHash(request.args) };
    const id = this.round.state?.approval_id;
    let note = '';
    if (id !== undefined) {
      const answered = await this.answer(id, binding, request);
      if (answered) return answered;
      note = 'That answer belongs to an approval already used, expired, or given for other arguments; ';
    }
    const record = pendingApproval(request, binding.args_hash, this.ttlMs);
    await this.store.create(record);
    this.question = { approvalId: record.id, message: `${request.tool} needs your approval. It would: ${request.action}. Approve this call once?` };
    return {
      state: 'pending',
      error: new HubError('approval_required', `${note}${request.tool} waits for the user's answer to an approval question (elicitation)`, {
        approval_id: record.id,
        action: request.action,
      }),
    };
  }

  /** Decides and consumes the pending approval `id` with the client's answer; null when it is not this call's pending approval. */
  private async answer(id: string, binding: ApprovalBinding, request: ApprovalRequest): Promise<ApprovalAnswer | null> {
    const record = await this.store.get(id);
    if (!record || record.state !== 'pending' || record.expires_at <= Date.now()) return null;
    if (record.principal !== binding.principal || record.tool !== binding.tool || record.args_hash !== binding.args_hash) return null;
    const approve = approves(this.round.response);
    const decided = await this.store.decide(id, { state: approve ? 'approved' : 'denied', by: binding.principal, via: 'elicitation', at: Date.now() });
    if (!decided) return null;
    const used = await this.store.consume(id, binding);
    if (used.status !== 'used') return null;
    const mark = approvalMark(used.record)!;
    if (used.record.state === 'approved') return { state: 'approved', mark };
    return {
      state: 'denied',
      mark,
      error: new HubError('approval_denied', `the user declined ${request.tool}; do not retry this call unless the user asks for it again`, {
        approval_id: id,
        action: request.action,
      }),
    };
  }

  /** The input_required answer asking the person (call only when `question` is set). */
  async inputRequired(sdk: SdkRuntime['server'], codec: RequestStateCodec<HubRequestState>, ctx: ServerContext): Promise<InputRequiredResult> {
    const { approvalId, message } = this.question!;
    return sdk.inputRequired({
      inputRequests: { [APPROVAL_INPUT]: sdk.inputRequired.elicit({ message, requestedSchema: APPROVAL_FORM }) },
      requestState: await codec.mint({ approval_id: approvalId }, ctx),
    });
  }
}

/** Only an accepted form with `approve: true` approves; decline, cancel and anything else refuse. */
function approves(response: unknown): boolean {
  if (response === null || typeof response !== 'object') return false;
  const r = response as { action?: unknown; content?: { approve?: unknown } };
  return r.action === 'accept' && r.content?.approve === true;
}
