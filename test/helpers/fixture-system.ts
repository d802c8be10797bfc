import { z } from 'zod';
import type { Config } from '../../src/config.js';
import { HubError } from '../../src/tools/errors.js';
import { confirmFields } from '../../src/tools/confirm.js';
import { defineTool, type SystemDefinition } from '../../src/tools/types.js';

/**
 * A small system for testing the pipeline and surfaces without any upstream: its tools compute their answer locally
 * (echo, sum) or fail on purpose. It is registered under the `connector` id only because SystemDefinition needs a
 * known id; tests pass it to buildApp via `options.systems`.
 */
export const fixtureTools = [
  defineTool({
    name: 'fixture_echo',
    system: 'connector',
    title: 'Echo',
    description: 'Returns its message, upper-cased, and its length.',
    level: 'LOW',
    input: z.object({
      message: z.string().max(1000).describe('Text to echo'),
      repeat: z.number().int().min(1).max(3).default(1).describe('How many times'),
      api_key: z.string().optional().describe('A secret-named field: the audit must redact it'),
    }),
    output: z.object({ echo: z.string(), length: z.number() }),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    run: async (args) => ({ echo: args.message.toUpperCase().repeat(args.repeat), length: args.message.length }),
  }),
  defineTool({
    name: 'fixture_fail',
    system: 'connector',
    title: 'Fail',
    description: 'Always fails like an upstream 503 would.',
    level: 'MEDIUM',
    input: z.object({ reason: z.string().max(100).default('down').describe('Failure message') }),
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: async (args) => {
      throw new HubError('upstream_error', `upstream said: ${args.reason}`, { upstream_status: 503 });
    },
  }),
  defineTool({
    name: 'fixture_delete',
    system: 'connector',
    title: 'Delete a thing',
    description: 'A CRITICAL destructive tool: needs confirm.',
    level: 'CRITICAL',
    input: z.object({ thing: z.string().max(100).describe('Thing to delete'), ...confirmFields }),
    annotations: { destructiveHint: true, openWorldHint: false },
    describeAction: (args) => `delete the thing "${args.thing}"`,
    run: async (args) => ({ deleted: args.thing }),
  }),
  defineTool({
    name: 'fixture_media',
    system: 'connector',
    title: 'Media',
    description: 'Returns that many bytes of WAV-typed audio as binary content.',
    level: 'LOW',
    input: z.object({ bytes: z.number().int().min(1).max(200_000).describe('Size of the audio in bytes') }),
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: async (args, ctx) => {
      ctx.attach({ type: 'audio', mimeType: 'audio/wav', data: Buffer.alloc(args.bytes, 7).toString('base64') });
      return { bytes: args.bytes };
    },
  }),
  defineTool({
    name: 'fixture_slow',
    system: 'connector',
    title: 'Slow',
    description: 'Waits the given milliseconds (or until aborted), then answers.',
    level: 'LOW',
    input: z.object({ ms: z.number().int().min(0).max(60_000).describe('How long to wait') }),
    annotations: { readOnlyHint: true, openWorldHint: false },
    run: (args, ctx) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve({ waited_ms: args.ms }), args.ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new HubError('timeout', 'aborted while waiting'));
        });
      }),
  }),
];

export const fixtureSystem: SystemDefinition = {
  id: 'connector',
  title: 'Fixture',
  tools: fixtureTools,
  missingConfig: () => null,
  check: async () => ({ state: 'connected', detail: 'local' }),
};

/** A system whose credential is never set: its tool must answer not_configured. */
export const unconfiguredSystem: SystemDefinition = {
  id: 'github',
  title: 'Unconfigured',
  tools: [
    defineTool({
      name: 'fixture_needs_token',
      system: 'github',
      title: 'Needs a token',
      description: 'Needs FIXTURE_TOKEN.',
      level: 'LOW',
      input: z.object({}),
      annotations: { readOnlyHint: true },
      run: async () => ({ reached: true }),
    }),
  ],
  missingConfig: (_config: Config) => 'FIXTURE_TOKEN',
  check: async () => ({ state: 'needs', variable: 'FIXTURE_TOKEN' }),
};
