import dns from 'node:dns';
import type { Config } from '../../config.js';
import { isPublicAddress } from '../../net/public-address.js';
import { HubError } from '../../tools/errors.js';

/**
 * `docker_build.remote` makes the Docker Engine fetch a URL from wherever the Engine runs, so an unchecked value is a
 * server-side request forgery and, through the Engine's errors, a port scanner. The hub therefore sends only
 * `https://` URLs without credentials whose host (optionally on DOCKER_BUILD_REMOTE_HOSTS) resolves only to public
 * unicast addresses, and answers the Engine's fetch failures with one generic text. The Engine resolves the name
 * again when it fetches; docs/security.md describes that remaining gap and what the allow-list does about it.
 */

const LOOKUP_TIMEOUT_MS = 5_000;

const refuse = (message: string) => new HubError('invalid_arguments', message, { field: 'remote' });

async function lookupAll(host: string, signal: AbortSignal): Promise<string[]> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new HubError('timeout', `resolving the remote host ${host} took too long`));
    timeout.addEventListener('abort', onAbort, { once: true });
  });
  try {
    // The system resolver (hosts file included), as the Engine's own Git and HTTP clients use.
    const found = await Promise.race([dns.promises.lookup(host, { all: true, verbatim: true }), aborted]);
    return found.map((a) => a.address);
  } finally {
    if (onAbort) timeout.removeEventListener('abort', onAbort);
  }
}

/** The URL's host name as compared and resolved: lower case, IPv6 brackets and a trailing dot removed. */
function plainHost(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * Checks a remote build context before the Engine sees it; returns the URL to send. Refusals are invalid_arguments
 * naming the rule; an unresolvable host and a non-public one get the same text so internal names are not probed.
 */
export async function checkRemoteContext(remote: string, config: Config, signal: AbortSignal): Promise<string> {
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    throw refuse('remote must be an https:// URL of a Git repository or a context archive');
  }
  if (url.protocol !== 'https:') throw refuse('remote must be an https:// URL: git://, ssh (git@host:) and http:// are refused');
  if (url.username || url.password) {
    throw refuse('remote must not carry credentials (user:password@ in the URL): they would be sent to the Docker Engine and logged; build private code from a context directory instead');
  }
  const host = plainHost(url);
  const allowed = config.docker.remoteHosts;
  if (allowed && !allowed.includes(host)) {
    throw refuse(`remote host ${host} is not on DOCKER_BUILD_REMOTE_HOSTS (${allowed.join(', ')})`);
  }
  let addresses: string[];
  try {
    addresses = await lookupAll(host, signal);
  } catch (err) {
    if (err instanceof HubError) throw err;
    addresses = [];
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) {
    throw refuse(`remote host ${host} is refused: it must resolve, and only to public internet addresses (not loopback, private, link-local or other special ranges)`);
  }
  return url.toString();
}

/** Stream lines that are not build output: the error itself and the remote download's progress. */
const NOT_BUILD_OUTPUT = /^(ERROR: |Downloading build context from remote url)/;

/**
 * Replaces what the Engine says about a failed remote fetch with one text: its messages tell a closed port from an
 * open one, a TLS server from another service, an existing path from a missing one. The fetch is everything before
 * the build's own output: an Engine HTTP error (nothing was streamed yet) or a stream error before any build line.
 * Failures of build steps (a RUN that exits non-zero) and of reaching the Engine itself keep their message.
 */
export function remoteFetchError(err: unknown, remote: string): unknown {
  if (!(err instanceof HubError) || err.code === 'timeout' || err.code === 'invalid_arguments') return err;
  if (err.details.variable === 'DOCKER_HOST') return err;
  const lines = err.details.last_lines;
  const stepRan = Array.isArray(lines) && lines.some((l) => typeof l === 'string' && !NOT_BUILD_OUTPUT.test(l));
  if (typeof err.details.upstream_status !== 'number' && stepRan) return err;
  return new HubError(
    'upstream_error',
    `the Docker Engine could not fetch or read the remote context ${remote} (unreachable, not a Git repository or archive, or no Dockerfile); the Engine's message is withheld so that it does not describe the network`,
    { field: 'remote' },
  );
}
