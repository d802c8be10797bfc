import pino from 'pino';
import { SYSTEMS } from '../adapters/index.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { DEFAULT_CHECK_TIMEOUT_MS, formatConnectionTable, runConnectionChecks } from '../connections.js';
import { createDeps } from '../deps-factory.js';
import type { SystemDefinition } from '../tools/types.js';
import { Upstreams } from '../upstreams/index.js';
import { isEntryPoint } from './entry-point.js';

const USAGE = `usage: npm run check -- [--json] [--timeout <ms>]

Probes every enabled system with the current environment and prints one row per system:
  ✓ Connected     the live probe succeeded
  ⊘ Needs <VAR>   no credential/endpoint configured (not a failure)
  ✗ Failed: ...   configured, but the probe failed or timed out
Exit code: 1 when any configured system failed (or the environment is invalid), 0 otherwise.
`;

export interface CheckIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

interface CheckArgs {
  json: boolean;
  timeoutMs: number;
  help: boolean;
}

function parseArgs(argv: readonly string[]): CheckArgs {
  const args: CheckArgs = { json: false, timeoutMs: DEFAULT_CHECK_TIMEOUT_MS, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') args.json = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--timeout' || arg.startsWith('--timeout=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      const ms = Number(value);
      if (!Number.isInteger(ms) || ms <= 0) throw new ConfigError(`invalid --timeout: expected a positive number of milliseconds, got "${value ?? ''}"`);
      args.timeoutMs = ms;
    } else throw new ConfigError(`unknown argument "${arg}" (try --help)`);
  }
  return args;
}

/** Runs the connection check the way `npm run check` does and returns the process exit code. */
export async function runCheckCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CheckIo,
  systems: readonly SystemDefinition[] = SYSTEMS,
): Promise<number> {
  let args: CheckArgs;
  let config: Config;
  try {
    args = parseArgs(argv);
    if (args.help) {
      io.stdout(USAGE);
      return 0;
    }
    // Without MCP_API_KEY loadConfig makes up a key; the check serves no requests, so it neither needs nor prints one.
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`omni-hub check: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  // Logs go to stderr so `--json` output stays parseable; only warnings unless LOG_LEVEL asks for more.
  const log = pino({ level: env.LOG_LEVEL ? config.logLevel : 'warn', messageKey: 'message' }, pino.destination({ fd: 2, sync: true }));
  const deps = await createDeps(config, log);
  // Each UPSTREAMS entry is a row too: connected (with its tool count) or why not.
  const upstreams = config.upstreams.length ? new Upstreams(config, log) : undefined;
  try {
    await upstreams?.start(args.timeoutMs);
    const enabled = new Set(config.toolsets);
    const all = [...systems, ...(upstreams?.systems ?? [])];
    const rows = await runConnectionChecks(config, deps, all.filter((s) => enabled.has(s.id)), { timeoutMs: args.timeoutMs });
    io.stdout(args.json ? `${JSON.stringify(rows, null, 2)}\n` : formatConnectionTable(rows));
    return rows.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    await upstreams?.close();
    await deps.close();
  }
}

if (isEntryPoint(import.meta.url)) {
  runCheckCommand(process.argv.slice(2), process.env, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      process.exitCode = code;
      // Probes that timed out may still hold sockets open; the answer is printed, so do not wait for them.
      setTimeout(() => process.exit(code), 100).unref();
    },
    (err: unknown) => {
      process.stderr.write(`omni-hub check: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
