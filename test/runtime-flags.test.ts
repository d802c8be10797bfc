import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MCP_HEADERS, TEST_KEY } from './helpers/app.js';
import { MAIN, startHubProcess } from './helpers/spawn-hub.js';

const run = promisify(execFile);
const built = existsSync(MAIN);
if (!built) console.warn(`skipping the V8 settings test: ${MAIN} is missing (npm test builds it; or run npm run build)`);

/** V8 prints its pretenuring decisions with this flag, one line each, on stdout. */
const TRACE = '--trace-pretenuring-statistics';
const DECISION = /\] pretenuring: /;

/** Allocates long-lived objects from one site: V8 decides to pretenure it, unless pretenuring is off. */
const LONG_LIVED = `function mk(i) { return { i, a: [i, i + 1] }; }
let keep = [];
for (let r = 0; r < 40; r++) { for (let i = 0; i < 100000; i++) keep.push(mk(i)); if (keep.length > 200000) keep = []; }`;

describe.skipIf(!built)('V8 settings of the hub process (src/runtime-flags.ts)', () => {
  it('this Node reports pretenuring decisions when pretenuring is on (so the check below can fail)', async () => {
    const { stdout } = await run(process.execPath, [TRACE, '-e', LONG_LIVED], { maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toMatch(DECISION);
  });

  // Decisions V8 takes while Node loads the hub's modules (before src/runtime-flags.ts is evaluated) are about the
  // loader's and the modules' own objects; the ones that matter are taken about the sites serving calls.
  it('the hub, started as npm start starts it, makes no pretenuring decision once it serves calls', async () => {
    const hub = await startHubProcess({ MCP_API_KEY: TEST_KEY, MCP_SESSION_MODE: 'stateless', LOG_LEVEL: 'warn' }, { nodeArgs: [TRACE] });
    const ready = hub.stdout().length;
    try {
      // 16 calls in flight at a time, as the benchmark runs: every scavenge then finds calls alive.
      for (let batch = 0; batch < 40; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            fetch(`${hub.url}/mcp`, {
              method: 'POST',
              headers: MCP_HEADERS,
              body: JSON.stringify({ jsonrpc: '2.0', id: batch * 16 + i, method: 'tools/call', params: { name: 'search', arguments: { query: 'gateway notes' } } }),
            }).then(async (res) => [res.status, await res.text()] as const),
          ),
        );
        for (const [status, body] of answers) expect(status, body).toBe(200);
      }
    } finally {
      expect(await hub.stop()).toBe(0);
    }
    const decisions = hub.stdout().slice(ready).split('\n').filter((line) => DECISION.test(line));
    expect(decisions).toEqual([]);
  });
});
