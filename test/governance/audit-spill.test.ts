import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/governance/audit.js';
import { AuditSpill, type NumberedRecord } from '../../src/governance/audit-spill.js';

const numbered = (w: string, s: number): NumberedRecord => ({ w, s, r: { id: `${w}-${s}` } as AuditRecord });

/** Reads and commits every chunk, as the store's replay does; returns the record ids in order. */
function replayAll(spill: AuditSpill, batch = 2): string[] {
  const ids: string[] = [];
  for (let chunk = spill.read(batch); chunk; chunk = spill.read(batch)) {
    ids.push(...chunk.records.map((n) => n.r.id));
    chunk.commit();
  }
  return ids;
}

describe('audit spill files', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-spill-unit-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('appends within its byte bound and replays in order, emptying its own file', () => {
    const dir = newDir();
    const spill = new AuditSpill(dir, 1_000_000, 'me');
    expect(spill.active).toBe(false);
    expect(spill.append([1, 2, 3].map((n) => numbered('me', n)))).toBe(3);
    expect(spill.active).toBe(true);
    expect(replayAll(spill)).toEqual(['me-1', 'me-2', 'me-3']);
    expect(spill.active).toBe(false);
    expect(spill.pendingBytes).toBe(0);
    expect(statSync(path.join(dir, 'me.jsonl')).size).toBe(0);

    const line = Buffer.byteLength(`${JSON.stringify(numbered('me', 4))}\n`);
    const small = new AuditSpill(newDir(), line * 2, 'me');
    expect(small.append([4, 5, 6].map((n) => numbered('me', n)))).toBe(2);
    expect(small.append([numbered('me', 7)])).toBe(0);
  });

  it('adopts the files an earlier process left, oldest first, and skips a torn last line', () => {
    const dir = newDir();
    const older = path.join(dir, 'old.jsonl');
    const newer = path.join(dir, 'newer.jsonl');
    writeFileSync(older, `${JSON.stringify(numbered('old', 1))}\n${JSON.stringify(numbered('old', 2))}\n`);
    // Killed while appending: the last line is cut short.
    writeFileSync(newer, `${JSON.stringify(numbered('newer', 1))}\n{"w":"newer","s":2,"r":{"id":`);
    utimesSync(older, new Date(1_000_000), new Date(1_000_000));
    utimesSync(newer, new Date(2_000_000), new Date(2_000_000));

    const spill = new AuditSpill(dir, 1_000_000, 'me');
    expect(spill.active).toBe(true);
    spill.append([numbered('me', 1)]);
    expect(replayAll(spill, 10)).toEqual(['old-1', 'old-2', 'newer-1', 'me-1']);
    expect(readdirSync(dir)).toEqual(['me.jsonl']);
    expect(spill.pendingBytes).toBe(0);
  });

  it('does not commit a chunk that was not written: the next read gives the same records', () => {
    const spill = new AuditSpill(newDir(), 1_000_000, 'me');
    spill.append([1, 2].map((n) => numbered('me', n)));
    const first = spill.read(10)!;
    const again = spill.read(10)!;
    expect(again.records.map((n) => n.s)).toEqual(first.records.map((n) => n.s));
    again.commit();
    expect(spill.active).toBe(false);
  });
});
