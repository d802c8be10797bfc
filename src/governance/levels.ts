/** Governance levels, lowest first: every tool has one, and a level's rank orders quotas, scopes and approvals. */
export const LEVELS = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

/** Calls per hour per level when GOVERNANCE_LIMITS does not say otherwise. */
export const DEFAULT_LIMITS: Record<Level, number> = { LOW: 1000, MEDIUM: 100, HIGH: 30, CRITICAL: 10 };

/** Who approves a gated (deploy/delete/remove) call: a person on the hub, the model with `confirm: true`, or nobody. */
export const APPROVAL_POLICIES = ['person', 'model', 'off'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];
/** CRITICAL gated calls need a person; a gated tool moved to a lower level keeps the model's `confirm: true`. */
export const DEFAULT_APPROVAL: Record<Level, ApprovalPolicy> = { LOW: 'model', MEDIUM: 'model', HIGH: 'model', CRITICAL: 'person' };
