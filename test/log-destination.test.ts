import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/spawn-hub.js';

/**
 * The hub's logger (src/log.ts) in a process of its own, stdout a file: the built module, as `npm start` runs it. The
 * child counts the writes its logger makes (fs.write is what sonic-boom writes with; each call still writes) while
 * idle, after one line, and idle again, and waits for the line to reach the file without exiting (exit flushes anyway).
 */
const CHILD = `
import fs from 'node:fs';
const { createLogger } = await import(process.env.LOG_MODULE);
const { loadConfig } = await import(process.env.CONFIG_MODULE);
const write = fs.write;
let writes = 0;
fs.write = function (...args) { writes += 1; return write.apply(this, args); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = createLogger(loadConfig({ LOG_LEVEL: 'info' }));
await sleep(300);
const idle = writes;
log.info({ type: 'probe' }, 'one line');
// Written by the flush timer, long before exit (polled, so a slow machine only takes longer).
const loggedAt = Date.now();
let bytes = 0;
while (bytes === 0 && Date.now() - loggedAt < 10_000) {
  await sleep(10);
  bytes = fs.statSync(process.env.OUT).size;
}
const afterLine = writes;
await sleep(300);
process.stderr.write(JSON.stringify({ idle, afterLine, idleAgain: writes - afterLine, bytes }));
log.info({ type: 'probe' }, 'naïve ✓ last line before exit');
process.exit(0);
`;

describe('the log destination', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes nothing while idle, a line soon after it is logged (one write), and what is queued at exit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'omni-log-'));
    dirs.push(dir);
    const out = path.join(dir, 'stdout.log');
    const fd = openSync(out, 'w');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: {
        PATH: process.env.PATH ?? '',
        OUT: out,
        LOG_MODULE: pathToFileURL(path.join(ROOT, 'dist/log.js')).href,
        CONFIG_MODULE: pathToFileURL(path.join(ROOT, 'dist/config.js')).href,
      },
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      timeout: 20_000,
    });
    closeSync(fd);
    expect(child.status, child.stderr).toBe(0);
    const seen = JSON.parse(child.stderr) as { idle: number; afterLine: number; idleAgain: number; bytes: number };
    // sonic-boom's periodicFlush wrote an empty string every 50 ms, line or no line.
    expect(seen.idle).toBe(0);
    expect(seen.afterLine).toBe(1);
    expect(seen.bytes).toBeGreaterThan(0);
    expect(seen.idleAgain).toBe(0);
    // The line logged just before process.exit is written on the way out, UTF-8 intact.
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { message: string });
    expect(lines.map((l) => l.message)).toEqual(['one line', 'naïve ✓ last line before exit']);
  });
});
