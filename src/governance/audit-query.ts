import type { AuditQuery, AuditRecord } from './audit.js';

export const DEFAULT_AUDIT_LIMIT = 50;
export const MAX_AUDIT_LIMIT = 1_000;

export function pageSize(query: AuditQuery): number {
  const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
  return Math.min(MAX_AUDIT_LIMIT, Math.max(1, Math.floor(limit)));
}

export function matches(record: AuditRecord, query: AuditQuery): boolean {
  return (query.tool === undefined || record.tool === query.tool) && (query.outcome === undefined || record.outcome === query.outcome);
}
