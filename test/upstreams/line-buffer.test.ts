import { describe, expect, it } from 'vitest';
import { ResultTooLargeError } from '../../src/upstreams/bounded-fetch.js';
import { LineReadBuffer } from '../../src/upstreams/line-buffer.js';

const line = (id: number) => `${JSON.stringify({ jsonrpc: '2.0', id, result: {} })}\n`;

describe('LineReadBuffer', () => {
  it('joins a line read in many chunks, hands out several lines of one chunk in order, skips non-JSON lines', () => {
    const buffer = new LineReadBuffer(1024);
    const first = line(1);
    for (const ch of first.slice(0, -1)) buffer.append(Buffer.from(ch));
    expect(buffer.readMessage()).toBeNull();
    buffer.append(Buffer.from(`\nnot json\r\n${line(2)}${line(3).slice(0, 5)}`));
    expect(buffer.readMessage()).toMatchObject({ id: 1 });
    expect(buffer.readMessage()).toMatchObject({ id: 2 });
    expect(buffer.readMessage()).toBeNull();
    buffer.append(Buffer.from(line(3).slice(5)));
    expect(buffer.readMessage()).toMatchObject({ id: 3 });
  });

  it('refuses a line past the cap once, tells onOverflow once and keeps nothing more until cleared', () => {
    let overflows = 0;
    const buffer = new LineReadBuffer(100, () => (overflows += 1));
    buffer.append(Buffer.alloc(60, 0x61));
    expect(() => buffer.append(Buffer.alloc(60, 0x61))).toThrow(ResultTooLargeError);
    expect(overflows).toBe(1);
    buffer.append(Buffer.from(`${'a'.repeat(50)}\n${line(4)}`));
    expect(buffer.readMessage()).toBeNull();
    expect(overflows).toBe(1);
    buffer.clear();
    buffer.append(Buffer.from(line(5)));
    expect(buffer.readMessage()).toMatchObject({ id: 5 });
  });
});
