/**
 * Early, cheap refusal of JSON bodies shaped to burn CPU: too many entries (object keys plus array items, counted
 * over the whole body) or too deep nesting. It runs right after JSON.parse, before any zod validation, redaction or
 * dispatch, and stops at the first entry over a limit, so its own work is bounded by the limits.
 */
export interface BodyShapeLimits {
  maxKeys: number;
  maxDepth: number;
}

/** Why the value breaks a limit (naming the limit and its variable), or null when it is within both. */
export function bodyShapeViolation(value: unknown, limits: BodyShapeLimits): string | null {
  if (value === null || typeof value !== 'object') return null;
  const stack: { node: object; depth: number }[] = [{ node: value, depth: 1 }];
  let entries = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (depth > limits.maxDepth) return `the JSON body is nested deeper than ${limits.maxDepth} levels (BODY_MAX_DEPTH)`;
    if (Array.isArray(node)) {
      entries += node.length;
      if (entries > limits.maxKeys) return tooMany(limits);
      for (const item of node) if (item !== null && typeof item === 'object') stack.push({ node: item as object, depth: depth + 1 });
      continue;
    }
    // for-in stops where we stop; Object.keys would list every key first.
    for (const key in node) {
      entries += 1;
      if (entries > limits.maxKeys) return tooMany(limits);
      const item = (node as Record<string, unknown>)[key];
      if (item !== null && typeof item === 'object') stack.push({ node: item, depth: depth + 1 });
    }
  }
  return null;
}

function tooMany(limits: BodyShapeLimits): string {
  return `the JSON body has more than ${limits.maxKeys} keys and array items in total (BODY_MAX_KEYS)`;
}

/** The error the JSON parser hands Fastify: a 400 the error handler answers as `invalid_arguments`. */
export class BodyShapeError extends Error {
  readonly statusCode = 400;
  readonly code = 'OMNI_BODY_SHAPE';
}
