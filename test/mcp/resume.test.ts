import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, testHub, untilReady, type TestHub } from '../helpers/app.js';

interface SseEvent {
  id?: string;
  retry?: string;
  data: string;
}

/** Reads SSE events off a fetch body until `until` says stop or the server ends the stream. */
async function readEvents(res: Response, until: (events: SseEvent[]) => boolean = () => false): Promise<SseEvent[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue; // comments (keep-alives) and blank lines
        const field = line.slice(0, colon);
        const val = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') event.id = val;
        else if (field === 'retry') event.retry = val;
        else if (field === 'data') event.data += val;
      }
      events.push(event);
    }
  }
  await reader.cancel();
  return events;
}

const rpc = (id: number, method: string, params: object = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });

const backends = [{ name: 'memory', env: {} as Record<string, string> }];
if (process.env.REDIS_URL) backends.push({ name: 'redis', env: { REDIS_URL: process.env.REDIS_URL } });
else console.warn('REDIS_URL is unset: the MCP resumption test runs with the memory event store only');

describe.each(backends)('resuming a Streamable HTTP stream with Last-Event-ID ($name event store)', ({ name, env }) => {
  let hub: TestHub;
  let url: string;
  let sid: string;
  const headers = () => ({ ...MCP_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });

  beforeAll(async () => {
    hub = await testHub(env);
    await hub.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}/mcp`;
    expect(hub.deps.events.kind).toBe(name);
    expect(await untilReady(hub)).toBe(true); // with Redis, opening a session needs it
    const init = await fetch(url, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: rpc(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'resume-test', version: '1' } }),
    });
    expect(init.status).toBe(200);
    sid = init.headers.get('mcp-session-id')!;
    await readEvents(init);
    const initialized = await fetch(url, { method: 'POST', headers: headers(), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    expect(initialized.status).toBe(202);
  });
  afterAll(() => hub?.close());

  // prompts/list: tools/list and tools/call in a session take the fast path, which answers plain JSON (no stream).
  it('primes a POST stream with an id and retry, and replays what followed it on a GET with Last-Event-ID', async () => {
    const res = await fetch(url, { method: 'POST', headers: headers(), body: rpc(2, 'prompts/list') });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(res);
    const [priming, answer] = events;
    expect(priming).toMatchObject({ data: '', retry: '1000' });
    expect(priming!.id).toMatch(/_/);
    expect(answer!.id).toBeDefined();
    expect(JSON.parse(answer!.data)).toMatchObject({ id: 2, result: { prompts: expect.any(Array) } });

    // As if the client had lost the stream right after the priming event: the answer comes again, same id.
    const resumed = await fetch(url, { method: 'GET', headers: { ...headers(), accept: 'text/event-stream', 'last-event-id': priming!.id! } });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('mcp-session-id')).toBe(sid);
    const replayed = await readEvents(resumed, (got) => got.some((e) => e.data !== ''));
    const message = replayed.find((e) => e.data !== '')!;
    expect(message.id).toBe(answer!.id);
    expect(JSON.parse(message.data)).toEqual(JSON.parse(answer!.data));
  });

  it('opens the standalone GET stream, and refuses a Last-Event-ID it never issued', async () => {
    const stream = await fetch(url, { method: 'GET', headers: { ...headers(), accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    await stream.body!.cancel();

    for (const bogus of ['garbage', '_GET_stream_99', 'unknown-stream_1-0', 'unknown-stream_000000000001']) {
      const res = await fetch(url, { method: 'GET', headers: { ...headers(), accept: 'text/event-stream', 'last-event-id': bogus } });
      expect(res.status, bogus).toBe(400);
      expect(await res.json()).toMatchObject({ error: { message: 'Invalid event ID format' } });
    }
  });

  it('does not let another session resume this one (its cursor is scoped to its own session)', async () => {
    const res = await fetch(url, { method: 'POST', headers: headers(), body: rpc(3, 'prompts/list') });
    const [priming] = await readEvents(res);
    const other = await fetch(url, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: rpc(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'other', version: '1' } }),
    });
    const otherSid = other.headers.get('mcp-session-id')!;
    await readEvents(other);
    const stolen = await fetch(url, {
      method: 'GET',
      headers: { ...headers(), 'mcp-session-id': otherSid, accept: 'text/event-stream', 'last-event-id': priming!.id! },
    });
    expect(stolen.status).toBe(400);
    await stolen.body?.cancel();
  });
});
