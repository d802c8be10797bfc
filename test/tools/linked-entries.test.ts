import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkedEntries, type Linked } from '../../src/tools/linked-entries.js';

interface Entry extends Linked<Entry> {
  id: number;
}

const walk = (list: LinkedEntries<Entry>): number[] => {
  const ids: number[] = [];
  for (let e = list.head; e; e = e.next) ids.push(e.id);
  return ids;
};

describe('LinkedEntries', () => {
  it('holds exactly the entries pushed and not yet removed, oldest first, whatever the order of removals', () => {
    // Each step pushes a new entry or removes one of those made so far (again, possibly: a no-op then).
    const steps = fc.array(fc.oneof(fc.constant<'push'>('push'), fc.nat(40)), { maxLength: 60 });
    fc.assert(
      fc.property(steps, (ops) => {
        const list = new LinkedEntries<Entry>();
        const made: Entry[] = [];
        const model: number[] = [];
        for (const op of ops) {
          if (op === 'push') {
            const entry = list.push({ id: made.length, prev: undefined, next: undefined });
            made.push(entry);
            model.push(entry.id);
          } else if (made.length > 0) {
            const entry = made[op % made.length]!;
            list.remove(entry);
            const at = model.indexOf(entry.id);
            if (at >= 0) model.splice(at, 1);
          }
          expect(walk(list)).toEqual(model);
        }
        // Pushing after any history appends at the end.
        list.push({ id: -1, prev: undefined, next: undefined });
        expect(walk(list)).toEqual([...model, -1]);
      }),
    );
  });
});
