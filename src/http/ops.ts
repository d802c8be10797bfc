import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { HubDeps } from '../deps.js';
import type { Metrics } from '../metrics.js';

const DB_PROBE_MS = 2_000;

/** Liveness, readiness and Prometheus metrics. */
export async function opsRoutes(app: FastifyInstance, opts: { config: Config; deps: HubDeps; metrics: Metrics }): Promise<void> {
  const { config, deps, metrics } = opts;

  app.get('/healthz', { config: { access: 'open' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { access: 'open' } }, async (_request, reply) => {
    const reasons: string[] = [];
    if (!deps.quota.isHealthy()) reasons.push(`quota store (${deps.quota.kind}) unreachable`);
    // The database is a readiness condition only when one is configured; the embedded store opens on first use.
    if (config.databaseUrl) {
      try {
        const store = await deps.intelligence();
        await Promise.race([
          store.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), DB_PROBE_MS).unref()),
        ]);
      } catch (err) {
        reasons.push(`database unreachable: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
      }
    }
    if (reasons.length) return reply.code(503).send({ status: 'unavailable', reasons });
    return { status: 'ready', quota_store: deps.quota.kind };
  });

  app.get('/metrics', { config: { access: config.metricsPublic ? 'open' : 'key' } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
