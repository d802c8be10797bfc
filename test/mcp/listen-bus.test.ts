import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, testHub, untilReady, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { stdioEverything } from '../upstreams/helpers.js';

const REDIS_URL = process.env.REDIS_URL;

/**
 * `subscriptions/listen` across instances: two hubs federating the same upstream share the hub's Redis, and a change
 * of the tool list seen by one reaches a 2026-07-28 client whose subscription stream the other holds.
 */
describe.skipIf(!REDIS_URL)('2026-07-28 subscriptions/listen across instances (Redis pub/sub)', () => {
  let a: TestHub;
  let b: TestHub;
  beforeAll(async () => {
    const env = { REDIS_URL: REDIS_URL!, UPSTREAMS: JSON.stringify([stdioEverything('ev')]) };
    a = await testHub(env, { systems: [fixtureSystem] });
    b = await testHub(env, { systems: [fixtureSystem] });
    expect(await untilReady(a)).toBe(true);
    expect(await untilReady(b)).toBe(true);
    await b.app.listen({ port: 0, host: '127.0.0.1' });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('a tool list change on instance A is announced on a listen stream held by instance B', async () => {
    expect(a.deps.mcpEvents).toBeDefined();
    const url = new URL(`http://127.0.0.1:${(b.app.server.address() as AddressInfo).port}/mcp`);
    const client = new Client({ name: 'listen-bus', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: AUTH } }));
    const changed = new Promise<void>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', () => resolve()));
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toMatchObject({ toolsListChanged: true });
    // What the upstream manager does when an upstream's list changes: the registry rebuilds and tells the surfaces.
    a.app.hub.registry.refresh();
    await changed;
    await subscription.close();
    await client.close();
  }, 30_000);
});
