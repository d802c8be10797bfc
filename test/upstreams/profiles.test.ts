import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { keyId } from '../../src/http/auth.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { obtainTokens } from '../oauth/helpers.js';
import { stdioEverything } from './helpers.js';

const ECHO_KEY = 'echo-profile-key-0123456789';
const EV_KEY = 'ev-profile-key-0123456789ab';

const PROFILES = [
  { name: 'echo', tools: ['fixture_echo', 'ev_get-*'], max_level: 'MEDIUM' },
  { name: 'low', toolsets: ['connector'], max_level: 'LOW' },
  { name: 'ev', upstreams: ['ev'], prefix: false },
];

type ToolRow = { name: string; level: string };

/** The official v2 client on the hub's /mcp with a bearer value (a hub key or an OAuth access token). */
async function mcpClient(base: string, bearer: string): Promise<Client> {
  const client = new Client({ name: 'profile-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
  return client;
}

describe('profiles: named views of the catalog', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    hub = await testHub(
      {
        MCP_API_KEY: [TEST_KEY, ECHO_KEY, EV_KEY].join(','),
        UPSTREAMS: JSON.stringify([stdioEverything('ev')]),
        PROFILES: JSON.stringify(PROFILES),
        MCP_API_KEY_PROFILES: JSON.stringify({ [keyId(ECHO_KEY)]: 'echo', [keyId(EV_KEY)]: 'ev' }),
      },
      { systems: [fixtureSystem] },
    );
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await hub?.close();
  });

  const restTools = async (bearer: string, query = '') => {
    const res = await fetch(`${base}/v1/tools${query}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: res.status, body: (await res.json()) as { tools: ToolRow[]; error?: { code: string; message: string } } };
  };

  it('a profile bound to a key shows only its tools on tools/list, GET /v1/tools and /openapi.json?profile=', async () => {
    const inEcho = (n: string) => n === 'fixture_echo' || n.startsWith('ev_get-');
    const rest = (await restTools(ECHO_KEY)).body.tools.map((t) => t.name);
    expect(rest).toContain('fixture_echo');
    expect(rest).toContain('ev_get-sum');
    expect(rest.every(inEcho)).toBe(true);

    const client = await mcpClient(base, ECHO_KEY);
    try {
      const listed = (await client.listTools()).tools.map((t) => t.name);
      expect(listed.sort()).toEqual([...rest].sort());
    } finally {
      await client.close();
    }

    const openapi = (await (await fetch(`${base}/openapi.json?profile=echo`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).map((p) => p.replace('/v1/tools/', '')).sort()).toEqual([...rest].sort());
    // Without a key's binding the whole catalog stays available to other keys.
    expect((await restTools(TEST_KEY)).body.tools.some((t) => t.name === 'fixture_fail')).toBe(true);
  });

  it('a call outside the profile is refused as an unknown tool (REST 404, MCP error); inside it runs', async () => {
    const headers = { authorization: `Bearer ${ECHO_KEY}`, 'content-type': 'application/json' };
    const outside = await fetch(`${base}/v1/tools/fixture_fail`, { method: 'POST', headers, body: '{}' });
    expect(outside.status).toBe(404);
    expect(((await outside.json()) as { error: { code: string } }).error.code).toBe('unknown_tool');
    const inside = await fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers, body: JSON.stringify({ message: 'hi' }) });
    expect(inside.status).toBe(200);

    const client = await mcpClient(base, ECHO_KEY);
    try {
      await expect(client.callTool({ name: 'fixture_fail', arguments: {} })).rejects.toThrow(/Unknown tool/);
      const sum = await client.callTool({ name: 'ev_get-sum', arguments: { a: 1, b: 2 } });
      expect(sum.content).toEqual([{ type: 'text', text: 'The sum of 1 and 2 is 3.' }]);
    } finally {
      await client.close();
    }
  });

  it('?profile= narrows for an unbound key; a bound key cannot pick another profile; an unknown profile is 404', async () => {
    const low = await restTools(TEST_KEY, '?profile=low');
    expect(low.status).toBe(200);
    expect(low.body.tools.length).toBeGreaterThan(0);
    expect(low.body.tools.every((t) => t.name.startsWith('fixture_') && t.level === 'LOW')).toBe(true);
    const call = await fetch(`${base}/v1/tools/fixture_fail?profile=low`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
    expect(call.status).toBe(404);

    const widen = await restTools(ECHO_KEY, '?profile=low');
    expect(widen.status).toBe(403);
    expect(widen.body.error?.message).toContain('bound to profile "echo"');
    const unknown = await restTools(TEST_KEY, '?profile=nope');
    expect(unknown.status).toBe(404);
    expect((await fetch(`${base}/openapi.json?profile=nope`)).status).toBe(404);
  });

  it('a "prefix": false profile serves its one upstream under the upstream\'s own names over MCP', async () => {
    const client = await mcpClient(base, EV_KEY);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('get-sum');
      expect(names.some((n) => n.startsWith('ev_') || n.startsWith('fixture_'))).toBe(false);
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: 20, b: 22 } });
      expect(sum.content).toEqual([{ type: 'text', text: 'The sum of 20 and 22 is 42.' }]);
    } finally {
      await client.close();
    }
    // The audit names the catalog tool.
    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 5, tool: 'ev_get-sum' });
    expect(records.some((r) => r.transport === 'mcp' && (r.args as { a?: number } | undefined)?.a === 20)).toBe(true);
  });

  it('a tools:low OAuth token lists only LOW tools (MCP and REST)', async () => {
    const { access } = await obtainTokens(base, TEST_KEY, 'tools:low');
    const rest = await restTools(access);
    expect(rest.status).toBe(200);
    expect(rest.body.tools.length).toBeGreaterThan(0);
    expect(rest.body.tools.every((t) => t.level === 'LOW')).toBe(true);
    expect(rest.body.tools.some((t) => t.name === 'fixture_fail')).toBe(false);
    const client = await mcpClient(base, access);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names.sort()).toEqual(rest.body.tools.map((t) => t.name).sort());
    } finally {
      await client.close();
    }
  });
});

describe('PROFILES and MCP_API_KEY_PROFILES configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({ MCP_API_KEY: TEST_KEY, UPSTREAMS: '[{"name": "ev", "command": "x"}]', ...env });
  const refusal = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('reads a valid list', () => {
    const config = load({ PROFILES: JSON.stringify(PROFILES), MCP_API_KEY_PROFILES: JSON.stringify({ 'key:0123abcd': 'low' }) });
    expect(config.profiles.map((p) => p.name)).toEqual(['echo', 'low', 'ev']);
    expect(config.keyProfiles).toEqual({ 'key:0123abcd': 'low' });
  });

  it.each([
    [{ PROFILES: '[{"name": "a", "toolsets": ["nope"]}]' }, 'invalid PROFILES: profile "a" names unknown toolset "nope"'],
    [{ PROFILES: '[{"name": "a", "upstreams": ["gh"]}]' }, 'invalid PROFILES: profile "a" names unknown upstream "gh" (UPSTREAMS: ev)'],
    [{ PROFILES: '[{"name": "a"}, {"name": "a"}]' }, 'invalid PROFILES: name "a" appears twice'],
    [{ PROFILES: '[{"name": "a", "upstreams": ["ev"], "toolsets": ["connector"], "prefix": false}]' }, 'needs exactly one upstream and no "toolsets" or "tools"'],
    [{ PROFILES: '[{"name": "a", "max_level": "HUGE"}]' }, 'invalid PROFILES: 0.max_level'],
    [{ PROFILES: '[{"name": "a", "tools": ["a(b"]}]' }, 'invalid PROFILES: 0.tools.0 must be a tool name'],
    [{ PROFILES: '[{"name": "a"}]', MCP_API_KEY_PROFILES: '{"key:0123abcd": "b"}' }, 'invalid MCP_API_KEY_PROFILES: key:0123abcd names unknown profile "b"'],
    [{ PROFILES: '[{"name": "a"}]', MCP_API_KEY_PROFILES: '{"my-key": "a"}' }, 'invalid MCP_API_KEY_PROFILES: my-key is not a key id'],
  ])('%j → one clear line', (env, message) => {
    expect(refusal(env)).toContain(message);
  });
});
