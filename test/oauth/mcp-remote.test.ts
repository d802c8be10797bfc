import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { ROOT, freePort } from '../helpers/spawn-hub.js';
import { submitConsent } from './helpers.js';

/**
 * A client nobody here wrote: `mcp-remote` (the widely used stdio-to-remote bridge, npm) runs its own OAuth client —
 * discovery, dynamic registration, PKCE, a loopback callback server — against the hub. The test plays the operator:
 * it answers the consent page the client prints and lets the browser's redirect reach the client's callback.
 */

const CLIENT = path.join(ROOT, 'node_modules/mcp-remote/dist/client.js');

describe('mcp-remote completes the OAuth flow against the hub', () => {
  let hub: TestHub;
  let base: string;
  let child: ChildProcess | undefined;
  const configDir = mkdtempSync(path.join(tmpdir(), 'omni-mcp-remote-'));

  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
    base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    await hub.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('registers, is approved, exchanges its code and lists the tools over MCP', async () => {
    const callbackPort = await freePort();
    // BROWSER=true: the bridge's attempt to open a browser runs `true` instead; the test is the browser.
    child = spawn(process.execPath, [CLIENT, `${base}/mcp`, String(callbackPort)], {
      env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: 'true', DISPLAY: '' },
      // stdin stays open: the bridge shuts down when its stdin ends.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const authUrl = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /Please authorize this client by visiting:\s+(\S+)/.exec(output);
        if (m) resolve(m[1]!);
      };
      child!.stderr!.on('data', onData);
      child!.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      void exited.then((code) => reject(new Error(`mcp-remote exited (${code}) before asking for authorization:\n${output}`)));
    });
    expect(authUrl.startsWith(`${base}/authorize?`)).toBe(true);

    const consent = await submitConsent(authUrl, { key: TEST_KEY, level: 'tools:low', action: 'approve' });
    expect(consent.status, consent.body).toBe(303);
    const callback = new URL(consent.location!);
    expect(callback.port).toBe(String(callbackPort));
    // The browser follows the redirect to the bridge's loopback callback, which takes the code from there.
    const landed = await fetch(callback);
    expect(landed.status).toBe(200);

    expect(await exited, output).toBe(0);
    expect(output).toContain('Connected successfully!');
    expect(output).toContain('"fixture_echo"');

    const clients = (await hub.app.inject({ method: 'GET', url: '/v1/oauth/clients', headers: AUTH })).json() as { clients: { client_name: string; granted: string[] }[] };
    expect(clients.clients).toEqual([expect.objectContaining({ client_name: expect.stringContaining('MCP CLI Client'), granted: ['tools:low'] })]);
  }, 120_000);
});
