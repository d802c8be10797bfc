import { Worker } from 'node:worker_threads';

/**
 * Runs the store's read queries on a worker thread with its own read-only connection to the SQLite file, so a search
 * never blocks the hub's event loop and runs in parallel with request handling (on 2 cores the worker and the main
 * thread each get one). WAL mode lets it read while the main connection writes; every statement sees the latest
 * commit. A crashed worker fails its pending queries and is replaced on the next one. The source takes Node's modules
 * from process.getBuiltinModule, not require, so it runs whether Node evaluates it as CommonJS or, in a process
 * started with --input-type=module (workers inherit it), as an ES module.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
const db = new DatabaseSync(workerData.file, { readOnly: true, timeout: workerData.busyTimeoutMs });
const prepared = new Map();
parentPort.on('message', ({ id, name, params }) => {
  try {
    let statement = prepared.get(name);
    if (!statement) {
      statement = db.prepare(workerData.statements[name]);
      prepared.set(name, statement);
    }
    parentPort.postMessage({ id, rows: statement.all(params) });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
`;

interface Pending {
  resolve(rows: unknown[]): void;
  reject(err: Error): void;
}

export class SqliteReader<Name extends string> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly statements: Record<Name, string>,
    private readonly busyTimeoutMs: number,
  ) {}

  all<T>(name: Name, params: Record<string, unknown>): Promise<T[]> {
    if (this.closed) return Promise.reject(new Error('the Intelligence store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.next++;
    return new Promise<T[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      worker.postMessage({ id, name, params });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    this.fail(new Error('the Intelligence store is closed'));
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, statements: this.statements, busyTimeoutMs: this.busyTimeoutMs },
    });
    // Idle, the worker must not keep the process alive; close() terminates it.
    worker.unref();
    worker.on('message', (msg: { id: number; rows?: unknown[]; error?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.rows ?? []);
    });
    const lost = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.fail(err);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the Intelligence search worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
