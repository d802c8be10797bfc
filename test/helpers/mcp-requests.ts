/** A JSON-RPC request body. */
export const rpc = (id: number | string, method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method, params });

/**
 * The requests the MCP fast path answers itself (over the fixture system's tools), named: the parity tests send each
 * to the fast path and to the SDK transport and compare the answers byte for byte.
 */
export const FAST_PATH_CASES: [string, ReturnType<typeof rpc>][] = [
  ['tools/list', rpc(7, 'tools/list')],
  ['tools/call ok', rpc(8, 'tools/call', { name: 'fixture_echo', arguments: { message: 'hey' } })],
  ['tools/call invalid args', rpc(9, 'tools/call', { name: 'fixture_echo', arguments: { message: 1 } })],
  ['tools/call upstream error', rpc(10, 'tools/call', { name: 'fixture_fail', arguments: {} })],
  ['tools/call confirmation', rpc(11, 'tools/call', { name: 'fixture_delete', arguments: { thing: 'x' } })],
  ['tools/call unknown tool', rpc(12, 'tools/call', { name: 'nope', arguments: {} })],
  ['string id', rpc('abc', 'tools/list')],
];

/** The protocol revision of the stateless era. */
export const MODERN_VERSION = '2026-07-28';

/**
 * A 2026-07-28 request as the SDK's client sends it: the per-request `_meta` envelope in the body and the
 * `MCP-Protocol-Version`, `Mcp-Method` and (for methods naming a tool or prompt) `Mcp-Name` headers.
 */
export function modernRequest(id: number | string, method: string, params: Record<string, unknown> = {}, clientCapabilities: Record<string, unknown> = {}) {
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': clientCapabilities };
  const body = { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...(params._meta as object | undefined), ...meta } } };
  const headers: Record<string, string> = { 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': method };
  // Mcp-Name names the tool or prompt, or the task of a tasks/* request.
  const name = params.name ?? params.taskId;
  if (typeof name === 'string') headers['mcp-name'] = name;
  return { headers, payload: JSON.stringify(body) };
}
