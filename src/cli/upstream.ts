import pino from 'pino';
import type { UpstreamConfig } from '../config.js';
import { HubError } from '../tools/errors.js';
import { UpstreamConnection } from '../upstreams/connection.js';
import { isEntryPoint } from './entry-point.js';

const USAGE = `usage: node dist/cli/upstream.js [--call <tool>] [--args <json>] [--timeout <ms>] [--oauth <json>] <url>
       node dist/cli/upstream.js [--call <tool>] [--args <json>] [--timeout <ms>] -- <command> [args...]

--oauth takes OAuth client credentials as JSON, {"client_id", "client_secret", "scope"?, "issuer"?} (the "oauth"
field of an UPSTREAMS entry; other keys are ignored).

Connects to one MCP server exactly as the hub connects to an UPSTREAMS entry (Streamable HTTP with the legacy SSE
fallback, or a stdio process), prints its tools, and optionally calls one tool and prints the result.
Exit code: 0 when connected (and the call, if any, succeeded), 1 otherwise.
`;

interface ProbeArgs {
  target: Pick<UpstreamConfig, 'url' | 'command' | 'args' | 'oauth'>;
  oauth?: UpstreamConfig['oauth'];
  call?: string;
  args: Record<string, unknown>;
  timeoutMs: number;
}

function parse(argv: readonly string[]): ProbeArgs | null {
  const out: Partial<ProbeArgs> & { args: Record<string, unknown>; timeoutMs: number } = { args: {}, timeoutMs: 30_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return null;
    else if (a === '--call') out.call = argv[++i];
    else if (a === '--args') {
      const parsed: unknown = JSON.parse(argv[++i] ?? '');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('--args must be a JSON object');
      out.args = parsed as Record<string, unknown>;
    } else if (a === '--timeout') out.timeoutMs = Number(argv[++i]);
    else if (a === '--oauth') {
      const o = JSON.parse(argv[++i] ?? '') as Record<string, unknown>;
      const text = (k: string) => (typeof o?.[k] === 'string' && o[k] ? (o[k] as string) : undefined);
      const clientId = text('client_id');
      const clientSecret = text('client_secret');
      if (!clientId || !clientSecret) throw new Error('--oauth needs "client_id" and "client_secret"');
      out.oauth = { client_id: clientId, client_secret: clientSecret, scope: text('scope'), issuer: text('issuer') };
    }
    else if (a === '--') {
      const [command, ...rest] = argv.slice(i + 1);
      if (!command) throw new Error('a command is needed after --');
      out.target = { command, args: rest };
      break;
    } else if (/^https?:\/\//.test(a)) out.target = { url: a };
    else throw new Error(`unknown argument "${a}" (try --help)`);
  }
  if (!out.target) throw new Error('an upstream URL or -- <command> is needed (try --help)');
  if (out.oauth) out.target = { ...out.target, oauth: out.oauth };
  if (!Number.isInteger(out.timeoutMs) || out.timeoutMs <= 0) throw new Error('--timeout must be a positive number of milliseconds');
  return out as ProbeArgs;
}

export async function runUpstreamProbe(argv: readonly string[], io: { stdout: (t: string) => void; stderr: (t: string) => void }): Promise<number> {
  let args: ProbeArgs | null;
  try {
    args = parse(argv);
  } catch (err) {
    io.stderr(`omni-hub upstream: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  if (!args) {
    io.stdout(USAGE);
    return 0;
  }
  const log = pino({ level: 'warn', messageKey: 'message' }, pino.destination({ fd: 2, sync: true }));
  const connection = new UpstreamConnection({ name: 'probe', ...args.target, timeout_ms: args.timeoutMs }, log, {
    callTimeoutMs: args.timeoutMs,
    connectTimeoutMs: args.timeoutMs,
  });
  try {
    await connection.start();
    const status = connection.status;
    if (status.state !== 'connected') {
      io.stderr(`omni-hub upstream: not connected: ${status.state === 'failed' || status.state === 'needs' ? status.reason : status.state}\n`);
      return 1;
    }
    io.stdout(`connected over ${status.transport}: ${connection.tools.length} tools${connection.tools.length ? ` (${connection.tools.map((t) => t.name).join(', ')})` : ''}\n`);
    if (!args.call) return 0;
    const result = await connection.callTool(args.call, args.args, { signal: AbortSignal.timeout(args.timeoutMs + 1_000) });
    io.stdout(`${JSON.stringify(result)}\n`);
    return result.isError === true ? 1 : 0;
  } catch (err) {
    io.stderr(`omni-hub upstream: ${err instanceof HubError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await connection.close();
  }
}

if (isEntryPoint(import.meta.url)) {
  void runUpstreamProbe(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }).then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 100).unref();
  });
}
