import { HubError } from '../../tools/errors.js';

/**
 * Ids and ranges from tool arguments become URL path segments. A segment that is "." or ".." is not literal in a
 * URL: the WHATWG URL parser (and so `fetch`) resolves it, and so does it for the percent-encoded forms ("%2E",
 * ".%2e", "%2E%2E"...), so encoding cannot keep it literal. Such values are refused instead: in the zod schemas (a
 * 400 naming the field) and again here, where every path is built, for values that do not come from a schema.
 */

const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

export const DOT_SEGMENT_MESSAGE = 'must not be "." or "..": it would be resolved as a relative URL path, not sent as an id';

/** True for a value that a URL would resolve instead of sending ("." and ".."). */
export const isDotSegment = (value: string): boolean => value === '.' || value === '..';

/** One path segment: percent-encoded ('/', '#', '?', '@', spaces stay inside the segment), never "." or "..". */
export function pathSegment(value: string): string {
  if (isDotSegment(value)) throw new HubError('invalid_arguments', `path parameter ${JSON.stringify(value)} ${DOT_SEGMENT_MESSAGE}`);
  return encodeURIComponent(value);
}

/** Refuses a whole path with a dot segment (raw or percent-encoded): the last guard before a request is sent. */
export function assertNoDotSegments(path: string): void {
  const bad = path.split('?', 1)[0]!.split('/').find((s) => DOT_SEGMENT.test(s));
  if (bad !== undefined) throw new HubError('invalid_arguments', `request path has a "${bad}" segment: path parameters ${DOT_SEGMENT_MESSAGE}`);
}
