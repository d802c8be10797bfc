import Fastify from 'fastify';
import { geocodeResult } from './geocode-upstream.js';

/**
 * The floor of the gateway comparison: a bare Fastify route that reads the JSON-RPC id and the address of a
 * `tools/call`, makes the one upstream GET to the Geocoding stand-in and answers it as a tools/call result. No auth,
 * no validation, no quota, no audit, no log.
 */
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/mcp', async (request) => {
  const body = request.body as { id?: unknown; params?: { arguments?: { address?: string } } } | null;
  const result = await geocodeResult(body?.params?.arguments?.address ?? '');
  return { result, jsonrpc: '2.0', id: body?.id ?? null };
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
