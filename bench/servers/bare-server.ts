import Fastify from 'fastify';

/**
 * The floor of the comparison: a bare Fastify route that parses the JSON-RPC body and answers the same result the hub
 * gives for fixture_echo (BENCH_RESULT: the hub's own answer, captured by the runner), with no auth, no validation,
 * no quota, no audit.
 */
const result: unknown = JSON.parse(process.env.BENCH_RESULT ?? '{}');
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/mcp', async (request) => {
  const id = (request.body as { id?: unknown } | null)?.id ?? null;
  return { result, jsonrpc: '2.0', id };
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
