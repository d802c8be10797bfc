import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { geocodeResult } from './geocode-upstream.js';

/**
 * The official SDK v2's documented stateless HTTP server (its serving guide, "Serve over HTTP"): `createMcpHandler`
 * with a factory building a fresh McpServer per request, one tool registered with registerTool, mounted on node:http
 * with `toNodeHandler`. It answers 2026-07-28 requests and, by default, 2025-era ones statelessly.
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
        inputSchema: z.object({ address: z.string().min(1).max(500), max_results: z.number().int().min(1).max(20).default(5) }),
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
      inputSchema: z.object({ message: z.string().max(1000), repeat: z.number().int().min(1).max(3).default(1) }),
      outputSchema: z.object({ echo: z.string(), length: z.number() }),
    },
    async ({ message, repeat }) => {
      const structuredContent = { echo: message.toUpperCase().repeat(repeat), length: message.length };
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
    },
  );
  return server;
}

const mcp = toNodeHandler(createMcpHandler(getServer));

const http = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (req.url !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  mcp(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500).end();
  });
});
http.listen(Number(process.env.PORT), '127.0.0.1');
