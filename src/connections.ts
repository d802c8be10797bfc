import type { Config } from './config.js';
import { SecretScrubber } from './governance/scrub.js';
import { toolServices, type HubDeps } from './deps.js';
import type { ToolServices } from './tools/types.js';
import type { ConnectionStatus, SystemDefinition } from './tools/types.js';

/** One line of the connection table: what `npm run check` prints and `GET /v1/connections` returns. */
export interface ConnectionRow {
  system: string;
  title: string;
  tools: number;
  status: 'connected' | 'needs' | 'failed';
  detail: string;
  /** The variable to set, on `needs` rows. */
  variable?: string;
  /** `✓ Connected`, `⊘ Needs <VARIABLE>` or `✗ Failed: <reason>`. */
  label: string;
}

export interface ConnectionCheckOptions {
  /** Bound on each system's probe; the probes run in parallel. Default 5 s. */
  timeoutMs?: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;
const MAX_REASON_CHARS = 200;

/**
 * Checks every system: a missing credential is `needs` (no network call); a configured system is probed live with
 * check(), bounded by a timeout. A probe that throws, hangs or reports failure is `failed` with a short reason from
 * which every configured secret has been removed.
 */
export async function runConnectionChecks(
  config: Config,
  deps: HubDeps,
  systems: readonly SystemDefinition[],
  opts: ConnectionCheckOptions = {},
): Promise<ConnectionRow[]> {
  const services = toolServices(deps);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const secrets = SecretScrubber.fromConfig(config);
  return Promise.all(
    systems.map(async (system) => {
      const variable = safeMissingConfig(system, config);
      const status: ConnectionStatus =
        variable === null ? await probeWithTimeout(system, config, services, timeoutMs) : { state: 'needs', variable };
      return toRow(system, status, secrets);
    }),
  );
}

function safeMissingConfig(system: SystemDefinition, config: Config): string | null {
  try {
    return system.missingConfig(config);
  } catch {
    // A system that cannot even read its configuration is not usable; let the probe report why.
    return null;
  }
}

async function probeWithTimeout(system: SystemDefinition, config: Config, services: ToolServices, timeoutMs: number): Promise<ConnectionStatus> {
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut: ConnectionStatus = { state: 'failed', reason: `no answer within ${formatSeconds(timeoutMs)}` };
  let timer: NodeJS.Timeout | undefined;
  // The race covers probes that ignore their signal: the table must come back on time whatever a probe does.
  const deadline = new Promise<ConnectionStatus>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), timeoutMs);
  });
  try {
    return await Promise.race([
      system.check(config, services, signal).catch((err: unknown): ConnectionStatus => {
        if (signal.aborted) return timedOut;
        return { state: 'failed', reason: errorReason(err) };
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function errorReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node network errors carry the useful part (ECONNREFUSED, ENOTFOUND, ...) in `code`, fetch errors in `cause.code`.
  const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
  const message = err.message || err.name;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

function toRow(system: SystemDefinition, status: ConnectionStatus, secrets: SecretScrubber): ConnectionRow {
  const base = { system: system.id, title: system.title, tools: system.tools.length };
  switch (status.state) {
    case 'connected': {
      const detail = scrub(status.detail ?? 'connected', secrets);
      return { ...base, status: 'connected', detail, label: '✓ Connected' };
    }
    case 'needs':
      return { ...base, status: 'needs', detail: `set ${status.variable}`, variable: status.variable, label: `⊘ Needs ${status.variable}` };
    case 'failed': {
      const reason = scrub(status.reason, secrets);
      return { ...base, status: 'failed', detail: reason, label: `✗ Failed: ${reason}` };
    }
  }
}

function scrub(text: string, scrubber: SecretScrubber): string {
  const out = scrubber.text(text.replace(/\s+/g, ' ').trim());
  return out.length > MAX_REASON_CHARS ? `${out.slice(0, MAX_REASON_CHARS - 1)}…` : out;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

const HEADERS = ['System', 'Tools', 'Status'] as const;

/** An aligned plain-text table (System, Tools, Status), one line per system: what `npm run check` prints. */
export function formatConnectionTable(rows: readonly ConnectionRow[]): string {
  const cells = rows.map((r) => [r.title, String(r.tools), r.label]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    [c[0]!.padEnd(widths[0]!), c[1]!.padStart(widths[1]!), c[2]!].join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const counts = summarize(rows);
  const summary = `${counts.connected} connected, ${counts.needs} need configuration, ${counts.failed} failed`;
  return [line(HEADERS), rule, ...cells.map(line), '', summary].join('\n') + '\n';
}

export function summarize(rows: readonly ConnectionRow[]): Record<ConnectionRow['status'], number> {
  const counts = { connected: 0, needs: 0, failed: 0 };
  for (const r of rows) counts[r.status] += 1;
  return counts;
}
