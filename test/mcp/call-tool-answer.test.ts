import { specTypeSchemas } from '@modelcontextprotocol/server';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callToolAnswer, toCallToolResult } from '../../src/mcp/results.js';
import { HubError } from '../../src/tools/errors.js';
import { capResult } from '../../src/tools/limits.js';
import type { InvokeResult } from '../../src/tools/pipeline.js';

/** What the SDK transport sends for a 2025 tools/call: the handler's result parsed by its CallToolResult schema, then stringified. */
const sdkAnswer = (result: InvokeResult, id: string | number) => {
  const parsed = specTypeSchemas.CallToolResult['~standard'].validate(toCallToolResult(result));
  if ('then' in parsed || parsed.issues !== undefined) throw new Error('the SDK refuses this result');
  return JSON.stringify({ result: parsed.value, jsonrpc: '2.0', id });
};

const governance = fc.option(
  fc.record(
    {
      level: fc.constantFrom('LOW', 'MEDIUM', 'HIGH', 'CRITICAL'),
      quota: fc.record({ used: fc.nat(), limit: fc.nat(), remaining: fc.nat(), reset_s: fc.nat() }),
      degraded: fc.option(fc.boolean(), { nil: undefined }),
      warning: fc.option(fc.string(), { nil: undefined }),
    },
    { requiredKeys: ['level'] },
  ),
  { nil: undefined },
);
const id = fc.oneof(fc.string(), fc.integer());
// fast-check sometimes draws a "__proto__" key: such data is left to the general path (last test), not compared here.
const data = fc.dictionary(fc.string(), fc.jsonValue()).filter((d) => !Object.hasOwn(d, '__proto__'));

describe('callToolAnswer: the fast path answer text, with the data serialized once', () => {
  it('equals what the SDK transport sends for any successful result (capped or not)', () => {
    fc.assert(
      fc.property(data, governance, id, fc.integer({ min: 20, max: 400 }), (value, gov, rid, max) => {
        const capped = capResult(value, max);
        const result: InvokeResult = { ok: true, ...capped, media: [], governance: gov, callId: 'c' };
        expect(callToolAnswer(result, rid)).toBe(sdkAnswer(result, rid));
        // Without the JSON the cap computed, it serializes the data itself: same text.
        expect(callToolAnswer({ ...result, json: undefined }, rid)).toBe(sdkAnswer(result, rid));
      }),
      { numRuns: 300 },
    );
  });

  it('equals what the SDK transport sends for any failure', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string(), fc.jsonValue()), governance, id, (message, details, gov, rid) => {
        const result: InvokeResult = { ok: false, error: new HubError('upstream_error', message, details), governance: gov, callId: 'c' };
        expect(callToolAnswer(result, rid)).toBe(sdkAnswer(result, rid));
      }),
      { numRuns: 200 },
    );
  });

  it('leaves media, upstream results and a "__proto__" data key to the general path', () => {
    const media: InvokeResult = { ok: true, data: {}, media: [{ type: 'image', data: 'AA==', mimeType: 'image/png' }], callId: 'c' };
    expect(callToolAnswer(media, 1)).toBeNull();
    expect(callToolAnswer({ ok: true, data: { content: [] }, media: [], raw: true, callId: 'c' }, 1)).toBeNull();
    expect(callToolAnswer({ ok: true, data: JSON.parse('{"__proto__": 1}') as Record<string, unknown>, media: [], callId: 'c' }, 1)).toBeNull();
  });
});
