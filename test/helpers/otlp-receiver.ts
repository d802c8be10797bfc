import { sendJson, startFakeServer, type FakeServer } from './fake-server.js';

/** A span as the OTLP/HTTP JSON encoding carries it (OTEL_EXPORTER_OTLP_PROTOCOL=http/json). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;

export function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
}

/** Whether `span` descends from the span `ancestorId` within `trace` (following parentSpanId). */
export function descendsFrom(span: OtlpSpan, ancestorId: string, trace: readonly OtlpSpan[]): boolean {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  for (let s: OtlpSpan | undefined = span, hops = 0; s?.parentSpanId && hops < 50; s = byId.get(s.parentSpanId), hops++) {
    if (s.parentSpanId === ancestorId) return true;
  }
  return false;
}

export interface OtlpReceiver {
  /** The endpoint to give the hub as OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** Every span received so far, in arrival order. */
  spans: OtlpSpan[];
  close(): Promise<void>;
}

/** A local OTLP/HTTP receiver for traces in the JSON encoding: the official exporter of the hub sends here. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const server: FakeServer = await startFakeServer((req, res) => {
    if (req.url === '/v1/traces') {
      const body = JSON.parse(req.body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    }
    sendJson(res, 200, {});
  });
  return { url: server.url, spans, close: () => server.close() };
}
