/**
 * A minimal POSIX ustar writer (with PAX records for long names), enough for Docker build contexts:
 * regular files, directories and symlinks.
 */

export interface TarHeaderInput {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  mtime: Date;
  linkname?: string;
}

const BLOCK = 512;
const TYPEFLAG = { file: '0', directory: '5', symlink: '2' } as const;

function writeString(buf: Buffer, text: string, offset: number, length: number): void {
  buf.write(text, offset, Math.min(Buffer.byteLength(text), length), 'utf8');
}

function writeOctal(buf: Buffer, value: number, offset: number, length: number): void {
  writeString(buf, `${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
}

function ustarBlock(h: TarHeaderInput, name: string, linkname: string, type: string, size: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  writeString(buf, name, 0, 100);
  writeOctal(buf, h.mode & 0o7777, 100, 8);
  writeOctal(buf, 0, 108, 8);
  writeOctal(buf, 0, 116, 8);
  writeOctal(buf, size, 124, 12);
  writeOctal(buf, Math.floor(h.mtime.getTime() / 1000), 136, 12);
  buf.fill(' ', 148, 156);
  writeString(buf, type, 156, 1);
  writeString(buf, linkname, 157, 100);
  writeString(buf, 'ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of buf) sum += b;
  writeString(buf, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return buf;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Header block(s) for one entry; names over 100 bytes get a preceding PAX extended header. */
export function tarHeader(h: TarHeaderInput): Buffer {
  const name = h.type === 'directory' ? `${h.name}/` : h.name;
  const linkname = h.linkname ?? '';
  const size = h.type === 'file' ? h.size : 0;
  const needsPax = Buffer.byteLength(name) > 100 || Buffer.byteLength(linkname) > 100;
  const main = ustarBlock(h, needsPax ? name.slice(0, 99) : name, needsPax ? linkname.slice(0, 99) : linkname, TYPEFLAG[h.type], size);
  if (!needsPax) return main;
  const records = Buffer.from(paxRecord('path', name) + (linkname ? paxRecord('linkpath', linkname) : ''), 'utf8');
  const pax = ustarBlock({ ...h, type: 'file' }, 'PaxHeader', '', 'x', records.length);
  return Buffer.concat([pax, records, tarPadding(records.length), main]);
}

export function tarPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** Two zero blocks end the archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(BLOCK * 2);
}
