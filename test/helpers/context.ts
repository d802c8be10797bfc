import pino from 'pino';
import type { Config } from '../../src/config.js';
import type { HubDeps } from '../../src/deps.js';
import { MemoryOperationStore } from '../../src/tools/operations.js';
import type { MediaContent, ToolContext, ToolDefinition } from '../../src/tools/types.js';

const unavailable = (what: string) => () => {
  throw new Error(`${what} is not available in this adapter test; pass deps to toolContext()`);
};

/** A ToolContext for calling a tool's run() directly in adapter tests (the pipeline is tested separately). */
export function toolContext(config: Config, overrides: Partial<ToolContext> = {}): ToolContext & { media: MediaContent[] } {
  const media: MediaContent[] = [];
  // Long operations (Docker pull/build/push) keep their state here; the same store a hub without Redis uses.
  const operations = new MemoryOperationStore();
  const deps: HubDeps = {
    get quota(): never {
      return unavailable('quota store')();
    },
    get audit(): never {
      return unavailable('audit store')();
    },
    get events(): never {
      return unavailable('MCP event store')();
    },
    operations,
    get approvals(): never {
      return unavailable('approval store')();
    },
    get failedAuth(): never {
      return unavailable('failed-key limiter')();
    },
    get sessions(): never {
      return unavailable('MCP session store')();
    },
    intelligence: unavailable('intelligence store') as HubDeps['intelligence'],
    close: async () => {},
  } as HubDeps;
  return {
    config,
    deps,
    log: pino({ level: 'silent' }),
    signal: AbortSignal.timeout(config.toolWaitMs),
    deadline: Date.now() + config.toolWaitMs,
    principal: 'key:test',
    callId: 'call-test',
    attach: (m) => media.push(m),
    media,
    ...overrides,
  };
}

/** Validates with the tool's own zod schema (as the pipeline does), then runs it. */
export async function runTool(tool: ToolDefinition, args: unknown, ctx: ToolContext): Promise<Record<string, unknown>> {
  return tool.run(tool.input.parse(args), ctx);
}
