import { z } from 'zod';
import { positiveInt, type Vars } from './fields.js';

/** MCP sessions (2025-era clients) and the event store that lets their streams resume. */
export const mcpVars = {
  MCP_SESSION_MODE: z.enum(['stateful', 'stateless']).default('stateful'),
  MCP_SESSION_IDLE_MS: positiveInt.default(30 * 60_000),
  MCP_SESSION_CACHE_MS: z.coerce.number().int().min(0).default(1_000),
  MCP_MAX_SESSIONS: positiveInt.default(5_000),
  MCP_MAX_SESSIONS_PER_PRINCIPAL: positiveInt.default(1_000),
  MCP_EVENT_STREAM_MAX_BYTES: z.coerce.number().int().min(1_024).default(4 * 1024 * 1024),
  MCP_EVENT_STORE_MAX_BYTES: z.coerce.number().int().min(1_024).default(64 * 1024 * 1024),
};

export function mcpConfig(e: Vars<typeof mcpVars>) {
  return {
    sessionMode: e.MCP_SESSION_MODE,
    /**
     * Stateful sessions: idle expiry (every instance), how long an instance reuses a session record read from Redis
     * before reading it again (0: every request reads), live sessions per process, sessions per principal (fleet-wide
     * with Redis).
     */
    sessions: { idleMs: e.MCP_SESSION_IDLE_MS, cacheMs: e.MCP_SESSION_CACHE_MS, maxPerProcess: e.MCP_MAX_SESSIONS, maxPerPrincipal: e.MCP_MAX_SESSIONS_PER_PRINCIPAL },
    /** Stateful MCP event store: bytes kept per stream and in total (oldest dropped first). */
    eventStore: { streamMaxBytes: e.MCP_EVENT_STREAM_MAX_BYTES, totalMaxBytes: Math.max(e.MCP_EVENT_STORE_MAX_BYTES, e.MCP_EVENT_STREAM_MAX_BYTES) },
  };
}
