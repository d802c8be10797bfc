import type { ApprovalStore } from './governance/approvals.js';
import type { AuditStore } from './governance/audit.js';
import type { QuotaStore } from './governance/quota-store.js';
import type { McpEventStore } from './mcp/event-store.js';
import type { FailedAuthLimiter } from './http/failed-auth.js';
import type { ToolServices } from './tools/types.js';
import type { McpSessionStore } from './mcp/session-store.js';
import type { ServerEventBus } from '@modelcontextprotocol/server';

/**
 * Long-lived services built once by main.ts (or a test) and handed to buildApp: the tools' services (the only part a
 * tool sees, see toolServices) plus the stores of governance, MCP sessions and authentication.
 */
export interface HubDeps extends ToolServices {
  quota: QuotaStore;
  audit: AuditStore;
  /** Events of stateful MCP streams, for resumption with Last-Event-ID (Redis when REDIS_URL is set). */
  events: McpEventStore;
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
  /** Closes everything (graceful shutdown). */
  close(): Promise<void>;
}

/** The part of the hub's services a tool may use: a separate object, so a tool cannot reach the rest even by a cast. */
export function toolServices(deps: HubDeps): ToolServices {
  return { operations: deps.operations, intelligence: () => deps.intelligence() };
}
