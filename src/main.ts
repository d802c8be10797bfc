// First: an older Node stops with one clear line; then V8 settings, before the rest of the hub is loaded and compiled.
import './require-node.js';
import './runtime-flags.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startTracing, stopTracing } from './telemetry/tracing.js';

/** How often shutdown closes the keep-alive connections that have gone idle since the last look. */
const IDLE_SWEEP_MS = 100;

/** Process entry: config → deps → app → listen; SIGTERM/SIGINT drain in-flight calls, then close stores. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`omni-hub: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (config.apiKeyGenerated) {
    process.stderr.write(
      `omni-hub: no MCP_API_KEY set; generated one for this run:\n\n    ${config.apiKeys[0]}\n\n` +
        'omni-hub: set MCP_API_KEY (comma-separate several for rotation) to use a fixed key.\n',
    );
  }

  const log = createLogger(config);
  // Tracing (when OTEL_* asks for it) starts before the server, Redis and PostgreSQL modules load, so its
  // instrumentations see them; hence the rest of the hub is imported only now.
  try {
    if (await startTracing(process.env)) log.info({ exporter: process.env.OTEL_TRACES_EXPORTER ?? 'otlp' }, 'tracing on');
  } catch (err) {
    process.stderr.write(`omni-hub: tracing could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const [{ buildApp }, { createDeps }] = await Promise.all([import('./app.js'), import('./deps-factory.js')]);
  const deps = await createDeps(config, log);
  const app = await buildApp(config, deps, { logger: log });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal, grace_ms: config.shutdownGraceMs }, 'shutting down: no new connections, draining in-flight calls');
    const hardStop = setTimeout(() => {
      app.log.error('shutdown bound exceeded; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 5_000);
    hardStop.unref();
    // A keep-alive connection busy when close() began goes idle only once its answer is written, which can come after
    // its call has drained (a REST answer goes through Fastify's reply hooks first). The server waits for every
    // connection, so idle ones are closed as they appear until it has stopped, rather than once after the drain.
    const idleSweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
    try {
      const drained = app.hub.pipeline.drain(config.shutdownGraceMs);
      const closing = app.close();
      await drained;
      // Each step logged, so a shutdown that runs into its bound says which one it waited on.
      app.log.info('in-flight calls drained; closing connections');
      await closing;
      clearInterval(idleSweep);
      app.log.info('server closed; closing stores');
      await deps.close();
      // Spans still buffered (the last calls') are exported before the process ends.
      await stopTracing().catch((err: unknown) => app.log.warn({ err }, 'tracing shutdown failed'));
      log.flush();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  // A bug in one call must not take every other caller down with it: log loudly and keep serving.
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled promise rejection'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`omni-hub: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
