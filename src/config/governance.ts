import path from 'node:path';
import { z } from 'zod';
import { APPROVAL_POLICIES, DEFAULT_APPROVAL, DEFAULT_LIMITS, LEVELS, type ApprovalPolicy, type Level } from '../governance/levels.js';
import { fail, jsonText, positiveInt, type Vars } from './fields.js';

const perLevel = <T extends z.ZodType>(value: T) => z.object({ LOW: value, MEDIUM: value, HIGH: value, CRITICAL: value }).partial();

const override = z
  .object({
    level: z.enum(LEVELS).optional(),
    limit: z.number().int().nonnegative().optional(),
    enabled: z.boolean().optional(),
    approval: z.enum(APPROVAL_POLICIES).optional(),
  })
  .strict();

const approvalByLevel = jsonText(perLevel(z.enum(APPROVAL_POLICIES)).strict(), 'APPROVAL');

/** APPROVAL: one policy (for CRITICAL, the level that asks by default) or a JSON object per level. */
const approvalSetting = z.string().transform((text, ctx): Partial<Record<Level, ApprovalPolicy>> => {
  const word = text.trim();
  if ((APPROVAL_POLICIES as readonly string[]).includes(word)) return { CRITICAL: word as ApprovalPolicy };
  if (!word.startsWith('{')) return fail(ctx, 'must be person, model, off or a JSON object per level such as {"CRITICAL":"person","HIGH":"model"}');
  const parsed = approvalByLevel.safeParse(word);
  return parsed.success ? parsed.data : fail(ctx, parsed.error.issues[0]?.message ?? 'is invalid');
});

/** Quotas, approvals and the audit trail. */
export const governanceVars = {
  GOVERNANCE_MODE: z.enum(['enforce', 'warn']).default('enforce'),
  GOVERNANCE_LIMITS: jsonText(perLevel(z.number().int().nonnegative()), 'GOVERNANCE_LIMITS').optional(),
  GOVERNANCE_OVERRIDES: jsonText(z.record(z.string(), override), 'GOVERNANCE_OVERRIDES').default({}),
  GOVERNANCE_SCOPE: z.enum(['global', 'key']).default('global'),
  QUOTA_STORE_FAILURE: z.enum(['open', 'closed', 'closed-for-high']).default('closed-for-high'),
  APPROVAL: approvalSetting.optional(),
  APPROVAL_TTL_S: z.coerce.number().int().min(30).max(86_400).default(600),
  REFUSED_CALLS_PER_MINUTE: positiveInt.default(120),
  AUDIT_CAP: positiveInt.default(10_000),
  AUDIT_REFUSED_CAP: positiveInt.default(2_000),
  AUDIT_QUEUE_MAX: positiveInt.optional(),
  AUDIT_SPILL_MAX_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  AUDIT_FAILURE: z.enum(['refuse', 'drop']).default('refuse'),
  AUDIT_LOG: z.enum(['on', 'off']).default('on'),
};

export function governanceConfig(e: Vars<typeof governanceVars> & { DATA_DIR: string }) {
  return {
    governance: {
      mode: e.GOVERNANCE_MODE,
      limits: { ...DEFAULT_LIMITS, ...e.GOVERNANCE_LIMITS },
      overrides: e.GOVERNANCE_OVERRIDES,
      scope: e.GOVERNANCE_SCOPE,
      failurePolicy: e.QUOTA_STORE_FAILURE,
      /** Who approves gated calls at each level (APPROVAL); a tool's `approval` override wins. */
      approval: { ...DEFAULT_APPROVAL, ...e.APPROVAL },
      /** How long an approval may be answered and then used (APPROVAL_TTL_S, in ms). */
      approvalTtlMs: e.APPROVAL_TTL_S * 1000,
    },
    /** Refused calls (unknown tool, invalid arguments, denials) one principal may make per minute before `rate_limited`. */
    refusedCallsPerMinute: e.REFUSED_CALLS_PER_MINUTE,
    auditCap: e.AUDIT_CAP,
    /** Records of refused (not executed) calls kept apart from executed ones, so refusals cannot evict them. */
    auditRefusedCap: e.AUDIT_REFUSED_CAP,
    /**
     * Audit durability with Redis: records held in memory while Redis cannot take them (`queueMax`), then an append-only
     * spill under `spillDir` of at most `spillMaxBytes` (0: no spill), replayed in order; when both are full `failure`
     * decides (`refuse` calls above LOW, or `drop` records). `log`: every record also as one `type: "audit"` log line.
     */
    audit: {
      queueMax: e.AUDIT_QUEUE_MAX ?? Math.min(e.AUDIT_CAP, 10_000),
      spillDir: path.resolve(e.DATA_DIR, 'audit-spill'),
      spillMaxBytes: e.AUDIT_SPILL_MAX_BYTES,
      failure: e.AUDIT_FAILURE,
      log: e.AUDIT_LOG === 'on',
    },
  };
}
