import { expect } from 'vitest';
import pino from 'pino';
import type { Config } from '../../src/config.js';
import { HubError } from '../../src/tools/errors.js';
import { MemoryOperationStore } from '../../src/tools/operations.js';
import type { MediaContent, ToolContext, ToolDefinition, ToolServices } from '../../src/tools/types.js';

/** A ToolContext for calling a tool's run() directly in adapter tests (the pipeline is tested separately). */
export function toolContext(config: Config, overrides: Partial<ToolContext> = {}): ToolContext & { media: MediaContent[] } {
  const media: MediaContent[] = [];
  // Long operations (Docker pull/build/push) keep their state here; the same store a hub without Redis uses.
  const operations = new MemoryOperationStore();
  const services: ToolServices = {
    operations,
    intelligence: () => Promise.reject(new Error('the intelligence store is not available in this adapter test; pass services to toolContext()')),
  };
  return {
    config,
    services,
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

/** The HubError a call that must fail rejects with (the test fails if it resolves, or rejects with anything else). */
export async function failure(p: Promise<unknown>): Promise<HubError> {
  const err = await p.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}
