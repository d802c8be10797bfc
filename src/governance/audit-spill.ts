import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { AuditRecord } from './audit.js';

/**
 * An audit record on its way to the durable store, numbered by its writer: `w` is the hub process that made it, `s`
 * its place in that process's sequence. The store skips a record whose number is not above the highest it has taken
 * from that writer, so a write that is repeated (its reply lost, a spill file replayed twice) lands once.
 */
export interface NumberedRecord {
  w: string;
  s: number;
  r: AuditRecord;
}

/** What a read of the spill gives: records in file order, and how to mark them as written. */
export interface SpillChunk {
  records: NumberedRecord[];
  /** Marks these records written: the next read starts after them (and a finished file is removed or emptied). */
  commit(): void;
}

/** Bytes read from a file per chunk; a chunk ends at the last whole line in it. */
const READ_BYTES = 256 * 1024;

interface SpillFile {
  path: string;
  /** Bytes of the file already written to the store. */
  offset: number;
  size: number;
}

/**
 * Append-only spill files of audit records (one JSON line each) under one directory: the records that could not wait
 * in memory while the durable store was down. Each process appends to its own file (named by its writer id); files
 * left by an earlier process (a hub stopped during an outage) are adopted at start and replayed first, oldest first.
 * The total size of the directory's unreplayed files is bounded by `maxBytes`. All file work is synchronous: it runs
 * only during an outage or while catching up after one, and keeps the file order exactly the order of append.
 */
export class AuditSpill {
  private readonly files: SpillFile[] = [];
  private readonly own: SpillFile;
  private bytes = 0;
  /** Records written to spill files by this process since start. */
  spilled = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    writer: string,
  ) {
    mkdirSync(dir, { recursive: true });
    const left = readdirSync(dir)
      .filter((name) => name.endsWith('.jsonl'))
      .map((name) => {
        const file = path.join(dir, name);
        const stat = statSync(file);
        return { path: file, offset: 0, size: stat.size, mtime: stat.mtimeMs };
      })
      .filter((f) => f.size > 0)
      .sort((a, b) => a.mtime - b.mtime);
    for (const { path: p, offset, size } of left) {
      this.files.push({ path: p, offset, size });
      this.bytes += size;
    }
    this.own = { path: path.join(dir, `${writer}.jsonl`), offset: 0, size: 0 };
    this.files.push(this.own);
  }

  /** Unreplayed bytes on disk (this process's file and adopted ones). */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** True while any file holds records not yet written to the store: new records must queue behind them. */
  get active(): boolean {
    return this.files.length > 1 || this.own.offset < this.own.size;
  }

  /**
   * Appends records in order as long as they fit under maxBytes; returns how many were written (the rest did not fit).
   */
  append(records: readonly NumberedRecord[]): number {
    if (records.length === 0) return 0;
    const lines: string[] = [];
    let room = this.maxBytes - this.bytes;
    for (const record of records) {
      const line = `${JSON.stringify(record)}\n`;
      const size = Buffer.byteLength(line);
      if (size > room) break;
      room -= size;
      lines.push(line);
    }
    if (lines.length === 0) return 0;
    const data = Buffer.from(lines.join(''));
    let written: number;
    try {
      const fd = openSync(this.own.path, 'a');
      try {
        written = writeSync(fd, data);
      } finally {
        closeSync(fd);
      }
    } catch {
      // A full or failing disk: nothing counts as spilled (the caller drops and counts the records); a part written
      // before the failure ends in a torn line, which replay skips.
      this.resync();
      return 0;
    }
    if (written < data.length) {
      this.resync();
      return 0;
    }
    this.own.size += data.length;
    this.bytes += data.length;
    this.spilled += lines.length;
    return lines.length;
  }

  /** The next records to replay (at most `max`), oldest file first; null when every file has been written. */
  read(max: number): SpillChunk | null {
    for (;;) {
      const file = this.files[0];
      if (!file) return null;
      if (file.offset >= file.size) {
        this.finish(file);
        if (file === this.own) return null;
        continue;
      }
      const length = Math.min(READ_BYTES, file.size - file.offset);
      const buffer = Buffer.alloc(length);
      const fd = openSync(file.path, 'r');
      let read: number;
      try {
        read = readSync(fd, buffer, 0, length, file.offset);
      } finally {
        closeSync(fd);
      }
      const text = buffer.subarray(0, read).toString('utf8');
      const records: NumberedRecord[] = [];
      let consumed = 0;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0 && records.length < max; nl = text.indexOf('\n', start)) {
        const line = text.slice(start, nl);
        start = nl + 1;
        consumed += Buffer.byteLength(line) + 1;
        const record = parseLine(line);
        if (record) records.push(record);
      }
      if (consumed === 0) {
        // A line longer than a read, or a torn last line (the process was killed while appending): skipped whole.
        const skip = read === file.size - file.offset ? read : Math.max(read, 1);
        file.offset += skip;
        this.bytes -= skip;
        continue;
      }
      return {
        records,
        commit: () => {
          file.offset += consumed;
          this.bytes -= consumed;
          if (file.offset >= file.size) this.finish(file);
        },
      };
    }
  }

  /** After a failed append: the file's size (and the unreplayed bytes) as they are on disk. */
  private resync(): void {
    const size = fileSize(this.own.path);
    this.bytes += size - this.own.size;
    this.own.size = size;
  }

  /** A file fully written to the store: an adopted one is removed, this process's own is emptied for reuse. */
  private finish(file: SpillFile): void {
    if (file === this.own) {
      if (file.size > 0) truncateSync(file.path, 0);
      file.offset = 0;
      file.size = 0;
      return;
    }
    // Already gone (another process replayed and removed it) is as good as removed.
    try {
      unlinkSync(file.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.files.shift();
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function parseLine(line: string): NumberedRecord | null {
  try {
    const value = JSON.parse(line) as Partial<NumberedRecord>;
    if (typeof value.w === 'string' && typeof value.s === 'number' && value.r && typeof value.r === 'object') return value as NumberedRecord;
  } catch {
    // A torn line from a process killed mid-write: nothing to replay.
  }
  return null;
}
