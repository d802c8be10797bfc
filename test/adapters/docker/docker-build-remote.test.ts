import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerBuild } from '../../../src/adapters/docker/tools-images.js';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { testConfig } from '../../helpers/config.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../fakes/docker-engine.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';

/**
 * Issue 14 item 6: docker_build.remote must not make the Engine fetch internal addresses, carry credentials, or tell
 * open from closed ports. Host names are resolved by the system resolver; this machine has no DNS, so the tests use
 * address literals and names from the hosts file ("localhost").
 */

let engine: FakeDockerEngine;
let config: ReturnType<typeof testConfig>;
/** A fresh call context per call: its deadline and signal start when the call does. */
const ctx = () => toolContext(config);
const PUBLIC = 'https://140.82.121.3/org/app.git#main';

beforeAll(async () => {
  engine = await startFakeDockerEngine();
  config = testConfig({ DOCKER_HOST: engine.url });
});
afterAll(() => engine.close());

describe('docker_build.remote targets', () => {
  it.each([
    ['https://127.0.0.1:6379/x.git', 'loopback'],
    ['https://localhost/x.git', 'loopback by name'],
    ['https://169.254.169.254/computeMetadata/v1/', 'cloud metadata (link-local)'],
    ['https://10.1.2.3/x.git', 'private 10/8'],
    ['https://172.16.0.1/x.git', 'private 172.16/12'],
    ['https://192.168.1.1/x.git', 'private 192.168/16'],
    ['https://100.64.0.1/x.git', 'CGNAT 100.64/10'],
    ['https://0.0.0.0:8080/x.git', '0/8'],
    ['https://224.0.0.1/x.git', 'multicast'],
    ['https://[::1]:2375/x.git', 'IPv6 loopback'],
    ['https://[fd00::1]/x.git', 'IPv6 unique local fc00::/7'],
    ['https://[fe80::1]/x.git', 'IPv6 link-local'],
    ['https://[::ffff:127.0.0.1]/x.git', 'IPv4-mapped loopback'],
    ['https://[::ffff:a9fe:a9fe]/latest/meta-data', 'IPv4-mapped metadata address'],
    ['https://2130706433/x.git', 'loopback as a decimal number'],
    ['https://0x7f.1/x.git', 'loopback in hex shorthand'],
    ['https://no-such-host.invalid/x.git', 'a name that does not resolve'],
  ])('refuses %s (%s) before contacting the Engine', async (remote) => {
    const before = engine.requests.length;
    const err = await failure(runTool(dockerBuild, { remote }, ctx()));
    expect(err.code).toBe('invalid_arguments');
    expect(err.message).toMatch(/only to public internet addresses/);
    expect(engine.requests.length).toBe(before);
  });

  it.each([
    ['git://140.82.121.3/org/app.git', /https:\/\//],
    ['git@140.82.121.3:org/app.git', /https:\/\//],
    ['http://140.82.121.3/org/app.git', /https:\/\//],
  ])('refuses scheme %s', (remote, message) => {
    const parsed = dockerBuild.input.safeParse({ remote });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toMatch(message);
  });

  it('refuses credentials in the URL with a clear message and never sends them', async () => {
    const before = engine.requests.length;
    for (const remote of ['https://oauth2:ghp_secret@140.82.121.3/org/app.git', 'https://ghp_secret@140.82.121.3/org/app.git']) {
      const err = await failure(runTool(dockerBuild, { remote }, ctx()));
      expect(err.code).toBe('invalid_arguments');
      expect(err.message).toContain('must not carry credentials');
      expect(err.message).not.toContain('ghp_secret');
    }
    expect(engine.requests.length).toBe(before);
  });

  it('sends a public https URL to the Engine in its normalized form', async () => {
    const res = await runTool(dockerBuild, { remote: 'https://140.82.121.3/org/a\\..\\app.git#main:sub' }, ctx());
    // WHATWG and Go parse "\" differently; the Engine gets the one serialization the hub checked.
    expect(engine.state.builds.at(-1)!.query.remote).toBe('https://140.82.121.3/org/app.git#main:sub');
    expect(res).toMatchObject({ status: 'built' });
  });

  it('answers every fetch failure with one generic text (closed and open ports look the same)', async () => {
    const messages: string[] = [];
    try {
      // Docker Engine 20.10's own answers (HTTP 500, before any output) for a closed port and an open non-TLS one.
      for (const engineSays of [
        "error fetching: fatal: unable to access 'https://140.82.121.3:9/x.git/': Failed to connect to 140.82.121.3 port 9 after 0 ms: Couldn't connect to server\n: exit status 128",
        "error fetching: fatal: unable to access 'https://140.82.121.3:18931/x.git/': gnutls_handshake() failed: An unexpected TLS packet was received.\n: exit status 128",
        'error downloading remote context https://140.82.121.3:9/ctx.tar: Get "https://140.82.121.3:9/ctx.tar": dial tcp 140.82.121.3:9: connect: connection refused',
      ]) {
        engine.state.remoteFetchError = engineSays;
        const err = await failure(runTool(dockerBuild, { remote: PUBLIC }, ctx()));
        expect(err.code).toBe('upstream_error');
        expect(JSON.stringify(err.details)).not.toMatch(/refused|gnutls|port|connect/i);
        expect(err.message).not.toMatch(/refused|gnutls|port 9|connect/i);
        messages.push(err.message);
      }
    } finally {
      engine.state.remoteFetchError = undefined;
    }
    expect(new Set(messages.map((m) => m.replace(/https:\S+/, 'URL'))).size).toBe(1);
    expect(messages[0]).toContain('could not fetch or read the remote context');
  });
});

describe('DOCKER_BUILD_REMOTE_HOSTS', () => {
  it('limits remote to the listed hosts', async () => {
    const limited = toolContext(testConfig({ DOCKER_HOST: engine.url, DOCKER_BUILD_REMOTE_HOSTS: 'github.com, 140.82.121.3' }));
    expect(limited.config.docker.remoteHosts).toEqual(['github.com', '140.82.121.3']);
    const err = await failure(runTool(dockerBuild, { remote: 'https://140.82.121.4/org/app.git' }, limited));
    expect(err.code).toBe('invalid_arguments');
    expect(err.message).toContain('not on DOCKER_BUILD_REMOTE_HOSTS');
    expect(await runTool(dockerBuild, { remote: PUBLIC }, limited)).toMatchObject({ status: 'built' });
  });

  it('still refuses a listed host that resolves to a private address', async () => {
    const listed = toolContext(testConfig({ DOCKER_HOST: engine.url, DOCKER_BUILD_REMOTE_HOSTS: 'localhost' }));
    const err = await failure(runTool(dockerBuild, { remote: 'https://localhost/x.git' }, listed));
    expect(err.message).toMatch(/only to public internet addresses/);
  });

  it('stops start with one line on a value that is not a host name list', () => {
    expect(() => loadConfig({ DOCKER_BUILD_REMOTE_HOSTS: 'github.com,https://x/' })).toThrow(ConfigError);
    expect(() => loadConfig({ DOCKER_BUILD_REMOTE_HOSTS: 'github.com,https://x/' })).toThrow(/invalid DOCKER_BUILD_REMOTE_HOSTS: "https:\/\/x\/"/);
  });
});
