import { z } from 'zod';
import { APPROVAL_ID } from '../governance/approvals.js';

/**
 * The fields every CRITICAL deploy/delete/remove tool declares. The pipeline, not the tool, acts on
 * them: dry_run → describe and stop (no quota); then the approval policy (APPROVAL): `model` needs confirm: true,
 * `person` needs the approval_id of an approval a person gave on the hub (src/tools/approval.ts).
 */
export const confirmFields = {
  dry_run: z.boolean().optional().describe('true: describe what would happen and change nothing (uses no quota)'),
  confirm: z.boolean().optional().describe('true to perform this destructive or deploying action, where the hub lets the model confirm'),
  approval_id: z
    .string()
    .regex(APPROVAL_ID, 'must be the approval_id of an approval_required answer')
    .optional()
    .describe('The approval_id from an approval_required answer, once a person approved this exact call at its approval_url'),
};
