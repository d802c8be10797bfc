import { afterEach, describe, expect, it } from 'vitest';
import { TEST_KEY } from '../helpers/app.js';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

/**
 * The JSON log is buffered (src/log.ts): lines wait for a full buffer or the flush timer a waiting line arms. These run the built
 * server and read its real stdout, so a line that only a full buffer or the exit would write shows up as missing.
 */
describe('log delivery from the buffered destination', () => {
  let hub: HubProcess | undefined;
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    hub = undefined;
  });

  const auditLines = (stdout: string, tool: string) =>
    stdout
      .split('\n')
      .filter((l) => l.includes('"tool call"'))
      .map((l) => JSON.parse(l) as { message: string; audit: { tool: string; outcome: string; args: { query?: string } } })
      .filter((l) => l.audit.tool === tool);

  async function searchOnce(url: string, query: string): Promise<void> {
    const res = await fetch(`${url}/v1/tools/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }

  it('writes a lone call’s audit line without further traffic (far less than a buffer of it)', async () => {
    hub = await startHubProcess({ MCP_API_KEY: TEST_KEY, LOG_LEVEL: 'info' });
    await searchOnce(hub.url, 'quiet afternoon');
    const deadline = Date.now() + 10_000;
    while (auditLines(hub.stdout(), 'search').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [line] = auditLines(hub.stdout(), 'search');
    expect(line?.audit.outcome).toBe('ok');
  });

  it('writes every line of a burst, whole and in order, when the process stops', async () => {
    hub = await startHubProcess({ MCP_API_KEY: TEST_KEY, LOG_LEVEL: 'info' });
    for (let i = 0; i < 40; i++) await searchOnce(hub.url, `burst ${i}`);
    expect(await hub.stop('SIGTERM')).toBe(0);
    const lines = hub.stdout().split('\n').filter(Boolean);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(auditLines(hub.stdout(), 'search').map((l) => l.audit.args.query)).toEqual(Array.from({ length: 40 }, (_, i) => `burst ${i}`));
    // The shutdown's lines, the last one written just before exit included.
    expect(lines.slice(-3).map((l) => (JSON.parse(l) as { message: string }).message)).toEqual([
      'shutting down: no new connections, draining in-flight calls',
      'in-flight calls drained; closing connections',
      'server closed; closing stores',
    ]);
  });
});
