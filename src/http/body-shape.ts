/**
 * Early, cheap refusal of JSON bodies shaped to burn CPU: too many entries (object keys plus array items, over the
 * whole body) or too deep nesting. It scans the raw text once, before JSON.parse, zod validation, redaction or
 * dispatch, and stops at the first entry over a limit. (Walking the parsed object instead would cost more: V8 lists
 * and sorts every key of a huge object before the first for-in step.)
 */
export interface BodyShapeLimits {
  maxKeys: number;
  maxDepth: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Why the JSON text breaks a limit (naming the limit and its variable), or null when it is within both. Entries are
 * counted from the structure (`:` in objects, `,` and the first item in arrays), so an empty array counts one: a
 * conservative count is fine for a bound. Invalid JSON is left to JSON.parse to report.
 */
export function bodyShapeViolation(text: string, limits: BodyShapeLimits): string | null {
  // Innermost containers, true for arrays; never deeper than maxDepth (refused first).
  const arrays: boolean[] = [];
  let entries = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i += 1;
      else if (c === QUOTE) inString = false;
      continue;
    }
    switch (c) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (arrays.length >= limits.maxDepth) return `the JSON body is nested deeper than ${limits.maxDepth} levels (BODY_MAX_DEPTH)`;
        arrays.push(c === OPEN_ARRAY);
        if (c === OPEN_ARRAY) entries += 1;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        arrays.pop();
        break;
      case COLON:
        entries += 1;
        break;
      case COMMA:
        if (arrays.at(-1) === true) entries += 1;
        break;
      default:
        continue;
    }
    if (entries > limits.maxKeys) return `the JSON body has more than ${limits.maxKeys} keys and array items in total (BODY_MAX_KEYS)`;
  }
  return null;
}

/** The error the JSON parser hands Fastify: a 400 the error handler answers as `invalid_arguments`. */
export class BodyShapeError extends Error {
  readonly statusCode = 400;
  readonly code = 'OMNI_BODY_SHAPE';
}
