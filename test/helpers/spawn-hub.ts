import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const MAIN = path.join(ROOT, 'dist/main.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface HubProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the built server (dist/main.js, as `npm start` runs it) and waits until /readyz answers 200. */
export async function startHubProcess(
  env: Record<string, string>,
  /** `readyMs`: how long to wait for /readyz (a hub that starts upstream processes first needs longer on a busy machine). */
  opts: { node?: string; cwd?: string; main?: string; nodeArgs?: string[]; readyMs?: number } = {},
): Promise<HubProcess> {
  const main = opts.main ?? MAIN;
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first (npm test does)`);
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'omni-hub-e2e-'));
  let out = '';
  let err = '';
  const proc = spawn(opts.node ?? process.execPath, [...(opts.nodeArgs ?? []), main], {
    cwd: opts.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let stopping = false;
  // Exits before readiness are reported by the readiness loop below (some tests expect them).
  let ready = false;
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, signal) => {
      rmSync(dataDir, { recursive: true, force: true });
      // A hub that dies under a test fails it with connection errors only: say why, from its own output.
      if (ready && !stopping) console.error(`hub on port ${port} exited unasked (code ${code}, signal ${signal}); its last output:\n${err.slice(-4_000)}${out.slice(-4_000)}`);
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyMs ?? 20_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`hub exited with ${proc.exitCode}: ${err}${out}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`hub did not become ready: ${err}${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  ready = true;
  return {
    url,
    port,
    proc,
    stdout: () => out,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      stopping = true;
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}
