import type { Octokit } from '@octokit/rest';
import type { Config } from '../../config.js';
import { HubError, notConfigured } from '../../tools/errors.js';

let octokitModule: Promise<typeof import('@octokit/rest')> | undefined;

/** An Octokit for GITHUB_TOKEN against GITHUB_API_URL (GitHub Enterprise: https://host/api/v3); imported on first use. */
export async function githubClient(config: Config): Promise<Octokit> {
  if (!config.github.token) throw notConfigured('GITHUB_TOKEN', 'GitHub');
  octokitModule ??= import('@octokit/rest');
  const { Octokit } = await octokitModule;
  return new Octokit({
    auth: config.github.token,
    baseUrl: config.github.apiUrl,
    userAgent: 'omni-hub',
    // Octokit would print deprecation notices and request failures to the console; failures reach the caller as HubErrors.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
}

interface OctokitError extends Error {
  status?: number;
  response?: { status: number; headers: Record<string, string | number | undefined>; data: unknown };
  cause?: unknown;
}

interface GitHubErrorBody {
  message?: string;
  errors?: unknown[];
  documentation_url?: string;
}

function header(e: OctokitError, name: string): string | undefined {
  const v = e.response?.headers?.[name];
  return v === undefined ? undefined : String(v);
}

/** GitHub's `errors` array, shortened to what explains a 422 (field, code, message). */
function errorList(errors: unknown[] | undefined): unknown[] | undefined {
  if (!errors?.length) return undefined;
  return errors.slice(0, 10).map((x) => {
    if (typeof x === 'string') return x;
    const { resource, field, code, message } = x as Record<string, unknown>;
    return Object.fromEntries(Object.entries({ resource, field, code, message }).filter(([, v]) => v !== undefined));
  });
}

/**
 * Maps Octokit failures: 401 → auth_error naming GITHUB_TOKEN; primary and secondary rate limits →
 * upstream_error with reset_at / retry_after_s; other HTTP errors → upstream_error with GitHub's message and errors.
 */
export function githubError(err: unknown, config: Config, what: string): HubError {
  if (err instanceof HubError) return err;
  const e = err as OctokitError;
  const causeName = (e?.cause as Error | undefined)?.name;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || causeName === 'AbortError' || causeName === 'TimeoutError') {
    return new HubError('timeout', `${what}: GitHub did not answer in time`);
  }
  if (!e?.response) {
    return new HubError('upstream_error', `${what}: cannot reach GitHub at ${config.github.apiUrl} (GITHUB_API_URL): ${e?.message ?? String(err)}`, {
      variable: 'GITHUB_API_URL',
    });
  }
  const status = e.response.status;
  const body = (e.response.data ?? {}) as GitHubErrorBody;
  const message = (typeof body === 'object' && body.message) || e.message;
  const details: Record<string, unknown> = { upstream_status: status, upstream_message: message };
  const errors = errorList(body.errors);
  if (errors) details.errors = errors;
  if (body.documentation_url) details.documentation_url = body.documentation_url;

  if (status === 401) {
    return new HubError('auth_error', `${what}: GitHub rejected GITHUB_TOKEN (401 ${message}); check that the token is valid and not expired`, {
      ...details,
      variable: 'GITHUB_TOKEN',
    });
  }
  const remaining = header(e, 'x-ratelimit-remaining');
  const retryAfter = header(e, 'retry-after');
  const secondary = /secondary rate limit|abuse detection/i.test(message);
  if ((status === 403 || status === 429) && (remaining === '0' || retryAfter !== undefined || secondary)) {
    const reset = Number(header(e, 'x-ratelimit-reset'));
    const nowS = Math.floor(Date.now() / 1000);
    let retryAfterS: number;
    if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) retryAfterS = Number(retryAfter);
    else if (remaining === '0' && Number.isFinite(reset) && reset > 0) retryAfterS = Math.max(0, reset - nowS);
    // GitHub asks to wait at least a minute after a secondary limit without retry-after.
    else retryAfterS = 60;
    return new HubError('upstream_error', `${what}: GitHub ${secondary ? 'secondary ' : ''}rate limit exceeded; retry in ${retryAfterS} s`, {
      ...details,
      rate_limited: true,
      retry_after_s: retryAfterS,
      reset_at: new Date((remaining === '0' && reset > 0 ? reset : nowS + retryAfterS) * 1000).toISOString(),
    });
  }
  return new HubError('upstream_error', `${what}: GitHub answered ${status}: ${message}`, details);
}

/** Runs Octokit calls, mapping failures to HubErrors. */
export async function withGitHub<T>(config: Config, what: string, fn: (octokit: Octokit) => Promise<T>): Promise<T> {
  const octokit = await githubClient(config);
  try {
    return await fn(octokit);
  } catch (err) {
    throw githubError(err, config, what);
  }
}

/** HTTP status of an Octokit error, for flows that branch on "not found". */
export const statusOf = (err: unknown): number | undefined => (err as OctokitError)?.status;
