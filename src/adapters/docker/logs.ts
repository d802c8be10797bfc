/** Docker's log stream multiplexing: without a TTY every chunk is an 8-byte header [stream, 0, 0, 0, size(uint32 BE)] + payload. */

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  stream: LogStream;
  text: string;
}

export interface Frame {
  stream: LogStream;
  payload: Buffer;
}

/** Splits a complete multiplexed buffer into frames; a trailing partial frame is ignored. Stdin (0) counts as stdout. */
export function demultiplex(buf: Buffer): Frame[] {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const type = buf[offset];
    const size = buf.readUInt32BE(offset + 4);
    if (type > 2 || offset + 8 + size > buf.length) break;
    frames.push({ stream: type === 2 ? 'stderr' : 'stdout', payload: buf.subarray(offset + 8, offset + 8 + size) });
    offset += 8 + size;
  }
  return frames;
}

/** Frames to lines, keeping order across streams; a line split over several frames of one stream is joined. */
export function framesToLines(frames: Frame[]): LogLine[] {
  const lines: LogLine[] = [];
  const partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  for (const f of frames) {
    const parts = (partial[f.stream] + f.payload.toString('utf8')).split('\n');
    partial[f.stream] = parts.pop() ?? '';
    for (const p of parts) lines.push({ stream: f.stream, text: p.replace(/\r$/, '') });
  }
  for (const s of ['stdout', 'stderr'] as const) if (partial[s]) lines.push({ stream: s, text: partial[s] });
  return lines;
}

/** Keeps the newest lines whose text fits in maxBytes (logs are read from the end, like `docker logs --tail`). */
export function keepNewest(lines: LogLine[], maxBytes: number): { lines: LogLine[]; bytes: number; truncated: boolean } {
  let bytes = 0;
  let start = lines.length;
  while (start > 0) {
    const size = Buffer.byteLength(lines[start - 1].text) + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    start -= 1;
  }
  return { lines: lines.slice(start), bytes, truncated: start > 0 };
}

/** `since` as the Engine wants it (unix seconds) from "1700000000", "15m"/"2h"/"3d" or an ISO date-time. */
export function sinceToUnix(since: string, now = Date.now()): number {
  const rel = /^(\d+)(s|m|h|d)$/.exec(since);
  if (rel) return Math.floor(now / 1000) - Number(rel[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d+$/.test(since)) return Number(since);
  return Math.floor(Date.parse(since) / 1000);
}

export const SINCE_PATTERN = /^(\d+(s|m|h|d)?|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)$/;
