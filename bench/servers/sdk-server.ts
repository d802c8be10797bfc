import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { geocodeResult } from './geocode-upstream.js';

/**
 * The official SDK's documented minimal stateless Streamable HTTP server (README "Without Session Management"):
 * a new McpServer and transport per request, one tool registered with registerTool, served by node:http.
 * No auth, no quota, no audit: the hub with all of those is compared with this.
 * BENCH_TOOL=geocode registers `google_maps_geocode` instead (one upstream GET to GOOGLE_API_BASE_URL per call).
 */
function getServer(): McpServer {
  const server = new McpServer({ name: 'sdk-minimal', version: '1.0.0' });
  if (process.env.BENCH_TOOL === 'geocode') {
    server.registerTool(
      'google_maps_geocode',
      {
        title: 'Geocode an address',
        description: 'Convert an address into coordinates.',
        inputSchema: { address: z.string().min(1).max(500), max_results: z.number().int().min(1).max(20).default(5) },
      },
      async ({ address }) => geocodeResult(address),
    );
    return server;
  }
  server.registerTool(
    'fixture_echo',
    {
      title: 'Echo',
      description: 'Returns its message, upper-cased, and its length.',
      inputSchema: { message: z.string().max(1000), repeat: z.number().int().min(1).max(3).default(1) },
      outputSchema: { echo: z.string(), length: z.number() },
    },
    async ({ message, repeat }) => {
      const structuredContent = { echo: message.toUpperCase().repeat(repeat), length: message.length };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );
  return server;
}

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/mcp') {
    res.writeHead(405).end();
    return;
  }
  const server = getServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  server
    .connect(transport)
    .then(() => transport.handleRequest(req, res))
    .catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
});
http.listen(Number(process.env.PORT), '127.0.0.1');
