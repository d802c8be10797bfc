import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyMcpPost, sdkRoute, type McpPostInput } from '../../src/http/mcp-request.js';
import { loadSdk, type SdkRuntime } from '../../src/mcp/sdk.js';

const PV = 'io.modelcontextprotocol/protocolVersion';
const CC = 'io.modelcontextprotocol/clientCapabilities';
const CI = 'io.modelcontextprotocol/clientInfo';

/** Present or absent: `undefined` leaves the key out of the object it is assembled into. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 8 });
/** Mostly absent: a key a plain request does not carry. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
/** Mostly the value a plain request has, else one of the others: each generated request is near the plain shape. */
const mostly = <T>(usual: T, ...others: T[]) => fc.oneof({ weight: 6, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
const assemble = (entries: [string, unknown][]) => Object.fromEntries(entries.filter(([, v]) => v !== undefined));

const meta = fc
  .tuple(
    maybe(mostly<unknown>('2026-07-28', '2025-06-18', '2026-07-28 ', 5, null)),
    maybe(
      fc.constantFrom<unknown>({}, { elicitation: {} }, { roots: { listChanged: true } }, { roots: { listChanged: 'yes' } }, { sampling: 3 }, { experimental: { a: {} } }, null, 'x', []),
    ),
    maybe(fc.constantFrom<unknown>({ name: 'client', version: '1.0' }, { name: 1 }, {}, 'client')),
    rarely(fc.constantFrom<[string, unknown]>(['progressToken', 'p1'], ['progressToken', {}], ['io.modelcontextprotocol/logLevel', 'info'], ['other', 1])),
  )
  .map(([pv, cc, ci, extra]) => assemble([[PV, pv], [CC, cc], [CI, ci], ...(extra ? [extra] : [])]));

const params = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, [], {}, 'x') },
  {
    weight: 6,
    arbitrary: fc.tuple(maybe(mostly<unknown>('fixture_echo', 'file:///a', 3)), maybe(mostly<unknown>({ message: 'hi' }, [], null)), maybe(meta)).map(([name, args, m]) =>
      assemble([
        ['name', name],
        ['arguments', args],
        ['_meta', m],
      ]),
    ),
  },
);

const message = fc
  .tuple(
    maybe(mostly<unknown>('2.0', '1.0', 2)),
    maybe(fc.oneof({ weight: 4, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(1.5, null, 2 ** 60, true) })),
    maybe(mostly<unknown>('tools/call', 'tools/list', 'initialize', 'resources/read', 'notifications/initialized', 7)),
    maybe(params),
    rarely(fc.constantFrom<[string, unknown]>(['result', {}], ['error', { code: 1, message: 'x' }], ['extra', 1])),
  )
  .map(([jsonrpc, id, method, p, extra]) => assemble([['jsonrpc', jsonrpc], ['id', id], ['method', method], ['params', p], ...(extra ? [extra] : [])]));

const body = fc.oneof({ weight: 6, arbitrary: message }, { weight: 1, arbitrary: fc.array(message, { maxLength: 2 }) }, { weight: 1, arbitrary: fc.jsonValue() });

const input: fc.Arbitrary<McpPostInput> = fc.record({
  body,
  protocolVersionHeader: maybe(mostly('2026-07-28', '2025-06-18', '2025-11-25', ' 2026-07-28', '2026-07-28\t', 'junk', '2024-11-05', '3000-01-01')),
  mcpMethodHeader: maybe(mostly('tools/call', 'tools/list', 'initialize', ' tools/call', 'resources/read')),
  mcpNameHeader: maybe(fc.constantFrom('fixture_echo', 'file:///a', ' fixture_echo')),
});

/**
 * classifyMcpPost answers the plain requests without the SDK's schemas: whatever it answers must be what the SDK's own
 * classification answers, for the first request of an envelope (the SDK decides) and every later one (remembered).
 */
describe('MCP era classification', () => {
  let sdk: SdkRuntime;
  beforeAll(async () => {
    sdk = await loadSdk();
  });

  it('gives every request the route the SDK classification gives it', () => {
    fc.assert(
      fc.property(input, (i) => {
        const expected = sdkRoute(sdk, i);
        expect(classifyMcpPost(sdk, i)).toEqual(expected);
        expect(classifyMcpPost(sdk, i)).toEqual(expected);
      }),
      { numRuns: 2500 },
    );
  });

  it('classifies the plain calls of both eras', () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fixture_echo', arguments: {} } };
    expect(classifyMcpPost(sdk, { body: call, protocolVersionHeader: '2025-06-18', mcpMethodHeader: undefined, mcpNameHeader: undefined })).toEqual({ era: 'legacy' });
    const modern = { ...call, params: { ...call.params, _meta: { [PV]: '2026-07-28', [CC]: {} } } };
    const headers = { protocolVersionHeader: '2026-07-28', mcpMethodHeader: 'tools/call', mcpNameHeader: 'fixture_echo' };
    for (let i = 0; i < 2; i++) {
      expect(classifyMcpPost(sdk, { body: modern, ...headers })).toEqual({ era: 'modern', method: 'tools/call', name: 'fixture_echo', id: 1, headersAgree: true });
    }
  });
});
