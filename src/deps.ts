import type { ApprovalStore } from './governance/approvals.js';
import type { AuditStore } from './governance/audit.js';
import type { QuotaStore } from './governance/quota-store.js';
import type { IntelligenceStore } from './adapters/intelligence/store.js';
import type { McpEventStore } from './mcp/event-store.js';
import type { FailedAuthLimiter } from './http/failed-auth.js';
import type { OperationStore } from './tools/operations.js';
import type { McpSessionStore } from './mcp/session-store.js';
import type { ServerEventBus } from '@modelcontextprotocol/server';

/** Long-lived services built once by main.ts (or a test) and handed to buildApp. */
export interface HubDeps {
  quota: QuotaStore;
  audit: AuditStore;
  /** Events of stateful MCP streams, for resumption with Last-Event-ID (Redis when REDIS_URL is set). */
  events: McpEventStore;
  /** State of long operations (`{"status": "running", "operation"}` follow-ups); Redis when REDIS_URL is set. */
  operations: OperationStore;
  /** Approvals by a person of gated calls (Redis when REDIS_URL is set: approve on any instance, run on any). */
  approvals: ApprovalStore;
  /** Failed-key counters per client address; Redis when REDIS_URL is set. */
  failedAuth: FailedAuthLimiter;
  /** Stateful MCP session records (Redis when REDIS_URL is set: any instance serves any session). */
  sessions: McpSessionStore;
  /**
   * Change events for 2026-07-28 `subscriptions/listen` streams across instances (Redis pub/sub, when REDIS_URL is
   * set and upstreams can change the tool list); absent: the SDK's in-process bus.
   */
  mcpEvents?: ServerEventBus & { close(): Promise<void> };
  /** Opened lazily on first use (embedded SQLite or pg): cold start stays small. */
  intelligence(): Promise<IntelligenceStore>;
  /** Closes everything (graceful shutdown). */
  close(): Promise<void>;
}
