import { describe, expect, it } from 'vitest';
import { traceContextOf, traceMetaParams, tracing, tracingRequested } from '../../src/telemetry/tracing.js';

describe('tracing switch and trace context parsing', () => {
  it('is on only when an exporter is configured the standard way', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'hub', OTEL_TRACES_SAMPLER: 'always_on' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
  });

  it('takes a well-formed traceparent (and tracestate) from _meta and ignores anything else', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceContextOf({ traceparent })).toEqual({ traceparent });
    expect(traceContextOf({ traceparent, tracestate: 'vendor=1', progressToken: 3 })).toEqual({ traceparent, tracestate: 'vendor=1' });
    for (const meta of [undefined, null, 'x', {}, { traceparent: 'nonsense' }, { traceparent: 42 }, { traceparent: `${traceparent} ` }]) {
      expect(traceContextOf(meta)).toBeUndefined();
    }
  });

  it('adds nothing to upstream requests while tracing is off', () => {
    expect(tracing()).toBeNull();
    expect(traceMetaParams()).toEqual({});
  });
});
