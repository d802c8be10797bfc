import type { AuditRecord } from '../governance/audit.js';

/** W3C trace context as MCP carries it in a request's `params._meta` (and as the hub sends it to upstream servers). */
export interface TraceContextMeta {
  traceparent?: string;
  tracestate?: string;
}

/** What a tool call tells its span: who called, over what, and with which trace context from the MCP request. */
export interface TracedCall {
  principal: string;
  transport: 'mcp' | 'rest';
  traceContext?: TraceContextMeta;
}

/**
 * The hub's use of OpenTelemetry, present only while tracing is on (see startTracing). Callers test `tracing()` for
 * null, so with tracing off a call pays one comparison and no OpenTelemetry module is loaded.
 */
export interface Tracing {
  /** Runs a tool call inside its span; the parent is the MCP request's `_meta` trace context when given, else the active one. */
  call<T>(tool: string, origin: TracedCall, run: () => Promise<T>): Promise<T>;
  /** Runs `run` inside a child span of the active one; `describe` turns its result into attributes. */
  child<T>(name: string, run: () => Promise<T>, describe?: (result: T) => Record<string, string | number | boolean | undefined>): Promise<T>;
  /** Puts the record's tool, level, outcome, quota and principal on the active call span; returns the trace id. */
  annotate(record: AuditRecord): string | undefined;
  /** The active trace context, to send in an upstream MCP request's `_meta`. */
  meta(): TraceContextMeta;
  /** Runs `fn` outside any trace: what it schedules (a timer, a write) belongs to no call's trace. */
  outside<T>(fn: () => T): T;
  shutdown(): Promise<void>;
}
