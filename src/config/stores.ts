import { z } from 'zod';
import type { Vars } from './fields.js';

/** Where state lives: Redis for what instances share, PostgreSQL or DATA_DIR for the Intelligence store. */
export const storeVars = {
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
};

export function storeConfig(e: Vars<typeof storeVars>) {
  return { redisUrl: e.REDIS_URL, databaseUrl: e.DATABASE_URL, dataDir: e.DATA_DIR };
}
