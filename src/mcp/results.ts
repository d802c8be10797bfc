import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { InvokeResult } from '../tools/pipeline.js';
import type { RegisteredTool } from '../tools/registry.js';

/** The MCP tool descriptor of a registered tool (built once; tools/list returns the cached array). */
export function toMcpTool(t: RegisteredTool): Tool {
  return {
    name: t.def.name,
    title: t.def.title,
    description: t.description,
    inputSchema: t.inputSchema as Tool['inputSchema'],
    ...(t.outputSchema ? { outputSchema: t.outputSchema as Tool['outputSchema'] } : {}),
    annotations: t.annotations,
    _meta: { 'omni-hub/system': t.def.system, 'omni-hub/level': t.def.level, 'omni-hub/needs_confirmation': t.needsConfirmation },
  };
}

/**
 * One CallToolResult shape for both MCP paths (SDK transport and fast path): structuredContent plus the same JSON as
 * text; failures are `isError` results carrying `{error: {code, message, ...}}`. Keys come in the order the SDK's
 * CallToolResultSchema gives its parsed output (`_meta`, content, structuredContent, isError), so a result that needs
 * no parsing serializes exactly as the SDK transport would serialize it (see isPlainResult).
 */
export function toCallToolResult(result: InvokeResult): CallToolResult {
  const truncated = result.ok && result.truncated ? { 'omni-hub/truncated': result.truncated } : undefined;
  const meta = result.governance || truncated ? { _meta: { ...(result.governance ? { 'omni-hub/governance': result.governance } : {}), ...truncated } } : {};
  if (result.ok && result.raw) {
    // An upstream's answer, unchanged; the hub only adds its governance entry to `_meta`.
    const upstream = result.data as CallToolResult;
    return result.governance ? { ...upstream, _meta: { ...upstream._meta, ...meta._meta } } : upstream;
  }
  if (result.ok) {
    // A result cut to RESULT_MAX_CHARS says so in _meta and in a text note the model reads.
    const note = result.truncated ? [{ type: 'text' as const, text: `[${result.truncated.note}]` }] : [];
    return {
      ...meta,
      content: [{ type: 'text', text: result.json ?? JSON.stringify(result.data) }, ...note, ...result.media],
      structuredContent: result.data,
    };
  }
  const body = { error: result.error.toJSON() };
  return { ...meta, content: [{ type: 'text', text: JSON.stringify(body) }], isError: true };
}

/** The top-level keys of a CallToolResult in the order the SDK's schema outputs them. */
const RESULT_KEYS = ['_meta', 'content', 'structuredContent', 'isError'];
/** `_meta` keys the SDK's schema declares (and would move to the front). */
const DECLARED_META_KEYS = ['progressToken', 'io.modelcontextprotocol/related-task'];

/**
 * True when the SDK's CallToolResultSchema would return `result` unchanged in content and key order: the shape
 * toCallToolResult builds, with text-only content (media items would be re-ordered by the schema) and a plain
 * structuredContent object. Such a result needs no schema parse on the fast path; anything else is parsed, and the
 * parity tests compare both paths byte for byte.
 */
export function isPlainResult(result: CallToolResult): boolean {
  let at = 0;
  for (const key in result) {
    at = RESULT_KEYS.indexOf(key, at);
    if (at < 0) return false;
  }
  if (!Array.isArray(result.content)) return false;
  for (const item of result.content) {
    if (item.type !== 'text' || typeof item.text !== 'string') return false;
    let n = 0;
    for (const key in item) if (key !== (n++ === 0 ? 'type' : 'text') || n > 2) return false;
  }
  const meta = result._meta;
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || DECLARED_META_KEYS.some((k) => Object.hasOwn(meta, k)))) return false;
  if (result.isError !== undefined && typeof result.isError !== 'boolean') return false;
  const structured = result.structuredContent;
  // A record parse assigns keys one by one: an own "__proto__" key would not survive it.
  return structured === undefined || (structured !== null && typeof structured === 'object' && !Array.isArray(structured) && !Object.hasOwn(structured, '__proto__'));
}
