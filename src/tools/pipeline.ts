import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config, ProfileConfig } from '../config.js';
import type { Level } from '../governance/levels.js';
import { toolServices, type HubDeps } from '../deps.js';
import type { ApprovalStore } from '../governance/approvals.js';
import { auditTimestamp, type AuditOutcome, type AuditRecord } from '../governance/audit.js';
import type { GovernedTool, Governor } from '../governance/governor.js';
import type { QuotaDecision } from '../governance/quota-store.js';
import { redactArgs } from '../governance/redact.js';
import { RefusalLimiter } from '../governance/refusal-limiter.js';
import { scrubbedErrorText, scrubError } from '../governance/scrub.js';
import type { Metrics } from '../metrics.js';
import { tracing, type TraceContextMeta } from '../telemetry/tracing.js';
import { ApprovalPageAsker, approvalStoreDown, type ApprovalRequest, type PersonAsker } from './approval.js';
import { CallTracker } from './call-tracker.js';
import { callerView, catalogName, toolInView } from './catalog.js';
import { HubError, toHubError } from './errors.js';
import { capResult, type ResultTruncation } from './limits.js';
import { operationOutcome } from './operations.js';
import type { RegisteredTool, ToolRegistry } from './registry.js';
import type { MediaContent, ToolContext, ToolServices } from './types.js';

export interface CallOrigin {
  /** Key id ("key:ab12cd34"), never the key. */
  principal: string;
  transport: 'mcp' | 'rest';
  /** Aborted when the client goes away or the hub shuts down. */
  signal?: AbortSignal;
  /** Set when the client asked for progress notifications (MCP `progressToken`). */
  onProgress?: ToolContext['progress'];
  /** W3C trace context from the MCP request's `params._meta`: the parent of the call's span when tracing is on. */
  traceContext?: TraceContextMeta;
  /** The hub's origin as this caller reached it, for absolute links in answers (approval URLs); worked out on demand. */
  baseUrl?: () => string;
  /** How to ask a person for approval on this transport (MCP elicitation); the approval page otherwise. */
  askPerson?: PersonAsker;
  /** How to relay an upstream's elicitation or sampling request to this caller's client (2025 MCP sessions). */
  askClient?: ToolContext['ask'];
  /** The caller's request as a 2026-07-28 upstream gets it relayed (capabilities, log level, input responses). */
  round?: ToolContext['round'];
  /** Where an upstream's log messages during the call go (the MCP caller). */
  onLog?: ToolContext['clientLog'];
  /** The profile the request asked for (`?profile=`, `/mcp/p/<profile>`); a key's bound profile applies anyway. */
  profile?: string;
  /** How long the call may take: an MCP task waits for its whole operation (src/mcp/tasks.ts); TOOL_WAIT_MS otherwise. */
  waitMs?: number;
}

export interface GovernanceMeta {
  level: string;
  quota?: { used: number; limit: number; remaining: number; reset_s: number };
  degraded?: boolean;
  warning?: string;
}

export type InvokeResult =
  | {
      ok: true;
      data: Record<string, unknown>;
      media: MediaContent[];
      governance?: GovernanceMeta;
      callId: string;
      truncated?: ResultTruncation;
      /** The JSON text of `data` when the result cap already computed it (MCP reuses it as the text content). */
      json?: string;
      /** `data` is an upstream's MCP CallToolResult, passed through unchanged. */
      raw?: boolean;
    }
  | { ok: false; error: HubError; governance?: GovernanceMeta; callId: string };

function quotaMeta(q: QuotaDecision | undefined): GovernanceMeta['quota'] {
  return q && { used: q.used, limit: q.limit, remaining: q.remaining, reset_s: q.reset_s };
}

/** The profile of a call whose requested profile is unusable: it selects no tool at all. */
const NO_TOOLS: ProfileConfig = { name: '', tools: [] };

/** The profile a call runs under; an unusable one selects no tool at all. */
function profileOf(cfg: Config, origin: Pick<CallOrigin, 'principal' | 'profile'>): ProfileConfig {
  try {
    return callerView(cfg, { principal: origin.principal, profile: origin.profile }).profile ?? NO_TOOLS;
  } catch {
    return NO_TOOLS;
  }
}

/** One call as the pipeline's stages fill it in; finish() turns it into the call's one audit record. */
interface Call {
  name: string;
  rawArgs: unknown;
  origin: CallOrigin;
  tool: RegisteredTool | undefined;
  /** What is governed when the call runs no tool (an upstream resource read, a prompt get: see govern()). */
  subject?: GovernedTool;
  started: number;
  callId: string;
  /** The validated arguments, once validation passed (the record keeps them rather than the raw ones). */
  args?: Record<string, unknown>;
  governance?: GovernanceMeta;
  dryRun: boolean;
  /** Who approved (or denied) a gated call, for its audit record. */
  approval?: Pick<AuditRecord, 'approved_by' | 'denied_by'>;
}

/**
 * The one invoke pipeline: look up → validate → enabled → configured → approval → quota → run → audit.
 * MCP (SDK path and fast path) and REST both call invoke(); exactly one audit record is written per call.
 */
export class InvokePipeline {
  /** Calls in flight and the controllers of running tools, for graceful shutdown. */
  private readonly calls = new CallTracker();
  private shuttingDown = false;
  private refusals?: RefusalLimiter;
  private pageAsker?: ApprovalPageAsker;
  /**
   * Audit lines skip the logger's path redaction: a record holds no headers or config, and its arguments and error
   * text are already redacted and scrubbed (that pass cost a deep clone per call).
   */
  private readonly auditLog: FastifyBaseLogger;
  /** What a tool's context carries: never the governance stores. */
  private readonly services: ToolServices;

  constructor(
    private readonly registry: ToolRegistry,
    private readonly governor: Governor,
    readonly config: Config,
    private readonly deps: HubDeps,
    private readonly log: FastifyBaseLogger,
    private readonly metrics: Metrics,
  ) {
    this.auditLog = log.child({}, { redact: [] });
    this.services = toolServices(deps);
  }

  invoke(name: string, rawArgs: unknown, origin: CallOrigin): Promise<InvokeResult> {
    this.calls.started();
    const traced = tracing();
    const p = traced ? traced.call(name, origin, () => this.run(name, rawArgs, origin)) : this.run(name, rawArgs, origin);
    void p.finally(this.calls.settled);
    return p;
  }

  /** Calls (and governed reads) started and not yet answered: what shutdown waits for, and what tests wait on. */
  get inFlight(): number {
    return this.calls.count;
  }

  /** Graceful shutdown: waits for in-flight calls up to `graceMs`, then aborts the rest. */
  async drain(graceMs: number): Promise<void> {
    const timer = setTimeout(() => {
      this.shuttingDown = true;
      this.calls.abortAll(new HubError('timeout', 'the hub is shutting down'));
    }, graceMs);
    await this.calls.whenIdle();
    clearTimeout(timer);
  }

  /**
   * A call refused before it reached invoke(): the OAuth scope guard runs ahead of every MCP path and REST. It gets
   * the one audit record, log line, metric and refusal budget of any refusal here, so it is recorded the same way.
   * `level` is the tool's effective level, which the refusing check has already worked out.
   */
  refuse(name: string, rawArgs: unknown, origin: CallOrigin, outcome: AuditOutcome, error: HubError, level: Level): InvokeResult {
    const call = this.begin(name, rawArgs, origin);
    if (call.tool) call.governance = { level };
    return this.fail(call, outcome, error);
  }

  private begin(name: string, rawArgs: unknown, origin: CallOrigin): Call {
    const call: Call = { name, rawArgs, origin, tool: undefined, started: performance.now(), callId: randomUUID(), dryRun: false };
    Object.assign(call, this.lookup(name, origin));
    return call;
  }

  /** The tool a caller's name means: a tool outside the caller's profile is answered like one that does not exist (catalog.ts). */
  private lookup(name: string, origin: Pick<CallOrigin, 'principal' | 'transport' | 'profile'>): { name: string; tool: RegisteredTool | undefined } {
    if (origin.profile === undefined && this.config.keyProfiles[origin.principal] === undefined) return { name, tool: this.registry.get(name) };
    // The surfaces refuse an unknown or forbidden profile before calling; here it just finds no tool.
    const view = { profile: profileOf(this.config, origin) };
    const inView = origin.transport === 'mcp' ? catalogName(name, view) : name;
    return { name: inView, tool: toolInView(this.registry, this.config, view, inView) };
  }

  /** The approval store of the approval step (an MCP elicitation records its approvals there too). */
  get approvals(): ApprovalStore {
    return this.deps.approvals;
  }

  /** Whether a call of this tool by this caller goes to a person for approval (its level's or override's APPROVAL=person). */
  asksPerson(name: string, origin: Pick<CallOrigin, 'principal' | 'transport' | 'profile'>): boolean {
    const { tool } = this.lookup(name, origin);
    return tool?.def.describeAction !== undefined && this.governor.rule(tool.def).approval === 'person';
  }

  private finish(call: Call, outcome: AuditOutcome, raw: InvokeResult): InvokeResult {
    const { tool, governance, origin } = call;
    const subject = tool?.def ?? call.subject;
    // Upstream error text may echo our credentials: scrubbed before it reaches the caller, the audit and the log.
    const result: InvokeResult = raw.ok ? raw : { ...raw, error: scrubError(raw.error, this.config) };
    const duration = performance.now() - call.started;
    const record: AuditRecord = {
      id: call.callId,
      ts: auditTimestamp(),
      tool: call.name.slice(0, 200),
      system: subject?.system ?? null,
      level: subject ? (governance?.level as AuditRecord['level']) ?? subject.level : null,
      principal: origin.principal,
      transport: origin.transport,
      outcome,
      duration_ms: Math.round(duration * 100) / 100,
      quota: governance?.quota && { used: governance.quota.used, limit: governance.quota.limit, reset_s: governance.quota.reset_s },
      args: redactArgs(call.args ?? call.rawArgs),
    };
    // Optional fields assigned rather than spread in: this runs on every call, and each spread copies an object.
    if (!result.ok) record.error = { code: result.error.code, message: result.error.message };
    if (governance?.degraded || governance?.warning) record.governance = { degraded: governance.degraded, warning: governance.warning };
    if (call.dryRun) record.dry_run = true;
    const traced = tracing();
    const traceId = traced?.annotate(record);
    if (traceId) record.trace_id = traceId;
    if (call.approval) Object.assign(record, call.approval);
    this.deps.audit.append(record);
    if (this.config.audit.log) {
      // On Google Cloud, Cloud Logging shows a line with this field under its trace in Cloud Trace.
      const project = record.trace_id && this.config.google.project;
      if (project) this.auditLog.info({ type: 'audit', audit: record, 'logging.googleapis.com/trace': `projects/${project}/traces/${record.trace_id}` }, 'tool call');
      else this.auditLog.info({ type: 'audit', audit: record }, 'tool call');
    }
    this.metrics.recordCall(subject ? subject.name : '(unknown)', outcome, duration / 1000);
    return result;
  }

  private fail(call: Call, outcome: AuditOutcome, error: HubError): InvokeResult {
    const { governance, callId } = call;
    const subject = call.tool?.def ?? call.subject;
    // Refusals use no quota: past REFUSED_CALLS_PER_MINUTE per key they are answered rate_limited, counted, not audited.
    const throttled = (this.refusals ??= new RefusalLimiter(this.config.refusedCallsPerMinute)).take(call.origin.principal);
    if (!throttled) return this.finish(call, outcome, { ok: false, error, governance, callId });
    this.metrics.refusedThrottled.inc();
    this.metrics.recordCall(subject ? subject.name : '(unknown)', 'rate_limited', (performance.now() - call.started) / 1000);
    return { ok: false, error: throttled, governance, callId };
  }

  private async run(name: string, rawArgs: unknown, origin: CallOrigin): Promise<InvokeResult> {
    const call = this.begin(name, rawArgs, origin);
    const { tool, callId } = call;

    if (!tool) return this.fail(call, 'invalid', new HubError('unknown_tool', `unknown tool: ${name.slice(0, 200)}`, { tool: name.slice(0, 200) }));

    const checked = tool.validate(rawArgs ?? {});
    if (!checked.ok) {
      const list = checked.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
      return this.fail(call, 'invalid', new HubError('invalid_arguments', `invalid arguments for ${name}: ${list}`, { issues: checked.issues }));
    }
    const args = (call.args = checked.data);

    const rule = this.governor.rule(tool.def);
    const governance: GovernanceMeta = (call.governance = { level: rule.level });
    if (!rule.enabled) return this.fail(call, 'denied_disabled', new HubError('tool_disabled', `${name} is disabled by GOVERNANCE_OVERRIDES`));

    const missing = tool.system.missingConfig(this.config);
    if (missing) {
      return this.fail(call, 'not_configured', new HubError('not_configured', `${tool.system.title} is not configured: set ${missing}`, { variable: missing }));
    }

    // Follow-ups of long operations and dry runs start no work: answered here, before quota (see ToolDefinition).
    if (tool.def.longRunning && typeof args.operation === 'string') {
      const id = args.operation;
      return operationOutcome(this.deps.operations, tool.def.name, id, origin.principal).then(
        (data) => this.finish(call, 'ok', { ok: true, data, media: [], governance, callId }),
        (err: unknown) => {
          const error = toHubError(err);
          return this.fail(call, error.code === 'not_found' ? 'invalid' : 'error', error);
        },
      );
    }
    if (args.dry_run === true && (tool.def.preview || tool.def.describeAction)) {
      call.dryRun = true;
      try {
        const data = tool.def.preview?.(args, this.config) ?? { dry_run: true, action: tool.def.describeAction!(args, this.config), level: rule.level, uses_quota: false };
        return this.finish(call, 'ok', { ok: true, data, media: [], governance, callId });
      } catch (err) {
        return this.fail(call, 'error', toHubError(err));
      }
    }

    if (tool.def.describeAction && rule.approval !== 'off') {
      const action = tool.def.describeAction(args, this.config);
      if (rule.approval === 'model' && args.confirm !== true) {
        return this.fail(
          call,
          'denied_confirmation',
          new HubError('confirmation_required', `${name} needs confirm: true. It would: ${action}`, { action, how: 'call again with "confirm": true, or "dry_run": true to preview' }),
        );
      }
      if (rule.approval === 'person') {
        const refused = await this.askPerson(call, { tool: name, level: rule.level, principal: origin.principal, transport: origin.transport, args, action, baseUrl: origin.baseUrl });
        if (refused) return refused;
      }
    }

    // No record could be kept for this call (Redis down, queue and spill full): above LOW it is not run unrecorded.
    if (this.deps.audit.saturated && this.config.audit.failure === 'refuse' && rule.level !== 'LOW') {
      return this.fail(
        call,
        'denied_audit_unavailable',
        new HubError('audit_unavailable', `the audit store can take no more records and AUDIT_FAILURE=refuse refuses ${rule.level} calls; try again shortly`, { level: rule.level, retry_after_s: 5 }),
      );
    }

    const traced = tracing();
    const admit = () => this.governor.admit(tool.def, origin.principal, rule);
    const admission = await (traced
      ? traced.child('quota check', admit, (a) => ({ 'omni.quota.allowed': a.allowed, 'omni.quota.used': a.quota?.used, 'omni.quota.limit': a.quota?.limit, 'omni.quota.degraded': a.degraded }))
      : admit());
    call.governance = { level: rule.level, quota: quotaMeta(admission.quota), degraded: admission.degraded, warning: admission.warning };
    if (admission.degraded || admission.error?.code === 'governance_unavailable') this.metrics.storeErrors.inc();
    if (!admission.allowed) {
      const error = admission.error ?? new HubError('quota_exceeded', `${name} is over its hourly quota`);
      if (error.code === 'quota_exceeded') this.metrics.quotaRefusals.inc({ tool: name });
      return this.fail(call, error.code === 'quota_exceeded' ? 'denied_quota' : 'denied_store_unavailable', error);
    }

    return this.execute(call, tool, args);
  }

  /**
   * Governs something that is not a tool but is answered by one of the hub's systems: an upstream's resource read or
   * prompt get. The same stages as a tool call without validation or approval (a read changes nothing): enabled,
   * audit capacity, quota, then `run` under the call's time budget and the client's cancellation, and the one audit
   * record. `subject` names the quota bucket and the GOVERNANCE_OVERRIDES key; its answer passes through unchanged.
   */
  async govern(subject: GovernedTool, args: Record<string, unknown>, origin: CallOrigin, run: (signal: AbortSignal) => Promise<Record<string, unknown>>): Promise<InvokeResult> {
    this.calls.started();
    try {
      const call: Call = { name: subject.name, rawArgs: args, args, origin, tool: undefined, subject, started: performance.now(), callId: randomUUID(), dryRun: false };
      const rule = this.governor.rule(subject);
      const governance: GovernanceMeta = (call.governance = { level: rule.level });
      if (!rule.enabled) return this.fail(call, 'denied_disabled', new HubError('tool_disabled', `${subject.name} is disabled by GOVERNANCE_OVERRIDES`));
      if (this.deps.audit.saturated && this.config.audit.failure === 'refuse' && rule.level !== 'LOW') {
        return this.fail(call, 'denied_audit_unavailable', new HubError('audit_unavailable', `the audit store can take no more records and AUDIT_FAILURE=refuse refuses ${rule.level} calls; try again shortly`, { level: rule.level, retry_after_s: 5 }));
      }
      const admission = await this.governor.admit(subject, origin.principal, rule);
      call.governance = { level: rule.level, quota: quotaMeta(admission.quota), degraded: admission.degraded, warning: admission.warning };
      if (!admission.allowed) {
        const error = admission.error ?? new HubError('quota_exceeded', `${subject.name} is over its hourly quota`);
        return this.fail(call, error.code === 'quota_exceeded' ? 'denied_quota' : 'denied_store_unavailable', error);
      }
      const controller = new AbortController();
      const abort = () => controller.abort(new HubError('timeout', `${subject.name} ran out of time`));
      const timer = setTimeout(abort, this.config.toolWaitMs + 5_000);
      const running = this.calls.run(controller);
      const parent = origin.signal;
      if (parent?.aborted || this.shuttingDown) abort();
      else parent?.addEventListener('abort', abort, { once: true });
      try {
        const data = await run(controller.signal);
        return this.finish(call, 'ok', { ok: true, data, media: [], governance: call.governance ?? governance, callId: call.callId, raw: true });
      } catch (err) {
        return this.finish(call, 'error', { ok: false, error: toHubError(err), governance: call.governance, callId: call.callId });
      } finally {
        clearTimeout(timer);
        this.calls.finish(running);
        parent?.removeEventListener('abort', abort);
      }
    } finally {
      this.calls.settled();
    }
  }

  /** The approval step under APPROVAL=person: null when a person approved the call, otherwise its refusal. */
  private async askPerson(call: Call, request: ApprovalRequest): Promise<InvokeResult | null> {
    const asker = call.origin.askPerson ?? (this.pageAsker ??= new ApprovalPageAsker(this.deps.approvals, this.config.governance.approvalTtlMs, this.config.publicUrl));
    let answer;
    try {
      answer = await asker.ask(request);
    } catch (err) {
      return this.fail(call, 'denied_store_unavailable', approvalStoreDown(this.deps.approvals, err));
    }
    if (answer.state === 'approved') {
      call.approval = { approved_by: answer.mark };
      return null;
    }
    if (answer.state === 'denied' && answer.mark) call.approval = { denied_by: answer.mark };
    return this.fail(call, 'denied_approval', answer.error);
  }

  private async execute(call: Call, tool: RegisteredTool, args: Record<string, unknown>): Promise<InvokeResult> {
    const { origin, callId, governance } = call;
    const media: MediaContent[] = [];
    // One controller per call, aborted by its time budget, the hub's shutdown or the client leaving: one object and one
    // timer, where AbortSignal.timeout + AbortSignal.any would allocate dependent signals and their listeners per call.
    const controller = new AbortController();
    const parent = origin.signal;
    // A caller that stops its call says why (an MCP task's cancellation): that reason is the call's outcome.
    const abort = () => controller.abort(parent?.reason instanceof HubError ? parent.reason : new HubError('timeout', `${tool.def.name} ran out of time`));
    const waitMs = origin.waitMs ?? this.config.toolWaitMs;
    const timer = setTimeout(abort, waitMs + 5_000);
    if (this.shuttingDown) controller.abort(new HubError('timeout', 'the hub is shutting down'));
    const running = this.calls.run(controller);
    if (parent?.aborted) abort();
    else parent?.addEventListener('abort', abort, { once: true });
    try {
      const data = await tool.def.run(args, {
        config: this.config,
        services: this.services,
        log: this.log,
        signal: controller.signal,
        deadline: Date.now() + waitMs,
        principal: origin.principal,
        callId,
        attach: (m) => media.push(m),
        progress: origin.onProgress,
        ask: origin.askClient,
        round: origin.round,
        clientLog: origin.onLog,
      });
      // An upstream's answer passes through unchanged (REST bounds its binary content itself).
      if (tool.def.passthrough) return this.finish(call, data.isError === true ? 'error' : 'ok', { ok: true, data, media, governance, callId, raw: true });
      const capped = capResult(data, this.config.resultMaxChars);
      const result: InvokeResult = { ok: true, data: capped.data, json: capped.json, media, governance, callId };
      if (capped.truncated) result.truncated = capped.truncated;
      return this.finish(call, 'ok', result);
    } catch (err) {
      const error = toHubError(err);
      if (error.code === 'internal_error') this.log.error({ err: scrubbedErrorText(err, this.config), tool: tool.def.name }, 'tool failed unexpectedly');
      return this.finish(call, 'error', { ok: false, error, governance, callId });
    } finally {
      clearTimeout(timer);
      this.calls.finish(running);
      parent?.removeEventListener('abort', abort);
    }
  }
}
