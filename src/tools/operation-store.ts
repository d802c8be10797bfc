import type { ErrorCode } from './errors.js';

/** The stored state of a long operation (see runOperation in operations.ts). */
export interface OperationRecord {
  id: string;
  tool: string;
  /** The principal that started it: only that principal may read it. */
  principal: string;
  /** `cancelled`: an MCP task (src/mcp/tasks.ts) its client cancelled. */
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  started_at: number;
  finished_at?: number;
  result?: Record<string, unknown>;
  error?: { code: ErrorCode; message: string; details: Record<string, unknown> };
  /** The latest progress lines while it runs (the result carries its own when it is done). */
  last_lines?: string[];
}

export interface OperationStore {
  readonly kind: 'memory' | 'redis';
  /** Writes (or overwrites) the record; it disappears after `ttlMs`. Throws when the store cannot answer. */
  save(record: OperationRecord, ttlMs: number): Promise<void>;
  get(id: string): Promise<OperationRecord | null>;
  close(): Promise<void>;
}
