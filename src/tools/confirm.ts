import { z } from 'zod';

/**
 * The two fields every CRITICAL deploy/delete/remove tool declares (DESIGN.md §2). The pipeline, not the tool,
 * acts on them: dry_run → describe and stop (no quota); no confirm → `confirmation_required`.
 */
export const confirmFields = {
  dry_run: z.boolean().optional().describe('true: describe what would happen and change nothing (uses no quota)'),
  confirm: z.boolean().optional().describe('Must be true to perform this destructive or deploying action'),
};
