import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedFetch, currentCall, ResultTooLargeError } from '../../src/upstreams/bounded-fetch.js';

const CAP = 64 * 1024;

describe('boundedFetch: response bodies bounded while they are read', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(CAP * 4) }).end('x'.repeat(CAP * 4));
        return;
      }
      // Chunked and endless until the client stops reading: only the bound can end it.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = 'y'.repeat(16 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('errors an endless stream past the cap and tells the call that sent the request', async () => {
    const told: number[] = [];
    const streams: number[] = [];
    const bounded = boundedFetch(CAP, (bytes) => streams.push(bytes));
    const res = await currentCall.run({ overflow: (bytes) => told.push(bytes) }, () => bounded(`${base}/endless`));
    await expect(res.text()).rejects.toBeInstanceOf(ResultTooLargeError);
    expect(told).toHaveLength(1);
    expect(told[0]).toBeGreaterThan(CAP);
    expect(streams).toEqual([]);
  });

  it('a stream opened outside any call reports to the connection; a declared length over the cap is refused before reading', async () => {
    const streams: number[] = [];
    const bounded = boundedFetch(CAP, (bytes) => streams.push(bytes));
    const res = await bounded(`${base}/endless`);
    await expect(res.text()).rejects.toThrow('UPSTREAM_RESULT_MAX_BYTES');
    expect(streams).toHaveLength(1);
    await expect(bounded(`${base}/declared`)).rejects.toBeInstanceOf(ResultTooLargeError);
    expect(streams[1]).toBe(CAP * 4);
  });
});
