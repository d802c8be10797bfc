import { HubError } from '../tools/errors.js';
import { isExecutedRecord, type AuditQuery, type AuditRecord, type AuditStatus, type AuditStore } from './audit.js';
import { matches, pageSize } from './audit-query.js';

type Entry = { seq: number; record: AuditRecord };

/** A fixed-size ring of the newest entries. */
class Ring {
  private readonly slots: (Entry | undefined)[];
  private next = 0;

  constructor(cap: number) {
    this.slots = new Array(Math.max(1, cap));
  }

  push(entry: Entry): void {
    this.slots[this.next % this.slots.length] = entry;
    this.next += 1;
  }

  /** Entries with seq below `before`, newest first (lazily: callers stop when their page is full). */
  *newestBelow(before: number): Generator<Entry> {
    const oldest = Math.max(0, this.next - this.slots.length);
    for (let i = this.next - 1; i >= oldest; i -= 1) {
      const entry = this.slots[i % this.slots.length]!;
      if (entry.seq < before) yield entry;
    }
  }
}

/**
 * The embedded audit log: two bounded rings (executed calls: `cap`; refused / not executed: `refusedCap`) sharing
 * one sequence number, used as the cursor, so a listing merges them newest first.
 */
export class MemoryAuditStore implements AuditStore {
  readonly kind = 'memory' as const;
  private readonly executed: Ring;
  private readonly refused: Ring;
  private seq = 0;

  constructor(cap: number, refusedCap = cap) {
    this.executed = new Ring(cap);
    this.refused = new Ring(refusedCap);
  }

  append(record: AuditRecord): void {
    (isExecutedRecord(record) ? this.executed : this.refused).push({ seq: this.seq, record });
    this.seq += 1;
  }

  async list(query: AuditQuery): Promise<{ records: AuditRecord[]; next_cursor: string | null }> {
    const limit = pageSize(query);
    let before = this.seq;
    if (query.cursor !== undefined) {
      const seq = Number(query.cursor);
      if (!/^\d+$/.test(query.cursor) || !Number.isSafeInteger(seq)) {
        throw new HubError('invalid_arguments', 'cursor is not one returned by this audit log', { issues: [{ field: 'cursor', message: 'unknown cursor' }] });
      }
      before = Math.min(before, seq);
    }
    const a = this.executed.newestBelow(before);
    const b = this.refused.newestBelow(before);
    let x = a.next();
    let y = b.next();
    const records: AuditRecord[] = [];
    while (records.length < limit && !(x.done && y.done)) {
      const takeA = !x.done && (y.done || x.value.seq > y.value.seq);
      const entry = (takeA ? x.value : y.value) as Entry;
      if (takeA) x = a.next();
      else y = b.next();
      if (matches(entry.record, query)) {
        records.push(entry.record);
        before = entry.seq;
      }
    }
    // More pages while either ring has entries below the last record returned.
    const more = records.length === limit && !(x.done && y.done);
    return { records, next_cursor: more ? String(before) : null };
  }

  /** Nothing waits and nothing is lost: a record is in the ring as soon as it is appended. */
  readonly saturated = false;

  status(): AuditStatus {
    return { pending: 0, spill_bytes: 0, spilled: 0, dropped: 0, saturated: false };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
