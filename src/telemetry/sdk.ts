import { register } from 'node:module';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { AuditRecord } from '../governance/audit.js';
import type { TraceContextMeta, TracedCall, Tracing } from './types.js';

/** Probes and scrapes, not calls: no span for them. */
const UNTRACED_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

/** A URL as a span may show it: no query string (it can carry addresses, codes or keys), only whether there was one. */
function withoutQuery(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : `${url.slice(0, at)}?[REDACTED]`;
}

/**
 * The OpenTelemetry Node SDK, configured by the standard OTEL_* variables (exporter, protocol, endpoint, headers,
 * sampler, service name, resource attributes), with the official instrumentations for the HTTP server and clients
 * (Docker's socket API), undici and fetch (Google REST, GitHub, upstream MCP, Auto Builder), ioredis and pg. The hub
 * exports traces only: its metrics are Prometheus at /metrics, so OTel metrics and logs stay off unless their
 * exporter variables say otherwise.
 */
export async function startSdk(env: Record<string, string | undefined>): Promise<Tracing> {
  // ES modules loaded from now on (ioredis, imported lazily) can be instrumented: CommonJS ones are hooked anyway.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  // The SDK reads its settings from process.env itself: defaults for the two signals the hub does not export.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'omni-hub',
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? ''),
        requestHook: (span, req) => {
          if ('url' in req && typeof req.url === 'string') span.setAttribute('http.target', withoutQuery(req.url));
          else if ('path' in req && req.path.includes('?')) {
            // An outgoing request (the Docker Engine API, say): the instrumentation put the whole URL in url.full.
            const host = req.getHeader('host') ?? req.host;
            span.setAttribute('url.full', withoutQuery(`${req.protocol}//${String(host)}${req.path}`));
            span.setAttribute('url.query', '[REDACTED]');
          }
        },
      }),
      new UndiciInstrumentation({
        requestHook: (span, request) => {
          span.setAttribute('url.full', withoutQuery(`${request.origin}${request.path}`));
          if (request.path.includes('?')) span.setAttribute('url.query', '[REDACTED]');
        },
      }),
      // Only commands inside a traced operation (a call's quota check): the audit writer's batches are not calls.
      new IORedisInstrumentation({ requireParentSpan: true }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  const tracer = trace.getTracer('omni-hub');
  /** Spans of tool calls, so annotate() touches only them (not an HTTP span a refusal outside the pipeline runs in). */
  const callSpans = new WeakSet<Span>();

  return {
    call(tool: string, origin: TracedCall, run) {
      let parent: Context = context.active();
      const links = [];
      if (origin.traceContext) {
        // The MCP request's own trace context wins; the HTTP request's span stays linked.
        const outer = trace.getSpanContext(parent);
        if (outer) links.push({ context: outer });
        parent = propagation.extract(ROOT_CONTEXT, origin.traceContext);
      }
      const span = tracer.startSpan(
        `tools/call ${tool}`,
        {
          kind: SpanKind.INTERNAL,
          links,
          attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': tool, 'omni.transport': origin.transport, 'omni.principal': origin.principal },
        },
        parent,
      );
      callSpans.add(span);
      return context.with(trace.setSpan(parent, span), run).finally(() => span.end());
    },

    child(name, run, describe) {
      const span = tracer.startSpan(name);
      return context.with(trace.setSpan(context.active(), span), run).then(
        (result) => {
          if (describe) for (const [key, value] of Object.entries(describe(result))) if (value !== undefined) span.setAttribute(key, value);
          span.end();
          return result;
        },
        (err: unknown) => {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          span.end();
          throw err;
        },
      );
    },

    annotate(record: AuditRecord) {
      const span = trace.getActiveSpan();
      if (!span) return undefined;
      if (callSpans.has(span)) {
        span.setAttributes({
          'omni.tool.level': record.level ?? 'unknown',
          'omni.tool.system': record.system ?? 'unknown',
          'omni.outcome': record.outcome,
          'omni.quota.decision': quotaDecision(record),
          'omni.audit.id': record.id,
        });
        if (record.quota) span.setAttributes({ 'omni.quota.used': record.quota.used, 'omni.quota.limit': record.quota.limit });
        if (record.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: record.error?.code ?? record.outcome });
      }
      const { traceId } = span.spanContext();
      return /^0+$/.test(traceId) ? undefined : traceId;
    },

    meta(): TraceContextMeta {
      const carrier: TraceContextMeta = {};
      propagation.inject(context.active(), carrier);
      return carrier;
    },

    outside: (fn) => context.with(ROOT_CONTEXT, fn),

    shutdown: () => sdk.shutdown(),
  };
}

function quotaDecision(record: AuditRecord): string {
  if (record.outcome === 'denied_quota') return 'denied';
  if (record.outcome === 'denied_store_unavailable') return 'store_unavailable';
  if (record.governance?.degraded) return 'degraded';
  if (record.governance?.warning) return 'over_quota_warned';
  return record.quota ? 'allowed' : 'not_checked';
}
