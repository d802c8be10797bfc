import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { FAST_PATH_CASES, modernRequest } from '../helpers/mcp-requests.js';

/** The 2026-07-28 `tools/call`s the modern fast path answers: the 2025 cases as modern requests, plus media. */
const CASES = [
  ...FAST_PATH_CASES.filter(([, body]) => body.method === 'tools/call').map(([name, body]) => [name, body.id, body.params] as const),
  ['media result', 13, { name: 'fixture_media', arguments: {} }] as const,
  ['string id', 'call-1', { name: 'fixture_echo', arguments: { message: 'x' } }] as const,
];

/**
 * The modern fast path answers byte for byte what the SDK's own entry (`createMcpHandler`) answers for the same
 * 2026-07-28 request, and leaves to the SDK whatever it does not recognise.
 */
describe('2026-07-28 fast path: byte for byte what the SDK entry answers', () => {
  let fast: TestHub;
  let sdk: TestHub;
  beforeAll(async () => {
    // APPROVAL=model: a person's approval carries a fresh id per call, the model's confirmation answers alike.
    fast = await testHub({ APPROVAL: 'model' }, { systems: [fixtureSystem] });
    sdk = await testHub({ APPROVAL: 'model' }, { systems: [fixtureSystem], fastPath: false });
  });
  afterAll(async () => {
    await fast.close();
    await sdk.close();
  });

  const send = (hub: TestHub, request: ReturnType<typeof modernRequest>) =>
    hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...request.headers }, payload: request.payload });

  it.each(CASES)('%s', async (_name, id, params) => {
    const request = modernRequest(id, 'tools/call', params);
    const [a, b] = await Promise.all([send(fast, request), send(sdk, request)]);
    expect(a.statusCode).toBe(b.statusCode);
    expect(a.headers['content-type']).toBe(b.headers['content-type']);
    // The quota's seconds to reset is the one figure that depends on when each hub counted the call.
    const timeless = (body: string) => body.replace(/"reset_s":\d+/g, '"reset_s":0');
    expect(timeless(a.body)).toBe(timeless(b.body));
    // Answered by the fast path: its length is known (the SDK entry streams its JSON chunked).
    expect(a.headers['content-length']).toBeDefined();
    expect(b.headers['content-length']).toBeUndefined();
  });

  it('leaves a call with a progress token or a log level to the SDK', async () => {
    for (const extra of [{ progressToken: 'p1' }, { 'io.modelcontextprotocol/logLevel': 'info' }]) {
      const request = modernRequest(20, 'tools/call', { name: 'fixture_echo', arguments: { message: 'x' }, _meta: extra });
      const res = await send(fast, request);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBeUndefined();
    }
  });
});
