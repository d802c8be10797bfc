import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditTimestamp } from '../../src/governance/audit.js';

describe('auditTimestamp', () => {
  it('is exactly toISOString for any instant, in any order of calls (the per-second prefix is remembered)', () => {
    // Instants from 1970 to the year 9999, and runs of nearby instants that share or cross a second.
    const instant = fc.integer({ min: 0, max: 253_402_300_799_999 });
    fc.assert(
      fc.property(fc.array(fc.oneof(instant, instant.map((ms) => ms - (ms % 1000) + 999)), { minLength: 1, maxLength: 20 }), (times) => {
        for (const ms of times) {
          expect(auditTimestamp(ms)).toBe(new Date(ms).toISOString());
          expect(auditTimestamp(ms + 1)).toBe(new Date(ms + 1).toISOString());
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('stamps the current time by default', () => {
    const before = Date.now();
    const stamp = Date.parse(auditTimestamp());
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });
});
