import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { Config } from '../../config.js';
import { HubError } from '../../tools/errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

type DockerOptions = Dockerode.DockerOptions;

/** The DOCKER_HOST in effect, as shown in error messages (never contains secrets). */
export function dockerHostLabel(config: Config): string {
  return config.docker.host ? `DOCKER_HOST=${config.docker.host}` : `DOCKER_HOST (unset: default unix://${DEFAULT_SOCKET})`;
}

/**
 * Connection options from our config only. Every field is set explicitly because docker-modem otherwise
 * merges in defaults read from process.env, which must not override the validated config.
 */
export function dockerOptions(config: Config): DockerOptions {
  const raw = config.docker.host ?? `unix://${DEFAULT_SOCKET}`;
  const base: DockerOptions = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined };
  if (raw.startsWith('unix://')) return { ...base, socketPath: raw.slice('unix://'.length) || DEFAULT_SOCKET };
  if (raw.startsWith('/')) return { ...base, socketPath: raw };
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `tcp://${raw}`);
  } catch {
    throw new HubError('not_configured', `DOCKER_HOST is not a valid address: use unix:///path/docker.sock or tcp://host:port`, { variable: 'DOCKER_HOST' });
  }
  if (!['tcp:', 'http:', 'https:'].includes(url.protocol)) {
    throw new HubError('not_configured', `DOCKER_HOST scheme ${url.protocol} is not supported: use unix://, tcp://, http:// or https://`, {
      variable: 'DOCKER_HOST',
    });
  }
  const tls = url.protocol === 'https:' || config.docker.tlsVerify === true || (url.protocol === 'tcp:' && url.port === '2376');
  const opts: DockerOptions = { ...base, host: url.hostname, port: url.port || (tls ? '2376' : '2375'), protocol: tls ? 'https' : 'http' };
  if (tls && config.docker.certPath) {
    const file = (name: string): Buffer => {
      const p = path.join(config.docker.certPath!, name);
      try {
        return readFileSync(p);
      } catch (err) {
        throw new HubError('auth_error', `cannot read Docker TLS file ${p} (DOCKER_CERT_PATH): ${(err as Error).message}`, { variable: 'DOCKER_CERT_PATH' });
      }
    };
    opts.ca = file('ca.pem');
    opts.cert = file('cert.pem');
    opts.key = file('key.pem');
  }
  return opts;
}

let dockerodeModule: Promise<{ default: typeof Dockerode }> | undefined;

/** A Dockerode client for this config; the library is imported on first use so cold start stays small. */
export async function dockerClient(config: Config): Promise<Dockerode> {
  const options = dockerOptions(config);
  dockerodeModule ??= import('dockerode');
  const { default: Docker } = await dockerodeModule;
  return new Docker(options);
}

interface ModemError extends Error {
  statusCode?: number;
  json?: unknown;
  code?: string;
}

/** The Engine's own message: error bodies are `{"message": "..."}`. */
export function engineMessage(err: ModemError): string {
  const json = err.json;
  if (json && typeof json === 'object' && !Buffer.isBuffer(json) && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString('utf8').slice(0, 500);
  if (typeof json === 'string' && json) return json.slice(0, 500);
  // Streaming calls carry the body only inside the message: "(HTTP code 500) server error - <message> ".
  const wrapped = /^\(HTTP code \d+\) [^-]*- ([\s\S]*?)\s*$/.exec(err.message);
  return wrapped ? wrapped[1] : err.message;
}

/** How the Engine words a registry's refusal of the credentials (it answers 500 on pull, inside the stream on push). */
export const REGISTRY_REFUSED = /unauthorized: authentication required|no basic auth credentials|unauthorized: incorrect username or password/i;

const CONNECT_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

/**
 * Maps anything dockerode throws to a HubError: connection failures name DOCKER_HOST, 404 becomes not_found,
 * other HTTP failures upstream_error with the Engine's status and message.
 */
export function dockerError(err: unknown, config: Config, what: string): HubError {
  if (err instanceof HubError) return err;
  const e = err as ModemError;
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.code === 'ABORT_ERR') {
    return new HubError('timeout', `${what}: the Docker Engine did not answer in time (${dockerHostLabel(config)})`);
  }
  if (typeof e?.statusCode === 'number') {
    const message = engineMessage(e);
    const details = { upstream_status: e.statusCode, upstream_message: message };
    if (e.statusCode === 404) return new HubError('not_found', `${what}: ${message}`, details);
    if (e.statusCode === 401 || e.statusCode === 403 || REGISTRY_REFUSED.test(message)) return new HubError('auth_error', `${what}: the Docker Engine or registry refused the credentials (DOCKER_REGISTRY_AUTH): ${message}`, details);
    return new HubError('upstream_error', `${what}: Docker Engine answered ${e.statusCode}: ${message}`, details);
  }
  if (e?.code && CONNECT_CODES.has(e.code)) {
    return new HubError('upstream_error', `${what}: cannot reach the Docker Engine at ${dockerHostLabel(config)} (${e.code}); is the daemon running?`, {
      variable: 'DOCKER_HOST',
      cause: e.code,
    });
  }
  return new HubError('upstream_error', `${what}: ${e?.message ?? String(err)} (${dockerHostLabel(config)})`, { variable: 'DOCKER_HOST' });
}
