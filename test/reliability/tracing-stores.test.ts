import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, TEST_KEY } from '../helpers/app.js';
import { announceSkip, realEngine } from '../helpers/docker-real.js';
import { attribute, descendsFrom, SPAN_KIND_CLIENT, startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../helpers/otlp-receiver.js';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';
import { waitFor } from '../helpers/redis.js';

/**
 * The built hub's spans for calls that reach its own stores: an `intelligence_query` against PostgreSQL
 * (DATABASE_URL) and a `docker_list_images` against the real Docker Engine (DOCKER_TEST_HOST) each give, under the
 * tool call's span, the client spans of the official pg and HTTP instrumentations, seen by a local OTLP/HTTP receiver.
 * Each half skips, saying why, when its service is not there.
 */
const databaseUrl = process.env.DATABASE_URL;
const engine = await realEngine();
const pgSkip = databaseUrl ? undefined : 'DATABASE_URL is unset';
announceSkip('tracing: PostgreSQL spans', pgSkip);
announceSkip('tracing: Docker spans', engine.skipReason);

describe.skipIf(pgSkip !== undefined && engine.skipReason !== undefined)('OpenTelemetry spans of the stores a tool call uses', () => {
  let receiver: OtlpReceiver;
  let hub: HubProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    hub = await startHubProcess({
      MCP_API_KEY: TEST_KEY,
      MCP_SESSION_MODE: 'stateless',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_SERVICE_NAME: 'omni-hub-test',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(engine.host ? { DOCKER_HOST: engine.host } : {}),
    });
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await receiver?.close();
  });

  /** One traced MCP tools/call; resolves with the spans of its trace once the tool span and `enough` of them arrived. */
  async function tracedCall(tool: string, args: Record<string, unknown>, traceId: string, enough: (trace: OtlpSpan[]) => boolean): Promise<{ trace: OtlpSpan[]; toolSpan: OtlpSpan }> {
    const res = await fetch(`${hub.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { result: { isError?: boolean; content: unknown } };
    expect(answer.result.isError, JSON.stringify(answer.result.content)).toBeFalsy();
    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    await waitFor(() => inTrace().some((s) => s.name === `tools/call ${tool}`) && enough(inTrace()), 15_000, `the spans of ${tool}`);
    const trace = inTrace();
    return { trace, toolSpan: trace.find((s) => s.name === `tools/call ${tool}`)! };
  }

  it.skipIf(pgSkip !== undefined)('a query of the Intelligence store on PostgreSQL: pg client spans under the tool span', async () => {
    const traceId = '7d1c0e5f3a2b4c6d8e9f0a1b2c3d4e5f';
    const isPg = (s: OtlpSpan) => s.kind === SPAN_KIND_CLIENT && (attribute(s, 'db.system') === 'postgresql' || attribute(s, 'db.system.name') === 'postgresql');
    const { trace, toolSpan } = await tracedCall('intelligence_query', { query: 'traced search' }, traceId, (t) => t.some(isPg));
    const queries = trace.filter(isPg);
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) expect(descendsFrom(q, toolSpan.spanId, trace), q.name).toBe(true);
    // The statement is shown without its values: the search words travel as parameters.
    expect(JSON.stringify(queries)).not.toContain('traced search');
  });

  it.skipIf(engine.skipReason !== undefined)('a Docker Engine request: an HTTP client span to the engine under the tool span, without its query', async () => {
    const traceId = '1a2b3c4d5e6f708192a3b4c5d6e7f801';
    const isDocker = (s: OtlpSpan) => s.kind === SPAN_KIND_CLIENT && String(attribute(s, 'url.full')).includes('/images/json');
    const { trace, toolSpan } = await tracedCall('docker_list_images', {}, traceId, (t) => t.some(isDocker));
    const requests = trace.filter(isDocker);
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.parentSpanId, r.name).toBe(toolSpan.spanId);
      // The Engine's query (filters) is not shown, as for every URL a span carries.
      expect(attribute(r, 'url.full')).toMatch(/\/images\/json\?\[REDACTED\]$/);
    }
  });
});
