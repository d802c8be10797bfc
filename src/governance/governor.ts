import type { Config, GovernanceConfig } from '../config.js';
import type { ApprovalPolicy, Level } from './levels.js';
import { HubError } from '../tools/errors.js';
import { LinkedEntries, type Linked } from '../tools/linked-entries.js';
import type { SystemId } from '../tools/types.js';
import { HOUR_MS, type QuotaDecision, type QuotaStore } from './quota-store.js';

/** What the governor needs to know about a tool (a ToolDefinition fits). */
export interface GovernedTool {
  name: string;
  level: Level;
  system?: SystemId;
}

export interface Rule {
  level: Level;
  limit: number;
  enabled: boolean;
  /** Who approves the tool's gated calls (tools with describeAction): APPROVAL per level, or the tool's override. */
  approval: ApprovalPolicy;
}

export interface Admission {
  allowed: boolean;
  quota?: QuotaDecision;
  /** The store could not be asked and the failure policy let the call through unaccounted. */
  degraded?: boolean;
  warning?: string;
  error?: HubError;
}

export interface ToolUsage {
  name: string;
  system: SystemId | null;
  level: Level;
  limit: number;
  /** Null when the store cannot answer (or, in key scope, when no principal is given). */
  used: number | null;
  remaining: number | null;
  reset_s: number | null;
  enabled: boolean;
}

export interface GovernorOptions {
  /** The rolling window (default one hour; tests shorten it). */
  windowMs?: number;
  /** A store that has not answered by then counts as down (default 2 s; checked every quarter of it, at most every 250 ms). */
  storeDeadlineMs?: number;
}

const HIGH_LEVELS: ReadonlySet<Level> = new Set(['HIGH', 'CRITICAL']);

/** A call waiting for the quota store, rejected by the sweep once `due` has passed. */
interface Waiting extends Linked<Waiting> {
  due: number;
  reject(err: HubError): void;
}

/** A tool's effective level, hourly limit and switch after GOVERNANCE_LIMITS and GOVERNANCE_OVERRIDES. */
export function ruleFor(tool: GovernedTool, g: GovernanceConfig): Rule {
  const override = Object.hasOwn(g.overrides, tool.name) ? g.overrides[tool.name] : undefined;
  // A level override alone moves the tool to that level's default limit.
  const level = override?.level ?? tool.level;
  return { level, limit: override?.limit ?? g.limits[level], enabled: override?.enabled ?? true, approval: override?.approval ?? g.approval[level] };
}

/** Applies levels, limits and overrides, asks the quota store, and turns its answer (or failure) into an admission. */
export class Governor {
  private readonly windowMs: number;
  private readonly storeDeadlineMs: number;

  constructor(
    private readonly config: Config,
    private readonly store: QuotaStore,
    options: GovernorOptions = {},
  ) {
    this.windowMs = options.windowMs ?? HOUR_MS;
    this.storeDeadlineMs = options.storeDeadlineMs ?? 2_000;
  }

  rule(tool: GovernedTool): Rule {
    return ruleFor(tool, this.config.governance);
  }

  /** The counter key: one budget per tool, or per tool and API key in `key` scope. */
  quotaKey(tool: GovernedTool, principal: string): string {
    return this.config.governance.scope === 'key' ? `${tool.name}|${principal}` : tool.name;
  }

  /** `rule` is the tool's rule when the caller already worked it out (the pipeline has, to answer disabled tools). */
  async admit(tool: GovernedTool, principal: string, rule: Rule = this.rule(tool)): Promise<Admission> {
    if (!rule.enabled) {
      return { allowed: false, error: new HubError('tool_disabled', `${tool.name} is disabled by GOVERNANCE_OVERRIDES`) };
    }
    const warn = this.config.governance.mode === 'warn';
    // In warn mode calls over the limit still run, so they are recorded too (up to a bound that keeps the log small).
    const recordLimit = warn ? Math.max(rule.limit * 10, rule.limit + 100) : rule.limit;
    let taken: QuotaDecision;
    try {
      taken = await this.ask(this.store.take(this.quotaKey(tool, principal), recordLimit, this.windowMs));
    } catch (err) {
      return this.storeDown(tool, rule, err);
    }
    const quota = warn ? this.asWarnDecision(taken, rule.limit) : taken;
    if (warn) {
      if (taken.used > rule.limit || !taken.allowed) {
        return {
          allowed: true,
          quota,
          warning: `${tool.name} is over its quota: ${taken.used} calls in the last hour, limit ${rule.limit} (${rule.level}); allowed because GOVERNANCE_MODE=warn`,
        };
      }
      return { allowed: true, quota };
    }
    if (taken.allowed) return { allowed: true, quota };
    return {
      allowed: false,
      quota,
      error: new HubError(
        'quota_exceeded',
        `${tool.name} is over its hourly quota: ${rule.limit} calls per rolling hour (${rule.level}); retry in ${quota.retry_after_s} s`,
        { limit: rule.limit, window_s: this.windowMs / 1000, retry_after_s: quota.retry_after_s, used: quota.used, reset_s: quota.reset_s, level: rule.level },
      ),
    };
  }

  /** Live usage per tool for GET /v1/governance; a store failure gives nulls, never a throw. */
  async usage(tools: readonly GovernedTool[], principal?: string): Promise<ToolUsage[]> {
    const keyScope = this.config.governance.scope === 'key';
    return Promise.all(
      tools.map(async (tool): Promise<ToolUsage> => {
        const rule = this.rule(tool);
        const base = { name: tool.name, system: tool.system ?? null, level: rule.level, limit: rule.limit, enabled: rule.enabled };
        if (keyScope && principal === undefined) return { ...base, used: null, remaining: null, reset_s: null };
        try {
          const q = await this.ask(this.store.peek(this.quotaKey(tool, principal ?? ''), rule.limit, this.windowMs));
          return { ...base, used: q.used, remaining: q.remaining, reset_s: q.reset_s };
        } catch {
          return { ...base, used: null, remaining: null, reset_s: null };
        }
      }),
    );
  }

  /** Rejects with governance_unavailable if the store has not answered in time (its own timeouts should fire first). */
  private ask<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting = this.waiting.push({ due: Date.now() + this.storeDeadlineMs, reject, prev: undefined, next: undefined });
      // One sweep timer for all waiting calls, not one timer per call: admission is on every call's path.
      this.sweeper ??= setInterval(this.sweep, Math.max(10, Math.min(250, this.storeDeadlineMs / 4))).unref();
      promise.then(
        (v) => {
          this.waiting.remove(waiting);
          resolve(v);
        },
        (err: unknown) => {
          this.waiting.remove(waiting);
          reject(err);
        },
      );
    });
  }

  /** Calls waiting for the store (every call's admission passes through here: a linked list, not a Set). */
  private readonly waiting = new LinkedEntries<Waiting>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweep = (): void => {
    const now = Date.now();
    for (let w = this.waiting.head; w; ) {
      const next = w.next;
      if (w.due <= now) {
        this.waiting.remove(w);
        w.reject(new HubError('governance_unavailable', `quota store (${this.store.kind}) did not answer within ${this.storeDeadlineMs} ms`));
      }
      w = next;
    }
    if (!this.waiting.head) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  };

  private asWarnDecision(taken: QuotaDecision, limit: number): QuotaDecision {
    return { ...taken, allowed: true, limit, remaining: Math.max(0, limit - taken.used), retry_after_s: 0 };
  }

  private storeDown(tool: GovernedTool, rule: Rule, err: unknown): Admission {
    const policy = this.config.governance.failurePolicy;
    const reason = err instanceof Error ? err.message : String(err);
    const refuse = policy === 'closed' || (policy === 'closed-for-high' && HIGH_LEVELS.has(rule.level));
    if (refuse) {
      return {
        allowed: false,
        degraded: true,
        error: new HubError(
          'governance_unavailable',
          `the quota store is unavailable and QUOTA_STORE_FAILURE=${policy} refuses ${rule.level} calls; try again shortly`,
          // `cause` names which store failed, in the words MCP gateway clients match on; `code` stays the documented one.
          { cause: 'quota_store_unavailable', policy, level: rule.level, store: this.store.kind, reason, retry_after_s: 5 },
        ),
      };
    }
    return {
      allowed: true,
      degraded: true,
      warning: `quota store unavailable: ${tool.name} (${rule.level}) allowed without quota accounting (QUOTA_STORE_FAILURE=${policy})`,
    };
  }
}
