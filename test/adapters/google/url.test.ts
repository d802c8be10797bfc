import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGoogleUrl, type GoogleQuery } from '../../../src/adapters/google/rest.js';

/** What buildGoogleUrl means: the parsed path, then each query entry set (or appended, for arrays) on its search. */
function reference(base: string, path: string, query: GoogleQuery): string {
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item);
    else url.searchParams.set(k, String(v));
  }
  return url.href;
}

describe('buildGoogleUrl', () => {
  it('serializes any query exactly as setting it on the parsed URL would (one parse instead of one per parameter)', () => {
    // Names and values from all of Unicode, reserved URL characters included; some values absent or repeated.
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const value = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(undefined), fc.array(text, { maxLength: 3 }));
    const path = fc.constantFrom('/maps/api/geocode/json', '/v1/x', '/drive/v3/files?fields=id', '/drive/v3/files?fields=id&q=a');
    fc.assert(
      fc.property(path, fc.dictionary(text, value, { maxKeys: 5 }), (p, query) => {
        expect(buildGoogleUrl('http://127.0.0.1:1', p, query as GoogleQuery).href).toBe(reference('http://127.0.0.1:1', p, query as GoogleQuery));
      }),
      { numRuns: 2_000 },
    );
  });

  it('adds no "?" when every query value is absent', () => {
    expect(buildGoogleUrl('http://127.0.0.1:1', '/v1/x', { a: undefined, b: [] }).href).toBe('http://127.0.0.1:1/v1/x');
  });
});
