import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/governance/audit.js';
import { MCP_HEADERS, TEST_KEY } from '../helpers/app.js';
import { sendJson, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';
import { startFakeMaps, type FakeMaps } from '../fakes/google-maps.js';
import { waitFor } from '../helpers/redis.js';
import { attribute, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

/**
 * OpenTelemetry end to end against the built hub: the official OTLP/HTTP exporter sends to a local receiver (this
 * server decodes the OTLP JSON encoding, chosen with the standard OTEL_EXPORTER_OTLP_PROTOCOL), and one MCP tools/call
 * of google_maps_geocode against the Maps stand-in must give one trace tree: the HTTP request span (child of the
 * caller's traceparent), the tool call span, its quota check, and the upstream request, whose traceparent header the
 * stand-in receives; the audit record carries the same trace id.
 */
const API_KEY = 'AIza-trace-test-key';

/**
 * An upstream MCP server over Streamable HTTP, hand-written to the wire format (JSON answers) so the test sees each
 * request's headers and `params` exactly as the hub sent them: one tool, `echo`.
 */
function startRecordingUpstream(): Promise<FakeServer> {
  return startFakeServer((req, res) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' });
    const msg = JSON.parse(req.body) as { id?: number; method: string; params?: { protocolVersion?: string; arguments?: { text?: string } } };
    if (msg.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const answer = (result: unknown) => sendJson(res, 200, { jsonrpc: '2.0', id: msg.id, result });
    if (msg.method === 'initialize') {
      return answer({ protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'recording-upstream', version: '1.0.0' } });
    }
    if (msg.method === 'tools/list') {
      return answer({ tools: [{ name: 'echo', description: 'Echoes text', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }] });
    }
    if (msg.method === 'tools/call') return answer({ content: [{ type: 'text', text: msg.params?.arguments?.text ?? '' }] });
    return sendJson(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `no method ${msg.method}` } });
  });
}

describe('OpenTelemetry traces', () => {
  let receiver: OtlpReceiver;
  let maps: FakeMaps;
  let upstreamMcp: FakeServer;
  let hub: HubProcess;
  const spans = () => receiver.spans;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    maps = await startFakeMaps({ apiKey: API_KEY });
    upstreamMcp = await startRecordingUpstream();
    maps.state.geocode.push({ address: 'Brandenburger Tor', formatted_address: 'Pariser Platz, 10117 Berlin, Germany', lat: 52.5163, lng: 13.3777, place_id: 'ChIJiQnyVcZRqEcRY0xnhE77uyY' });
    hub = await startHubProcess({
      MCP_API_KEY: TEST_KEY,
      MCP_SESSION_MODE: 'stateless',
      GOOGLE_API_KEY: API_KEY,
      GOOGLE_API_BASE_URL: maps.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SERVICE_NAME: 'omni-hub-test',
      GOOGLE_CLOUD_PROJECT: 'trace-test',
      UPSTREAMS: JSON.stringify([{ name: 'rec', url: `${upstreamMcp.url}/mcp` }]),
    });
  });
  afterAll(async () => {
    await hub?.stop();
    await maps?.close();
    await upstreamMcp?.close();
    await receiver?.close();
  });

  it('exports one tree from the incoming traceparent through the tool call to the upstream request', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const res = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'google_maps_geocode', arguments: { address: 'Brandenburger Tor' } } }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { result: { isError?: boolean; structuredContent: { results: { formatted_address: string }[] } } };
    expect(answer.result.isError).toBeFalsy();
    expect(answer.result.structuredContent.results[0]?.formatted_address).toContain('Pariser Platz');

    // The stand-in got the call's trace context as a header.
    const upstreamRequest = maps.requests.find((r) => r.url.startsWith('/maps/api/geocode/json'));
    expect(upstreamRequest?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[\\da-f]{16}-01$`));

    const inTrace = () => spans().filter((s) => s.traceId === traceId);
    await waitFor(() => inTrace().some((s) => s.kind === SPAN_KIND_SERVER) && inTrace().some((s) => s.name === 'tools/call google_maps_geocode') && inTrace().some((s) => s.kind === SPAN_KIND_CLIENT), 15_000, 'the spans exported');
    const trace = inTrace();
    const server = trace.find((s) => s.kind === SPAN_KIND_SERVER)!;
    const tool = trace.find((s) => s.name === 'tools/call google_maps_geocode')!;
    const quota = trace.find((s) => s.name === 'quota check')!;
    const upstream = trace.find((s) => s.kind === SPAN_KIND_CLIENT)!;
    // One tree: caller → HTTP request → tool call → (quota check, upstream request).
    expect(server.parentSpanId).toBe(callerSpanId);
    expect(tool.parentSpanId).toBe(server.spanId);
    expect(quota.parentSpanId).toBe(tool.spanId);
    expect(upstream.parentSpanId).toBe(tool.spanId);
    // The upstream's traceparent names the upstream span as its parent.
    expect(upstreamRequest?.headers.traceparent).toBe(`00-${traceId}-${upstream.spanId}-01`);
    expect(attribute(tool, 'gen_ai.tool.name')).toBe('google_maps_geocode');
    expect(attribute(tool, 'omni.tool.level')).toBe('LOW');
    expect(attribute(tool, 'omni.outcome')).toBe('ok');
    expect(attribute(tool, 'omni.quota.decision')).toBe('allowed');
    expect(attribute(tool, 'omni.principal')).toMatch(/^key:/);
    // No secret anywhere in the exported spans: the key travels in the query string, which spans never show.
    expect(JSON.stringify(spans())).not.toContain(API_KEY);
    expect(JSON.stringify(spans())).not.toContain(TEST_KEY);

    // The audit record (and its log line) carry the trace id.
    const audit = (await (await fetch(`${hub.url}/v1/audit?tool=google_maps_geocode`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { records: AuditRecord[] };
    expect(audit.records[0]?.trace_id).toBe(traceId);
    await waitFor(() => hub.stdout().includes(`"trace_id":"${traceId}"`), 5_000, 'the audit log line');
    const line = hub.stdout().split('\n').find((l) => l.includes(`"trace_id":"${traceId}"`))!;
    expect(JSON.parse(line)).toMatchObject({
      type: 'audit',
      audit: { tool: 'google_maps_geocode', trace_id: traceId },
      'logging.googleapis.com/trace': `projects/trace-test/traces/${traceId}`,
    });
  });

  it('takes the trace context from the MCP request’s _meta', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'google_maps_geocode', arguments: { address: 'Brandenburger Tor' }, _meta: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } },
      }),
    });
    expect(res.status).toBe(200);
    await waitFor(() => spans().some((s) => s.traceId === traceId && s.name === 'tools/call google_maps_geocode'), 15_000, 'the tool span');
    const tool = spans().find((s) => s.traceId === traceId && s.name === 'tools/call google_maps_geocode')!;
    expect(tool.parentSpanId).toBe('b7ad6b7169203331');
    const audit = (await (await fetch(`${hub.url}/v1/audit?tool=google_maps_geocode&limit=1`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as { records: AuditRecord[] };
    expect(audit.records[0]?.trace_id).toBe(traceId);
  });

  it('sends the trace context to an upstream MCP server, as a header and in _meta', async () => {
    const traceId = '5b8efff798038103d269b633813fc60c';
    const res = await fetch(`${hub.url}/v1/tools/rec_echo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', traceparent: `00-${traceId}-eee19b7ec3c1b174-01` },
      body: JSON.stringify({ text: 'traced' }),
    });
    expect(res.status).toBe(200);
    const call = upstreamMcp.requests.find((r) => r.body.includes('"tools/call"'));
    expect(call?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[\\da-f]{16}-01$`));
    const params = (JSON.parse(call!.body) as { params: { _meta?: { traceparent?: string } } }).params;
    expect(params._meta?.traceparent).toMatch(new RegExp(`^00-${traceId}-[\\da-f]{16}-01$`));
  });
});
