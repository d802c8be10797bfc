// As in src/main.ts: the hub's V8 settings before anything else, so the benchmark measures what production runs.
import '../../src/runtime-flags.js';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { startTracing, stopTracing } from '../../src/telemetry/tracing.js';
import type { AuditRecord } from '../../src/governance/audit.js';
import type { SystemDefinition } from '../../src/tools/types.js';
import { fixtureSystem } from '../../test/helpers/fixture-system.js';
import { syntheticTools } from './synthetic-tools.js';

/**
 * The hub as the benchmark drives it: the real buildApp + createDeps (auth, validation, quota store, audit, metrics,
 * logging), serving the fixture system (fixture_echo: no upstream, so the pipeline itself is measured).
 * Environment: the hub's own variables (PORT, HOST, REDIS_URL, MCP_SESSION_MODE, ...) plus
 *   BENCH_FAST_PATH=false      serve stateless POST /mcp through the SDK transport only
 *   BENCH_EXTRA_TOOLS=<n>      register n synthetic tools next to the fixtures (cost curve)
 *   BENCH_AUDIT_PREFILL=<n>    append n audit records before listening (audit store at its cap)
 *   BENCH_SYSTEMS=all          serve the hub's real systems (google_maps_geocode, search, ...) instead of the fixtures
 *   OTEL_*                     tracing, as src/main.ts starts it (before the app's modules load)
 * SIGTERM closes the app and exits 0, so `node --cpu-prof` writes its profile.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await startTracing(process.env);
  const [{ buildApp }, { createDeps }] = await Promise.all([import('../../src/app.js'), import('../../src/deps-factory.js')]);
  const extra = Number(process.env.BENCH_EXTRA_TOOLS ?? 0);
  const system: SystemDefinition = { ...fixtureSystem, tools: [...fixtureSystem.tools, ...syntheticTools(extra)] };
  const deps = await createDeps(config, pino({ level: 'warn' }));
  const prefill = Number(process.env.BENCH_AUDIT_PREFILL ?? 0);
  for (let i = 0; i < prefill; i++) deps.audit.append(prefillRecord(i));
  await deps.audit.flush();
  const systems = process.env.BENCH_SYSTEMS === 'all' ? undefined : [system];
  const app = await buildApp(config, deps, { systems, fastPath: process.env.BENCH_FAST_PATH !== 'false' });
  await app.listen({ port: config.port, host: config.host });
  process.on('SIGTERM', () => {
    void app
      .close()
      .then(() => deps.close())
      .then(() => stopTracing())
      .then(() => process.exit(0));
  });
}

function prefillRecord(i: number): AuditRecord {
  return {
    id: `prefill-${i}`,
    ts: new Date().toISOString(),
    tool: 'fixture_echo',
    system: 'connector',
    level: 'LOW',
    principal: 'key:prefill0',
    transport: 'mcp',
    outcome: 'ok',
    duration_ms: 0.1,
    quota: { used: i, limit: 100_000_000, reset_s: 3600 },
    args: { message: 'hello', repeat: 1 },
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`hub-server: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
