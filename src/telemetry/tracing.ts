import type { TraceContextMeta, Tracing } from './types.js';

export type { TraceContextMeta, TracedCall, Tracing } from './types.js';

let active: Tracing | null = null;

/** The tracing in use, or null when it is off. */
export function tracing(): Tracing | null {
  return active;
}

type Env = Record<string, string | undefined>;

/**
 * Tracing is on when an exporter is configured the standard way: an OTLP endpoint (for all signals or for traces), or
 * OTEL_TRACES_EXPORTER naming one; OTEL_SDK_DISABLED=true turns it off whatever else is set.
 */
export function tracingRequested(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || exporter);
}

/**
 * Starts the OpenTelemetry SDK when tracing is requested; must run before the modules it instruments (the HTTP server,
 * ioredis, pg) are loaded, which is why the entry point imports the rest of the hub only after it.
 */
export async function startTracing(env: Env): Promise<Tracing | null> {
  if (active || !tracingRequested(env)) return active;
  const { startSdk } = await import('./sdk.js');
  active = await startSdk(env);
  return active;
}

/** Stops the SDK, exporting the spans it still holds (shutdown). */
export async function stopTracing(): Promise<void> {
  const current = active;
  active = null;
  await current?.shutdown();
}

/**
 * Runs `fn` outside any trace when tracing is on (else just runs it). For background work a call merely triggers, such
 * as the audit store's batched writes, which would otherwise appear in the trace of whichever call scheduled them.
 */
export function outsideTraces<T>(fn: () => T): T {
  return active ? active.outside(fn) : fn();
}

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** The trace context of an MCP request's `_meta`, if it carries a well-formed one (anything else is ignored). */
export function traceContextOf(meta: unknown): TraceContextMeta | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { traceparent, tracestate } = meta as Record<string, unknown>;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return undefined;
  return typeof tracestate === 'string' && tracestate.length <= 512 ? { traceparent, tracestate } : { traceparent };
}

/**
 * The `_meta` of a request to an upstream MCP server when tracing is on: the active trace context, so the upstream's
 * spans join the call's trace (HTTP upstreams also get it as a `traceparent` header from the HTTP instrumentation).
 * Spread into the request's params: `{ name, arguments, ...traceMetaParams() }`.
 */
export function traceMetaParams(): { _meta?: Record<string, unknown> } {
  const current = active?.meta();
  return current?.traceparent ? { _meta: { ...current } } : {};
}
