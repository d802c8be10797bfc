import { describe, expect, it } from 'vitest';
import { toFtsQuery } from '../../../src/adapters/intelligence/fts-query.js';

describe('toFtsQuery (web-search syntax → FTS5)', () => {
  it('ANDs quoted words and drops English stop words', () => {
    expect(toFtsQuery('Cloud Run the deploy')).toBe('"cloud" AND "run" AND "deploy"');
    expect(toFtsQuery('the and of')).toBeNull();
    expect(toFtsQuery('   ')).toBeNull();
  });

  it('keeps quoted phrases, joins terms around `or`, and excludes `-terms`', () => {
    expect(toFtsQuery('"blue green deployment"')).toBe('"blue green deployment"');
    expect(toFtsQuery('canary or gemini')).toBe('("canary" OR "gemini")');
    expect(toFtsQuery('api canary OR gemini')).toBe('"api" AND ("canary" OR "gemini")');
    expect(toFtsQuery('deployment -canary -"blue green"')).toBe('(("deployment") NOT "canary") NOT "blue green"');
    expect(toFtsQuery('-staging')).toBeNull();
    expect(toFtsQuery('or deploy or')).toBe('"deploy"');
  });

  it('never passes FTS5 syntax through: operators, column filters, prefixes and stray quotes become plain tokens', () => {
    expect(toFtsQuery('title:secret NEAR(a b) foo* ^bar')).toBe('"title secret" AND "near" AND "b" AND "foo" AND "bar"');
    expect(toFtsQuery('"unterminated phrase')).toBe('"unterminated phrase"');
    expect(toFtsQuery('zzyzx-unmatched')).toBe('"zzyzx unmatched"');
    expect(toFtsQuery('Ünïcode café 東京')).toBe('"ünïcode" AND "café" AND "東京"');
  });
});
