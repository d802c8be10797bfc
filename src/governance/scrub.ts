import type { Config } from '../config.js';
import { HubError } from '../tools/errors.js';
import { isSecretKey, REDACTED, scrubCredentials } from './redact.js';

/**
 * The one scrubber for text that came from outside (upstream error bodies, probe failures): every secret the
 * configuration holds is replaced, then anything shaped like a credential (see redact.ts). `/v1/connections` and the
 * invoke pipeline's error path both use it, so an upstream that echoes our Authorization header leaks nothing to the
 * caller, the audit record or the log.
 */
export class SecretScrubber {
  private readonly secrets: string[];

  constructor(secrets: readonly string[]) {
    // Longest first so a secret containing another is replaced whole; very short values would mangle ordinary words.
    this.secrets = [...new Set(secrets.filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length);
  }

  static fromConfig(config: Config): SecretScrubber {
    return new SecretScrubber(configuredSecrets(config));
  }

  text(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return scrubCredentials(out);
  }

  /** A copy of the error whose message and string details (at any depth, bounded) are scrubbed. */
  error(err: HubError): HubError {
    return new HubError(err.code, this.text(err.message), this.value(err.details, 0) as Record<string, unknown>, err.httpStatus);
  }

  private value(v: unknown, depth: number): unknown {
    if (typeof v === 'string') return this.text(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DETAIL_DEPTH) return '[truncated: too deep]';
    if (Array.isArray(v)) return v.slice(0, MAX_DETAIL_ENTRIES).map((item) => this.value(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).slice(0, MAX_DETAIL_ENTRIES)) {
      Object.defineProperty(out, key, { value: this.value((v as Record<string, unknown>)[key], depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

const MAX_DETAIL_DEPTH = 6;
const MAX_DETAIL_ENTRIES = 200;

/** Every secret value the configuration holds, including passwords inside connection URLs. */
export function configuredSecrets(config: Config): string[] {
  const values = [
    ...config.apiKeys,
    config.google.oauthToken,
    config.google.apiKey,
    config.google.serviceAccountJson,
    ...serviceAccountSecrets(config.google.serviceAccountJson),
    config.github.token,
    config.chatgpt.token,
    ...Object.values(config.docker.registryAuth ?? {}),
    ...registryAuthEncodings(config.docker.registryAuth),
    urlPassword(config.redisUrl),
    urlPassword(config.databaseUrl),
    ...config.upstreams.flatMap(upstreamSecrets),
  ];
  return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

/**
 * An UPSTREAMS entry's secrets: header values (and the bare token of `Bearer` ones), environment values whose name
 * looks secret (`GITHUB_PERSONAL_ACCESS_TOKEN`, not `GOOGLE_CLOUD_REGION`) and the OAuth client secret.
 */
export function upstreamSecrets(u: Config['upstreams'][number]): string[] {
  const headers = Object.values(u.headers ?? {});
  const env = Object.entries(u.env ?? {})
    .filter(([name]) => isSecretKey(name))
    .map(([, value]) => value);
  return [...headers, ...headers.map((v) => v.replace(/^Bearer\s+/i, '')), ...env, ...(u.oauth ? [u.oauth.client_secret] : [])];
}

/** The private key of an inline service-account JSON (the PEM scrub catches it too; this also covers escaped forms). */
function serviceAccountSecrets(json: string | undefined): string[] {
  if (!json?.trim().startsWith('{')) return [];
  try {
    const key = (JSON.parse(json) as { private_key?: unknown }).private_key;
    return typeof key === 'string' ? [key, JSON.stringify(key).slice(1, -1)] : [];
  } catch {
    return [];
  }
}

/** DOCKER_REGISTRY_AUTH as the Engine receives it (X-Registry-Auth is base64url JSON). */
function registryAuthEncodings(auth: Record<string, string> | undefined): string[] {
  if (!auth) return [];
  const json = JSON.stringify(auth);
  return [Buffer.from(json).toString('base64url'), Buffer.from(json).toString('base64')];
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

const scrubbers = new WeakMap<Config, SecretScrubber>();

/** The error with every configured secret and credential shape removed (one scrubber per configuration, cached). */
export function scrubError(err: HubError, config: Config): HubError {
  let scrubber = scrubbers.get(config);
  if (!scrubber) scrubbers.set(config, (scrubber = SecretScrubber.fromConfig(config)));
  return scrubber.error(err);
}

/** A thrown value's text (message and stack) scrubbed, for log lines. */
export function scrubbedErrorText(err: unknown, config: Config): string {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  return scrubError(new HubError('internal_error', text.slice(0, 4_000)), config).message;
}
