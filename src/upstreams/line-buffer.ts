import { deserializeMessage, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { ResultTooLargeError } from './bounded-fetch.js';

/**
 * The read buffer of a stdio upstream: newline-delimited JSON-RPC, one line at most `maxBytes` long.
 *
 * The SDK's own ReadBuffer concatenates every chunk onto the whole pending buffer, so a line read in n chunks costs
 * O(n²) bytes of copies: with the 64 KiB pipe chunks of recent Node versions a line of a few MiB leaves garbage many
 * times its own size behind before the cap is even reached. Here the chunks of the unfinished line are kept as they came
 * and joined once, when its newline arrives, so reading costs the line's own size; the cap is checked before any
 * chunk is kept. Past the cap nothing more is kept (the rest of the stream is dropped until `clear`) and `onOverflow`
 * is told once, so the caller can stop the writer rather than read the rest of its output.
 */
export class LineReadBuffer {
  /** The chunks of the line not finished yet. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Finished lines not yet handed out. */
  private readonly lines: Buffer[] = [];
  private overflowed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onOverflow: () => void = () => undefined,
  ) {}

  append(chunk: Buffer): void {
    if (this.overflowed) return;
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      this.keep(chunk.subarray(start, newline));
      this.lines.push(this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes));
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  readMessage(): JSONRPCMessage | null {
    for (let line = this.lines.shift(); line; line = this.lines.shift()) {
      const text = line.toString('utf8').replace(/\r$/, '');
      try {
        return deserializeMessage(text);
      } catch (err) {
        // A line that is not JSON (a stray log line on stdout) is skipped, as the SDK's buffer does.
        if (err instanceof SyntaxError) continue;
        throw err;
      }
    }
    return null;
  }

  clear(): void {
    this.overflowed = false;
    this.drop();
  }

  private drop(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.lines.length = 0;
  }

  private keep(part: Buffer): void {
    if (this.pendingBytes + part.length > this.maxBytes) {
      this.drop();
      this.overflowed = true;
      this.onOverflow();
      throw new ResultTooLargeError(this.maxBytes);
    }
    this.pending.push(part);
    this.pendingBytes += part.length;
  }
}
