import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditStore } from './governance/audit.js';

/** Prometheus metrics of one hub instance (own registry: tests can build several apps in one process). */
export class Metrics {
  readonly registry = new Registry();
  readonly calls = new Counter({
    name: 'omni_hub_tool_calls_total',
    help: 'Tool calls by tool and outcome',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'omni_hub_tool_call_duration_seconds',
    help: 'Tool call duration through the whole pipeline',
    labelNames: ['tool'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 45],
    registers: [this.registry],
  });
  readonly quotaRefusals = new Counter({
    name: 'omni_hub_quota_refusals_total',
    help: 'Calls refused because the tool was over its hourly quota',
    labelNames: ['tool'] as const,
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'omni_hub_quota_store_errors_total',
    help: 'Calls that found the quota store unavailable (refused or let through degraded)',
    registers: [this.registry],
  });

  readonly refusedThrottled = new Counter({
    name: 'omni_hub_refused_calls_throttled_total',
    help: 'Refused calls answered rate_limited (over REFUSED_CALLS_PER_MINUTE for their key); their audit records are dropped',
    registers: [this.registry],
  });

  readonly degradedSessions = new Counter({
    name: 'omni_hub_mcp_sessions_degraded_total',
    help: 'Legacy MCP sessions opened while the session store was unavailable (served by this instance alone)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** The audit store's delivery, read when metrics are scraped (the store keeps the counts; nothing per call here). */
  watchAudit(store: AuditStore): void {
    new Gauge({
      name: 'omni_hub_audit_queue_depth',
      help: 'Audit records waiting in memory for the durable store (Redis)',
      registers: [this.registry],
      collect() {
        this.set(store.status().pending);
      },
    });
    const counted = (name: string, help: string, read: () => number) => {
      let seen = 0;
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const now = read();
          if (now > seen) this.inc(now - seen);
          seen = now;
        },
      });
    };
    counted('omni_hub_audit_spilled_total', 'Audit records written to the spill file while Redis could not take them', () => store.status().spilled);
    counted('omni_hub_audit_dropped_total', 'Audit records lost: queue and spill full (AUDIT_FAILURE), or written after the store closed', () => store.status().dropped);
  }

  recordCall(tool: string, outcome: string, seconds: number): void {
    this.calls.inc({ tool, outcome });
    this.latency.observe({ tool }, seconds);
  }
}
