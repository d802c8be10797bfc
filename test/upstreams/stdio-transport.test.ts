import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { BoundedStdioTransport } from '../../src/upstreams/stdio-transport.js';

const node = (source: string, maxLineBytes = 1024, closeGraceMs = 100) =>
  new BoundedStdioTransport({ command: process.execPath, args: ['-e', source], env: {}, maxLineBytes, closeGraceMs });

const closedOf = (transport: BoundedStdioTransport) => new Promise<void>((resolve) => (transport.onclose = resolve));

describe('BoundedStdioTransport', () => {
  it('hands out JSON-RPC lines, reports a JSON line that is not JSON-RPC and keeps reading', async () => {
    const transport = node(
      `process.stdout.write('{"not":"rpc"}\\n' + JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\\n'); process.stdin.resume()`,
    );
    const messages: JSONRPCMessage[] = [];
    const errors: Error[] = [];
    const got = new Promise<void>((resolve) => {
      transport.onmessage = (m) => {
        messages.push(m);
        resolve();
      };
    });
    transport.onerror = (e) => errors.push(e);
    await transport.start();
    await got;
    expect(messages).toEqual([{ jsonrpc: '2.0', method: 'notifications/initialized' }]);
    expect(errors).toHaveLength(1);
    await transport.close();
  });

  it('writes what it sends to the child, one line per message', async () => {
    // The child echoes each line back: what comes back is exactly what was sent.
    const transport = node(`require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => process.stdout.write(l + '\\n'))`);
    const echoed = new Promise<JSONRPCMessage>((resolve) => (transport.onmessage = resolve));
    await transport.start();
    await transport.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
    expect(await echoed).toEqual({ jsonrpc: '2.0', id: 7, method: 'ping' });
    await transport.close();
  });

  it('kills a child whose line passes the bound and reports it', async () => {
    const transport = node(`process.stdout.write('{"jsonrpc":"2.0","method":"x","params":{"pad":"' + 'a'.repeat(10000)); setInterval(() => {}, 1000)`);
    const closed = closedOf(transport);
    const errors: Error[] = [];
    transport.onerror = (e) => errors.push(e);
    await transport.start();
    await closed;
    expect(errors[0]?.message).toMatch(/1024/);
    expect(transport.pid).toBeNull();
  });

  it('escalates to SIGKILL for a child that ignores the end of stdin and SIGTERM', async () => {
    const transport = node(`process.on('SIGTERM', () => {}); process.stderr.write('ready'); setInterval(() => {}, 1000)`);
    const closed = closedOf(transport);
    // Closed only once the child has installed its SIGTERM handler, so only SIGKILL can stop it.
    const ready = new Promise((resolve) => transport.stderr.once('data', resolve));
    await transport.start();
    await ready;
    await transport.close();
    await closed;
    expect(transport.pid).toBeNull();
  });

  it('refuses to send before start and after close', async () => {
    const transport = node('setInterval(() => {}, 1000)');
    await expect(transport.send({ jsonrpc: '2.0', method: 'x' })).rejects.toThrow(/Not connected/);
    await transport.start();
    await transport.close();
    await expect(transport.send({ jsonrpc: '2.0', method: 'x' })).rejects.toThrow(/Not connected/);
  });
});
