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
 * text; failures are `isError` results carrying `{error: {code, message, ...}}`.
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
      content: [{ type: 'text', text: result.json ?? JSON.stringify(result.data) }, ...note, ...result.media],
      structuredContent: result.data,
      ...meta,
    };
  }
  const body = { error: result.error.toJSON() };
  return { content: [{ type: 'text', text: JSON.stringify(body) }], isError: true, ...meta };
}
