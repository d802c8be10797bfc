import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import { LineReadBuffer } from './line-buffer.js';

export interface BoundedStdioOptions {
  command: string;
  args: string[];
  /** The child's whole environment: the caller decides what it inherits. */
  env: Record<string, string>;
  cwd?: string;
  /** No JSON-RPC line from the child may be longer; past it the child is killed at once. */
  maxLineBytes: number;
  /** How long `close` waits after ending stdin, and again after SIGTERM, before escalating. */
  closeGraceMs?: number;
}

/**
 * A stdio client transport on the SDK's public `Transport` interface (the SDK's own stdio transport would have to
 * have a private field replaced for the same bound). Differences from it, and why:
 * - lines are read through `LineReadBuffer`, in time linear in the line's size and never past `maxLineBytes`;
 * - a line past the bound kills the child with SIGKILL at once: the rest of its output is not read (a graceful close
 *   would let a hostile child keep writing while the hub waits);
 * - the child's stderr is always piped (to `stderr`, available before `start` so no early line is lost).
 * The close sequence is the SDK's: end stdin, then SIGTERM, then SIGKILL, each after a grace period.
 */
export class BoundedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** The child's stderr, readable from construction on. */
  readonly stderr = new PassThrough();
  private child: ChildProcess | undefined;
  private readonly buffer: LineReadBuffer;
  private readonly closeGraceMs: number;

  constructor(private readonly options: BoundedStdioOptions) {
    this.closeGraceMs = options.closeGraceMs ?? 2_000;
    this.buffer = new LineReadBuffer(options.maxLineBytes, () => this.child?.kill('SIGKILL'));
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): Promise<void> {
    if (this.child) return Promise.reject(new Error('BoundedStdioTransport already started'));
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.command, this.options.args, {
        env: this.options.env,
        cwd: this.options.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      });
      this.child = child;
      child.once('spawn', () => resolve());
      child.on('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.once('close', () => {
        if (this.child === child) this.child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => this.read(chunk));
      child.stderr?.pipe(this.stderr);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('Not connected: the upstream process is not running'));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.buffer.clear();
    if (!child) return;
    const closed = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('close', () => resolve());
    });
    const within = (ms: number) => Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
    try {
      child.stdin?.end();
    } catch {
      // A stdin already broken: the signals below still stop the child.
    }
    await within(this.closeGraceMs);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await within(this.closeGraceMs);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private read(chunk: Buffer): void {
    try {
      this.buffer.append(chunk);
    } catch (error) {
      // Past the line bound: the child is already being killed; report it and release the transport.
      this.onerror?.(asError(error));
      void this.close();
      return;
    }
    for (;;) {
      try {
        const message = this.buffer.readMessage();
        if (!message) return;
        this.onmessage?.(message);
      } catch (error) {
        // One line that is JSON but not JSON-RPC: reported, and the lines after it are still read.
        this.onerror?.(asError(error));
      }
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
