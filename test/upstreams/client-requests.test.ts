import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { stdioEverything } from './helpers.js';

const text = (result: { content?: unknown }) => JSON.stringify(result.content);

/** Upstream elicitation and sampling relayed to the hub's client of the call (official everything server over stdio). */
describe('elicitation and sampling requests of an upstream', () => {
  let hub: TestHub;
  let url: URL;
  const requestInit = { headers: { authorization: `Bearer ${TEST_KEY}` } };
  beforeAll(async () => {
    hub = await testHub({ UPSTREAMS: JSON.stringify([stdioEverything('ev')]) }, { systems: [fixtureSystem] });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    url = new URL(`http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}/mcp`);
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('a 2025 session client that answers gets the upstream\'s elicitation and sampling requests; its answers go back', async () => {
    const client = new Client({ name: 'answers', version: '1' }, { capabilities: { elicitation: { form: {} }, sampling: {} } });
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true } };
    });
    client.setRequestHandler('sampling/createMessage', async (req) => {
      asked.push(JSON.stringify(req.params.messages));
      return { role: 'assistant', content: { type: 'text', text: 'sampled by the test client' }, model: 'test-model' };
    });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit }));
    try {
      const elicited = await client.callTool({ name: 'ev_trigger-elicitation-request', arguments: {} });
      expect(elicited.isError ?? false).toBe(false);
      expect(text(elicited)).toContain('Name: Ada Lovelace');
      const sampled = await client.callTool({ name: 'ev_trigger-sampling-request', arguments: { prompt: 'say hi', maxTokens: 20 } });
      expect(text(sampled)).toContain('sampled by the test client');
      expect(asked).toHaveLength(2);
      expect(asked[1]).toContain('say hi');
    } finally {
      await client.close();
    }
  });

  it('a client that cannot answer: the upstream is refused and the call fails naming elicitation', async () => {
    const client = new Client({ name: 'cannot', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit }));
    try {
      const result = await client.callTool({ name: 'ev_trigger-elicitation-request', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/elicitation/i);
    } finally {
      await client.close();
    }
  });

  it('a 2026-07-28 client calling a 2025 upstream that asks is not asked (no server-to-client requests there): the call fails naming elicitation', async () => {
    const client = new Client({ name: 'modern', version: '1' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    let asked = 0;
    client.setRequestHandler('elicitation/create', async () => {
      asked += 1;
      return { action: 'decline' };
    });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit }));
    try {
      const result = await client.callTool({ name: 'ev_trigger-elicitation-request', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/elicitation/i);
      expect(asked).toBe(0);
    } finally {
      await client.close();
    }
  });
});
