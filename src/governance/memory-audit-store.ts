import { HubError } from '../tools/errors.js';
import type { AuditQuery, AuditRecord, AuditStore } from './audit.js';
import { matches, pageSize } from './audit-query.js';

/** The embedded audit log: a bounded ring of the newest `cap` records, each with a sequence number used as cursor. */
export class MemoryAuditStore implements AuditStore {
  readonly kind = 'memory' as const;
  private readonly ring: ({ seq: number; record: AuditRecord } | undefined)[];
  private next = 0;

  constructor(cap: number) {
    this.ring = new Array(Math.max(1, cap));
  }

  append(record: AuditRecord): void {
    this.ring[this.next % this.ring.length] = { seq: this.next, record };
    this.next += 1;
  }

  async list(query: AuditQuery): Promise<{ records: AuditRecord[]; next_cursor: string | null }> {
    const limit = pageSize(query);
    const oldest = Math.max(0, this.next - this.ring.length);
    let from = this.next - 1;
    if (query.cursor !== undefined) {
      const seq = Number(query.cursor);
      if (!/^\d+$/.test(query.cursor) || !Number.isSafeInteger(seq)) {
        throw new HubError('invalid_arguments', 'cursor is not one returned by this audit log', { issues: [{ field: 'cursor', message: 'unknown cursor' }] });
      }
      from = Math.min(from, seq - 1);
    }
    const records: AuditRecord[] = [];
    let seq = from;
    for (; seq >= oldest && records.length < limit; seq -= 1) {
      const entry = this.ring[seq % this.ring.length];
      if (entry && entry.seq === seq && matches(entry.record, query)) records.push(entry.record);
    }
    // `seq + 1` is the last position examined; a further page starts below it.
    const more = records.length === limit && seq >= oldest;
    return { records, next_cursor: more ? String(seq + 1) : null };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
