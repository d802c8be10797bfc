import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body as received, for binary payloads (a build context tar). */
  rawBody: Buffer;
}

export interface FakeServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type FakeHandler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

/**
 * A local HTTP server speaking some API's wire format, for pointing a real client library at.
 * Records every request (method, url, headers, body) so tests can assert what the client sent.
 * Listens on a unix socket path instead when `socketPath` is given (Docker Engine fakes).
 */
export async function startFakeServer(handler: FakeHandler, opts: { socketPath?: string } = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        rawBody: Buffer.concat(chunks),
      };
      requests.push(rec);
      Promise.resolve(handler(rec, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 500, message: String(err), status: 'INTERNAL' } }));
      });
    });
  });
  await new Promise<void>((resolve) => {
    if (opts.socketPath) server.listen(opts.socketPath, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  const port = opts.socketPath ? 0 : (server.address() as AddressInfo).port;
  return {
    url: opts.socketPath ? `unix://${opts.socketPath}` : `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
