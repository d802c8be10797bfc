/**
 * The plain JSON-RPC requests the hub recognises without the SDK's schemas: the era classification of every POST /mcp
 * (src/http/mcp-request.ts) and the fast paths (fast-path.ts) check the same shapes, with these pieces.
 */

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every own key of `o` is declared in `allowed` (boundedUnknownKeys finding none, without building its list: this runs on every request). */
export function onlyKeys(o: Json, allowed: Readonly<Record<string, true>>): boolean {
  for (const k in o) if (Object.hasOwn(o, k) && !Object.hasOwn(allowed, k)) return false;
  return true;
}

/** The keys of a JSON-RPC request. */
export const REQUEST_KEYS = { jsonrpc: true, id: true, method: true, params: true } as const;

/** The `_meta` keys of a plain 2026-07-28 request's envelope; any other entry (progress, a log level...) makes it not plain. */
export const MODERN_ENVELOPE_KEYS = {
  'io.modelcontextprotocol/protocolVersion': true,
  'io.modelcontextprotocol/clientCapabilities': true,
  'io.modelcontextprotocol/clientInfo': true,
} as const;

export const MODERN_VERSION = '2026-07-28';
