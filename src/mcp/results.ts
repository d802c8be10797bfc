import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
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
    _meta: { ...t.def.mcpMeta, 'omni-hub/system': t.def.system, 'omni-hub/level': t.def.level, 'omni-hub/needs_confirmation': t.needsConfirmation },
  };
}

/**
 * One CallToolResult shape for both MCP paths (SDK transport and fast path): structuredContent plus the same JSON as
 * text; failures are `isError` results carrying `{error: {code, message, ...}}`. Keys come in the order the SDK's
 * CallToolResultSchema gives its parsed output (`_meta`, content, structuredContent, isError), so a result that needs
 * no parsing serializes exactly as the SDK transport would serialize it (see callToolAnswer).
 */
export function toCallToolResult(result: InvokeResult): CallToolResult {
  const meta = resultMeta(result);
  if (result.ok && result.raw) {
    // An upstream's answer, unchanged; the hub only adds its governance entry to `_meta`.
    const upstream = result.data as CallToolResult;
    return result.governance ? { ...upstream, _meta: { ...upstream._meta, ...meta } } : upstream;
  }
  // Built by assignment rather than spreads: this runs on every MCP call.
  if (result.ok) {
    const content: CallToolResult['content'] = [{ type: 'text', text: result.json ?? JSON.stringify(result.data) }];
    // A result cut to RESULT_MAX_CHARS says so in _meta and in a text note the model reads.
    if (result.truncated) content.push({ type: 'text', text: `[${result.truncated.note}]` });
    for (const m of result.media) content.push(m);
    return meta ? { _meta: meta, content, structuredContent: result.data } : { content, structuredContent: result.data };
  }
  const content: CallToolResult['content'] = [{ type: 'text', text: JSON.stringify({ error: result.error.toJSON() }) }];
  return meta ? { _meta: meta, content, isError: true } : { content, isError: true };
}

/** The hub's `_meta` entries of a result: its governance and, when it was cut, the truncation notice. */
function resultMeta(result: InvokeResult): Record<string, unknown> | undefined {
  const truncated = result.ok ? result.truncated : undefined;
  if (!result.governance && !truncated) return undefined;
  const meta: Record<string, unknown> = {};
  if (result.governance) meta['omni-hub/governance'] = result.governance;
  if (truncated) meta['omni-hub/truncated'] = truncated;
  return meta;
}

/**
 * The JSON-RPC answer text of a `tools/call`, exactly `JSON.stringify({result: toCallToolResult(result), jsonrpc,
 * id})`, but without serializing the data again for structuredContent: a success's first text content is the data's
 * JSON (already computed by the result cap), and structuredContent reuses it. Only for the shapes the SDK's
 * CallToolResultSchema passes through unchanged (text content only): a result with media or an upstream's raw result
 * gives null, and the caller builds and checks it the general way.
 */
export function callToolAnswer(result: InvokeResult, id: string | number, modern?: ModernResultMeta): string | null {
  if (result.ok && (result.raw || result.media.length > 0 || Object.hasOwn(result.data, '__proto__'))) return null;
  const r = toCallToolResult(result);
  let out = '{"result":{';
  if (r._meta) out += `"_meta":${modern ? withServerInfo(r._meta, modern) : JSON.stringify(r._meta)},`;
  out += `"content":${JSON.stringify(r.content)}`;
  if (result.ok) out += `,"structuredContent":${(r.content[0] as { text: string }).text}`;
  if (r.isError) out += ',"isError":true';
  if (modern) out += r._meta ? ',"resultType":"complete"' : `,"resultType":"complete","_meta":${withServerInfo({}, modern)}`;
  return `${out}},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
}

/**
 * What the SDK's 2026-07-28 encoding adds to a result: `resultType` after the result's own fields, and the server's
 * identity under `key` in `_meta` (after the result's own `_meta` entries; a `_meta` the result lacked goes last).
 * `entry` is that identity as JSON (`"key":{...}`), serialized once per process rather than on every answer.
 */
export interface ModernResultMeta {
  key: string;
  serverInfo: unknown;
  entry: string;
}

export function modernResultMeta(key: string, serverInfo: unknown): ModernResultMeta {
  return { key, serverInfo, entry: `${JSON.stringify(key)}:${JSON.stringify(serverInfo)}` };
}

/** `JSON.stringify({...meta, [modern.key]: modern.serverInfo})`, with the identity's JSON made once. */
function withServerInfo(meta: Record<string, unknown>, modern: ModernResultMeta): string {
  if (Object.hasOwn(meta, modern.key)) return JSON.stringify({ ...meta, [modern.key]: modern.serverInfo });
  const own = JSON.stringify(meta);
  return own === '{}' ? `{${modern.entry}}` : `${own.slice(0, -1)},${modern.entry}}`;
}

/** A 2026-07-28 result as the SDK encodes it: see ModernResultMeta. */
export function toModernResult(result: CallToolResult, modern: ModernResultMeta): Record<string, unknown> {
  const meta = JSON.parse(withServerInfo(result._meta ?? {}, modern)) as Record<string, unknown>;
  return result._meta ? { ...result, _meta: meta, resultType: 'complete' } : { ...result, resultType: 'complete', _meta: meta };
}
