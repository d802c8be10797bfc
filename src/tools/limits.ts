/** Result-size helpers: GPT Actions reject bodies over 100,000 characters, so tools trim and say so. */

export const MAX_TEXT_CHARS = 20_000;
export const MAX_ITEMS = 200;

export function capText(text: string, max = MAX_TEXT_CHARS): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  return { text: `${text.slice(0, max)}…`, truncated: true };
}

export function capItems<T>(items: T[], max = MAX_ITEMS): { items: T[]; truncated: boolean } {
  if (items.length <= max) return { items, truncated: false };
  return { items: items.slice(0, max), truncated: true };
}

export interface CappedJson<T> {
  value: T;
  truncated: boolean;
  /** Characters of the value's JSON before capping. */
  originalChars: number;
  /** The JSON text of `value` (computed here anyway: callers that serialize the value reuse it). */
  json: string;
}

/** Rounds of shrinking before the last-resort preview; each round works on the previous round's (smaller) output. */
const SHRINK_ROUNDS = 12;
/** Objects with more keys than this are records (not fixed shapes): their extra keys may be dropped. */
const RECORD_KEYS = 100;

/**
 * Bounds a JSON value to `maxChars` characters of JSON while keeping its shape: long strings are cut (with a
 * "…[truncated N chars]" tail), long arrays and very wide objects lose their last entries, halving the allowance
 * each round until the JSON fits. Fixed-shape objects keep every key, so a tool's output schema still holds. If the
 * value still does not fit (only pathological shapes), it becomes `{truncated: true, preview}`.
 */
export function capJson<T>(value: T, maxChars: number): CappedJson<T> {
  let json = JSON.stringify(value) ?? 'null';
  const originalChars = json.length;
  if (originalChars <= maxChars) return { value, truncated: false, originalChars, json };
  // Plain JSON from here on (Dates and other toJSON values become what the caller would have received).
  let current: unknown = JSON.parse(json);
  let stringMax = Math.max(16, Math.floor(maxChars / 2));
  let itemMax = 1_000;
  for (let round = 0; round < SHRINK_ROUNDS; round += 1) {
    current = shrink(current, stringMax, itemMax);
    json = JSON.stringify(current) ?? 'null';
    if (json.length <= maxChars) return { value: current as T, truncated: true, originalChars, json };
    stringMax = Math.max(16, Math.floor(stringMax / 2));
    itemMax = Math.max(1, Math.floor(itemMax / 2));
  }
  const preview = json.slice(0, Math.max(0, maxChars - 200));
  const last = { truncated: true, total_chars: originalChars, preview };
  return { value: last as T, truncated: true, originalChars, json: JSON.stringify(last) };
}

function shrink(value: unknown, stringMax: number, itemMax: number): unknown {
  if (typeof value === 'string') {
    return value.length <= stringMax ? value : `${value.slice(0, stringMax)}…[truncated ${value.length - stringMax} chars]`;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, itemMax).map((v) => shrink(v, stringMax, itemMax));
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key in value) {
    if (kept >= Math.max(RECORD_KEYS, itemMax)) break;
    kept += 1;
    Object.defineProperty(out, key, { value: shrink((value as Record<string, unknown>)[key], stringMax, itemMax), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** What a truncated result says about itself (MCP `_meta` and a text note, REST `_truncated`). */
export interface ResultTruncation {
  limit_chars: number;
  total_chars: number;
  note: string;
}

/** A tool's data bounded by RESULT_MAX_CHARS, with the truncation notice when it had to be cut. */
export function capResult(data: Record<string, unknown>, maxChars: number): { data: Record<string, unknown>; json: string; truncated?: ResultTruncation } {
  const capped = capJson(data, maxChars);
  if (!capped.truncated) return { data, json: capped.json };
  return {
    data: capped.value,
    json: capped.json,
    truncated: {
      limit_chars: maxChars,
      total_chars: capped.originalChars,
      note: `result truncated: its JSON had ${capped.originalChars} characters, over the ${maxChars}-character limit (RESULT_MAX_CHARS); long texts and lists were cut, narrow the request to see the rest`,
    },
  };
}

/** Up to `max` keys of `raw` that `shape` does not declare; stops there (never lists every key of a huge object). */
export function boundedUnknownKeys(shape: Record<string, unknown>, raw: object, max: number): string[] {
  const found: string[] = [];
  for (const key in raw) {
    if (!Object.hasOwn(raw, key) || Object.hasOwn(shape, key)) continue;
    found.push(key);
    if (found.length >= max) break;
  }
  return found;
}
