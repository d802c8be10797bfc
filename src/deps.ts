import type { AuditStore } from './governance/audit.js';
import type { QuotaStore } from './governance/quota-store.js';
import type { IntelligenceStore } from './adapters/intelligence/store.js';
import type { McpEventStore } from './mcp/event-store.js';

/** Long-lived services built once by main.ts (or a test) and handed to buildApp. */
export interface HubDeps {
  quota: QuotaStore;
  audit: AuditStore;
  /** Events of stateful MCP streams, for resumption with Last-Event-ID (Redis when REDIS_URL is set). */
  events: McpEventStore;
  /** Opened lazily on first use (embedded SQLite or pg): cold start stays small. */
  intelligence(): Promise<IntelligenceStore>;
  /** Closes everything (graceful shutdown). */
  close(): Promise<void>;
}
