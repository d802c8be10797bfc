import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../../src/tools/types.js';

/**
 * `count` cheap LOW tools shaped like real ones (a few described fields, an output schema) so tools/list and the
 * registry grow the way they would with more adapters. Used only for the cost curve of the benchmark.
 */
export function syntheticTools(count: number): ToolDefinition[] {
  return Array.from({ length: count }, (_, i) =>
    defineTool({
      name: `synthetic_tool_${String(i).padStart(4, '0')}`,
      system: 'connector',
      title: `Synthetic ${i}`,
      description: `Benchmark-only tool number ${i}: returns its query and limit. Exists to grow the catalog.`,
      level: 'LOW',
      input: z.object({
        query: z.string().max(500).describe('Search text'),
        limit: z.number().int().min(1).max(100).default(10).describe('Maximum number of results'),
        region: z.enum(['us', 'eu', 'asia']).default('us').describe('Where to look'),
      }),
      output: z.object({ query: z.string(), limit: z.number() }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      run: async (args) => ({ query: args.query, limit: args.limit }),
    }),
  );
}
