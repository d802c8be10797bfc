import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/** The hub's environment, parsed once at start. Every module reads this object, never process.env. */

export const LEVELS = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

/** Who approves a gated (deploy/delete/remove) call: a person on the hub, the model with `confirm: true`, or nobody. */
export const APPROVAL_POLICIES = ['person', 'model', 'off'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];
/** CRITICAL gated calls need a person; a gated tool moved to a lower level keeps the model's `confirm: true`. */
export const DEFAULT_APPROVAL: Record<Level, ApprovalPolicy> = { LOW: 'model', MEDIUM: 'model', HIGH: 'model', CRITICAL: 'person' };

export const SYSTEM_IDS = [
  'cloud_run',
  'workspace',
  'ai_ml',
  'maps',
  'docker',
  'intelligence',
  'github',
  'chatgpt',
  'connector',
] as const;
export type BuiltinSystemId = (typeof SYSTEM_IDS)[number];
/**
 * The first segments of built-in tool names (`google_drive_search`, `docker_ps`, ...) and the unprefixed ones. An
 * upstream under one of these names would serve tools named like built-in ones (and inherit their overrides) whenever
 * that toolset is off, so such names are refused at start. A test checks every built-in tool against this list.
 */
export const BUILTIN_TOOL_PREFIXES = ['google', 'docker', 'github', 'chatgpt', 'intelligence', 'search', 'fetch'] as const;
/** A built-in system, or the name of an upstream MCP server (UPSTREAMS): upstream names are only known at start. */
export type SystemId = BuiltinSystemId | (string & {});

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

const csv = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const jsonText = <T extends z.ZodType>(schema: T, name: string) =>
  z.string().transform((text, ctx): z.infer<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${name} is not valid JSON` });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const first = result.error.issues[0];
      ctx.addIssue({ code: 'custom', message: `${name}: ${first?.path.join('.') || 'value'} ${first?.message ?? 'is invalid'}` });
      return z.NEVER;
    }
    return result.data;
  });

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const positiveMs = z.coerce.number().int().positive();

const levelLimits = z.object({
  LOW: z.number().int().nonnegative(),
  MEDIUM: z.number().int().nonnegative(),
  HIGH: z.number().int().nonnegative(),
  CRITICAL: z.number().int().nonnegative(),
}).partial();

const override = z
  .object({
    level: z.enum(LEVELS).optional(),
    limit: z.number().int().nonnegative().optional(),
    enabled: z.boolean().optional(),
    approval: z.enum(APPROVAL_POLICIES).optional(),
  })
  .strict();

const approvalByLevel = z.object({
  LOW: z.enum(APPROVAL_POLICIES),
  MEDIUM: z.enum(APPROVAL_POLICIES),
  HIGH: z.enum(APPROVAL_POLICIES),
  CRITICAL: z.enum(APPROVAL_POLICIES),
}).partial().strict();

/** APPROVAL: one policy (for CRITICAL, the level that asks by default) or a JSON object per level. */
const approvalSetting = z.string().transform((text, ctx): Partial<Record<Level, ApprovalPolicy>> => {
  const word = text.trim();
  if ((APPROVAL_POLICIES as readonly string[]).includes(word)) return { CRITICAL: word as ApprovalPolicy };
  if (!word.startsWith('{')) {
    ctx.addIssue({ code: 'custom', message: 'must be person, model, off or a JSON object per level such as {"CRITICAL":"person","HIGH":"model"}' });
    return z.NEVER;
  }
  const parsed = jsonText(approvalByLevel, 'APPROVAL').safeParse(word);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'is invalid' });
    return z.NEVER;
  }
  return parsed.data;
});

const urlString = z.string().url();

/** One UPSTREAMS entry: a Streamable HTTP (or legacy SSE) server by `url`, or a stdio server by `command`. */
const upstreamEntry = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'must match ^[a-z][a-z0-9]{0,15}$ (it prefixes every tool name)'),
    url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL').optional(),
    headers: z.record(z.string(), z.string()).optional(),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().min(1).optional(),
    level: z.enum(LEVELS).optional(),
    tools: z.record(z.string(), z.object({ level: z.enum(LEVELS).optional(), enabled: z.boolean().optional() }).strict()).optional(),
    timeout_ms: z.number().int().positive().max(3_600_000).optional(),
    /** The governance level of reading one of the upstream's resources or getting one of its prompts (LOW by default). */
    resources_level: z.enum(LEVELS).optional(),
    /**
     * The MCP revision spoken to the upstream: the 2025 handshake by default; "2026-07-28" (stateless) makes the hub
     * relay each caller's client capabilities and the upstream's input_required rounds.
     */
    protocol: z.enum(['2025', '2026-07-28']).optional(),
    /** OAuth client credentials (machine-to-machine) for an HTTP upstream that answers 401 with OAuth metadata. */
    oauth: z
      .object({
        client_id: z.string().min(1),
        client_secret: z.string().min(1),
        scope: z.string().min(1).optional(),
        issuer: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL').optional(),
      })
      .strict()
      .optional(),
    /** "user": every principal connects with its own upstream login (authorization code + PKCE), kept in the vault. */
    auth: z.literal('user').optional(),
    /** For `auth: "user"`: a client registered at the upstream's authorization server, for servers without client metadata documents or dynamic registration. */
    user_oauth: z
      .object({
        client_id: z.string().min(1).optional(),
        client_secret: z.string().min(1).optional(),
        scope: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((u) => (u.url === undefined) !== (u.command === undefined), { message: 'needs exactly one of "url" (HTTP) or "command" (stdio)' })
  .refine((u) => u.url !== undefined || (u.headers === undefined && u.oauth === undefined), { message: '"headers" and "oauth" only apply to a "url" upstream' })
  .refine((u) => u.command !== undefined || (u.args === undefined && u.env === undefined && u.cwd === undefined), {
    message: '"args", "env" and "cwd" only apply to a "command" upstream',
  })
  .refine((u) => u.auth === undefined || (u.url !== undefined && u.oauth === undefined), { message: '"auth": "user" applies to a "url" upstream without "oauth"' })
  .refine((u) => u.user_oauth === undefined || u.auth === 'user', { message: '"user_oauth" only applies with "auth": "user"' })
  .refine((u) => u.user_oauth?.client_secret === undefined || u.user_oauth.client_id !== undefined, { message: '"user_oauth.client_secret" needs "user_oauth.client_id"' });
export type UpstreamConfig = z.infer<typeof upstreamEntry>;

/** One PROFILES entry: a named view of the catalog (see src/tools/catalog.ts for how a tool is matched). */
const profileEntry = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must match ^[a-z][a-z0-9_-]{0,31}$ (it appears in URLs)'),
    toolsets: z.array(z.string().min(1)).optional(),
    tools: z.array(z.string().regex(/^[A-Za-z0-9_.*-]{1,128}$/, 'must be a tool name, * standing for any characters')).optional(),
    upstreams: z.array(z.string().min(1)).optional(),
    max_level: z.enum(LEVELS).optional(),
    /** false: a profile of exactly one upstream serves its tools under the upstream's own names. */
    prefix: z.boolean().optional(),
  })
  .strict();
export type ProfileConfig = z.infer<typeof profileEntry>;

const EnvSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  MCP_API_KEY: z.string().optional(),
  MCP_AUTH: z.enum(['bearer', 'none']).default('bearer'),
  ALLOWED_HOSTS: z.string().optional(),
  ALLOWED_ORIGINS: z.string().optional(),
  MCP_SESSION_MODE: z.enum(['stateful', 'stateless']).default('stateful'),
  MCP_SESSION_IDLE_MS: positiveMs.default(30 * 60_000),
  MCP_MAX_SESSIONS: z.coerce.number().int().positive().default(5_000),
  MCP_MAX_SESSIONS_PER_PRINCIPAL: z.coerce.number().int().positive().default(1_000),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  GOVERNANCE_MODE: z.enum(['enforce', 'warn']).default('enforce'),
  GOVERNANCE_LIMITS: jsonText(levelLimits, 'GOVERNANCE_LIMITS').optional(),
  GOVERNANCE_OVERRIDES: jsonText(z.record(z.string(), override), 'GOVERNANCE_OVERRIDES').optional(),
  GOVERNANCE_SCOPE: z.enum(['global', 'key']).default('global'),
  QUOTA_STORE_FAILURE: z.enum(['open', 'closed', 'closed-for-high']).default('closed-for-high'),
  APPROVAL: approvalSetting.optional(),
  APPROVAL_TTL_S: z.coerce.number().int().min(30).max(86_400).default(600),
  GOOGLE_OAUTH_TOKEN: z.string().optional(),
  GOOGLE_SERVICE_ACCOUNT_JSON: z.string().optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  GOOGLE_CLOUD_REGION: z.string().default('us-central1'),
  GOOGLE_API_KEY: z.string().optional(),
  GOOGLE_API_BASE_URL: urlString.optional(),
  K_SERVICE: z.string().optional(),
  GCE_METADATA_HOST: z.string().regex(/^[\w.-]+(:\d+)?$/, 'must be host or host:port').optional(),
  GITHUB_TOKEN: z.string().optional(),
  GITHUB_API_URL: urlString.default('https://api.github.com'),
  DOCKER_HOST: z.string().optional(),
  DOCKER_BUILD_ROOT: z.string().optional(),
  DOCKER_BUILD_REMOTE_HOSTS: z.string().optional(),
  DOCKER_TLS_VERIFY: bool.optional(),
  DOCKER_CERT_PATH: z.string().optional(),
  DOCKER_REGISTRY_AUTH: jsonText(z.record(z.string(), z.string()), 'DOCKER_REGISTRY_AUTH').optional(),
  CHATGPT_MCP_ENDPOINT: urlString.optional(),
  CHATGPT_MCP_TOKEN: z.string().optional(),
  CHATGPT_TIMEOUT_MS: positiveMs.default(30_000),
  PUBLIC_URL: urlString.optional(),
  VAULT_KEY: z.string().optional(),
  TOOL_WAIT_MS: positiveMs.default(40_000),
  TOOLSETS: z.string().default('all'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  METRICS_PUBLIC: bool.default(false),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  SHUTDOWN_GRACE_MS: positiveMs.default(10_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(6000),
  AUDIT_CAP: z.coerce.number().int().positive().default(10_000),
  AUDIT_REFUSED_CAP: z.coerce.number().int().positive().default(2_000),
  AUDIT_QUEUE_MAX: z.coerce.number().int().positive().optional(),
  AUDIT_SPILL_MAX_BYTES: z.coerce.number().int().min(0).default(64 * 1024 * 1024),
  AUDIT_FAILURE: z.enum(['refuse', 'drop']).default('refuse'),
  AUDIT_LOG: z.enum(['on', 'off']).default('on'),
  REFUSED_CALLS_PER_MINUTE: z.coerce.number().int().positive().default(120),
  RESULT_MAX_CHARS: z.coerce.number().int().min(1_000).default(90_000),
  MCP_EVENT_STREAM_MAX_BYTES: z.coerce.number().int().min(1_024).default(4 * 1024 * 1024),
  MCP_EVENT_STORE_MAX_BYTES: z.coerce.number().int().min(1_024).default(64 * 1024 * 1024),
  CALLBACK_MAX_BYTES: z.coerce.number().int().min(1_024).default(256 * 1024),
  BODY_MAX_KEYS: z.coerce.number().int().positive().default(20_000),
  BODY_MAX_DEPTH: z.coerce.number().int().positive().default(32),
  TRUST_PROXY: z.string().optional(),
  OAUTH_ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(60).max(86_400).default(900),
  OAUTH_REFRESH_TOKEN_TTL_S: z.coerce.number().int().min(300).max(365 * 86_400).default(30 * 86_400),
  OAUTH_CODE_TTL_S: z.coerce.number().int().min(10).max(600).default(60),
  OAUTH_REFRESH_GRACE_S: z.coerce.number().int().min(0).max(300).default(60),
  OAUTH_UNUSED_CLIENT_TTL_S: z.coerce.number().int().min(300).max(365 * 86_400).default(86_400),
  OAUTH_DEFAULT_SCOPE: z.enum(['tools:low', 'tools:medium', 'tools:high', 'tools:critical']).default('tools:low'),
  OAUTH_OIDC_ISSUER: urlString.optional(),
  OAUTH_OIDC_CLIENT_ID: z.string().optional(),
  OAUTH_OIDC_CLIENT_SECRET: z.string().optional(),
  OAUTH_ALLOWED_EMAILS: z.string().optional(),
  UPSTREAMS: z.string().optional(),
  PROFILES: z.string().optional(),
  MCP_API_KEY_PROFILES: z.string().optional(),
  UPSTREAM_RESULT_MAX_BYTES: z.coerce.number().int().min(64 * 1024).default(4 * 1024 * 1024),
});

export interface GovernanceConfig {
  mode: 'enforce' | 'warn';
  limits: Record<Level, number>;
  overrides: Record<string, { level?: Level; limit?: number; enabled?: boolean; approval?: ApprovalPolicy }>;
  scope: 'global' | 'key';
  failurePolicy: 'open' | 'closed' | 'closed-for-high';
  /** Who approves gated calls at each level (APPROVAL); a tool's `approval` override wins. */
  approval: Record<Level, ApprovalPolicy>;
  /** How long an approval may be answered and then used (APPROVAL_TTL_S, in ms). */
  approvalTtlMs: number;
}

export interface Config {
  port: number;
  host: string;
  /** Accepted bearer keys (rotation: several). Empty only when auth is 'none'. */
  apiKeys: string[];
  /** True when no MCP_API_KEY was given and the hub made one up for this run. */
  apiKeyGenerated: boolean;
  auth: 'bearer' | 'none';
  allowedHosts: string[];
  allowedOrigins: string[];
  sessionMode: 'stateful' | 'stateless';
  /** Stateful sessions: idle expiry (every instance), live sessions per process, sessions per principal (fleet-wide with Redis). */
  sessions: { idleMs: number; maxPerProcess: number; maxPerPrincipal: number };
  redisUrl?: string;
  databaseUrl?: string;
  dataDir: string;
  governance: GovernanceConfig;
  google: {
    oauthToken?: string;
    serviceAccountJson?: string;
    applicationCredentials?: string;
    project?: string;
    region: string;
    apiKey?: string;
    apiBaseUrl?: string;
    /** Set on Cloud Run: the metadata server may be asked for ADC tokens. */
    onGoogleCloud: boolean;
    /** GCE_METADATA_HOST: metadata server host[:port] for ADC (default metadata.google.internal), as Google's libraries read it. */
    metadataHost?: string;
  };
  github: { token?: string; apiUrl: string };
  /** `remoteHosts`: DOCKER_BUILD_REMOTE_HOSTS, when set the only host names docker_build.remote may name. */
  docker: { host?: string; buildRoot: string; registryAuth?: Record<string, string>; tlsVerify?: boolean; certPath?: string; remoteHosts?: string[] };
  chatgpt: { endpoint?: string; token?: string; timeoutMs: number };
  publicUrl?: string;
  toolWaitMs: number;
  /** Enabled toolsets (system ids); every system when TOOLSETS=all. */
  toolsets: SystemId[];
  logLevel: string;
  logFormat: 'json' | 'pretty';
  metricsPublic: boolean;
  bodyLimit: number;
  shutdownGraceMs: number;
  rateLimitPerMinute: number;
  auditCap: number;
  /** Records of refused (not executed) calls kept apart from executed ones, so refusals cannot evict them. */
  auditRefusedCap: number;
  /**
   * Audit durability with Redis: records held in memory while Redis cannot take them (`queueMax`), then an append-only
   * spill under `spillDir` of at most `spillMaxBytes` (0: no spill), replayed in order; when both are full `failure`
   * decides (`refuse` calls above LOW, or `drop` records). `log`: every record also as one `type: "audit"` log line.
   */
  audit: { queueMax: number; spillDir: string; spillMaxBytes: number; failure: 'refuse' | 'drop'; log: boolean };
  /** Refused calls (unknown tool, invalid arguments, denials) one principal may make per minute before `rate_limited`. */
  refusedCallsPerMinute: number;
  /** Bound on one tool result's JSON (structuredContent and its text copy; REST body). */
  resultMaxChars: number;
  /** Stateful MCP event store: bytes kept per stream and in total (oldest dropped first). */
  eventStore: { streamMaxBytes: number; totalMaxBytes: number };
  /** Bound on what one Auto Builder callback stores (its JSON, in bytes). */
  callbackMaxBytes: number;
  /** JSON bodies with more entries or deeper nesting are refused before any validation. */
  bodyShape: { maxKeys: number; maxDepth: number };
  /**
   * Which proxies may set X-Forwarded-For: false (none: the socket address is the client), a hop count (Cloud Run: 1)
   * or proxy addresses/CIDRs. The client address is the right-most untrusted entry, so a client cannot choose it.
   */
  trustProxy: false | number | string[];
  /**
   * OAuth authorization server: lifetimes in seconds (access tokens, refresh tokens, authorization codes, the window in
   * which a retried refresh gets the same answer, an unapproved registration), and the level a client is told to ask
   * for (the 401 challenge's scope) and the consent page preselects.
   */
  oauth: { accessS: number; refreshS: number; codeS: number; refreshGraceS: number; unusedClientS: number; defaultScope: string };
  /** Upstream OpenID Connect sign-in for the consent page; allowedEmails holds addresses and `@domain` entries, lower-cased. */
  /** The consent and approval pages' optional sign-in with an OpenID Connect identity provider (OAUTH_OIDC_*). */
  identityProvider?: { issuer: string; clientId: string; clientSecret: string; allowedEmails: string[] };
  /** Upstream MCP servers whose tools the hub serves under its governance (UPSTREAMS); empty when unset. */
  upstreams: UpstreamConfig[];
  /** VAULT_KEY: 32-byte keys for the upstream credential vault, the first encrypts, every one decrypts; empty when unset. */
  vaultKeys: Buffer[];
  /** Named views of the catalog (PROFILES); empty when unset. */
  profiles: ProfileConfig[];
  /** Key id ("key:1a2b3c4d") → the profile that key always sees (MCP_API_KEY_PROFILES). */
  keyProfiles: Record<string, string>;
  /** Bound on one message read from an upstream (a tool result, a list), enforced while it is read; MCP and REST alike. */
  upstreamResultMaxBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_LIMITS: Record<Level, number> = { LOW: 1000, MEDIUM: 100, HIGH: 30, CRITICAL: 10 };

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** VAULT_KEY: comma-separated base64 keys of 32 bytes each (a new key goes first; older ones stay to read old records). */
function parseVaultKeys(value: string | undefined): Buffer[] {
  const keys = csv(value).map((k) => Buffer.from(k, 'base64'));
  if (keys.some((k) => k.length !== 32)) {
    throw new ConfigError('invalid VAULT_KEY: each comma-separated key must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)');
  }
  return keys;
}

/** A JSON array given inline (starts with `[`) or as the path of a JSON file holding it (UPSTREAMS, PROFILES). */
function readJsonArray<T extends z.ZodType>(variable: string, value: string, entry: T): z.infer<T>[] {
  let text = value.trim();
  if (!text.startsWith('[')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(`invalid ${variable}: not a JSON array and not a readable file (${code}): ${value.slice(0, 200)}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`invalid ${variable}: not valid JSON`);
  }
  const result = z.array(entry).safeParse(parsed);
  if (!result.success) {
    const first = result.error.issues[0]!;
    throw new ConfigError(`invalid ${variable}: ${first.path.join('.') || 'value'} ${first.message}`);
  }
  return result.data;
}

/** PROFILES: names unique, every toolset and upstream named exists, `prefix: false` only for a profile of one upstream. */
function parseProfiles(value: string | undefined, upstreams: UpstreamConfig[]): ProfileConfig[] {
  if (value === undefined) return [];
  const profiles = readJsonArray('PROFILES', value, profileEntry);
  const upstreamNames = upstreams.map((u) => u.name);
  const toolsets: string[] = [...SYSTEM_IDS, ...upstreamNames];
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.name)) throw new ConfigError(`invalid PROFILES: name "${p.name}" appears twice`);
    seen.add(p.name);
    const badToolset = p.toolsets?.find((t) => !toolsets.includes(t));
    if (badToolset) throw new ConfigError(`invalid PROFILES: profile "${p.name}" names unknown toolset "${badToolset}" (known: ${toolsets.join(', ')})`);
    const badUpstream = p.upstreams?.find((u) => !upstreamNames.includes(u));
    if (badUpstream) throw new ConfigError(`invalid PROFILES: profile "${p.name}" names unknown upstream "${badUpstream}" (UPSTREAMS: ${upstreamNames.join(', ') || 'none'})`);
    if (p.prefix === false && (p.upstreams?.length !== 1 || p.toolsets?.length || p.tools?.length)) {
      throw new ConfigError(`invalid PROFILES: profile "${p.name}" has "prefix": false, which needs exactly one upstream and no "toolsets" or "tools"`);
    }
  }
  return profiles;
}

/** MCP_API_KEY_PROFILES: a JSON object from key ids (as /v1/audit shows them, "key:1a2b3c4d") to profile names. */
function parseKeyProfiles(value: string | undefined, profiles: ProfileConfig[]): Record<string, string> {
  if (value === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError('invalid MCP_API_KEY_PROFILES: not valid JSON (an object from key id to profile name)');
  }
  const result = z.record(z.string(), z.string()).safeParse(parsed);
  if (!result.success) throw new ConfigError('invalid MCP_API_KEY_PROFILES: not an object from key id to profile name');
  for (const [key, profile] of Object.entries(result.data)) {
    if (!/^key:[0-9a-f]{8}$/.test(key)) throw new ConfigError(`invalid MCP_API_KEY_PROFILES: ${key.slice(0, 40)} is not a key id (key:<8 hex digits>, as /v1/audit shows it)`);
    if (!profiles.some((p) => p.name === profile)) throw new ConfigError(`invalid MCP_API_KEY_PROFILES: ${key} names unknown profile "${profile}"`);
  }
  return result.data;
}

/** UPSTREAMS is inline JSON (starts with `[`) or the path of a JSON file holding the same array. */
function parseUpstreams(value: string | undefined): UpstreamConfig[] {
  if (value === undefined) return [];
  const result = { data: readJsonArray('UPSTREAMS', value, upstreamEntry) };
  const seen = new Set<string>();
  for (const u of result.data) {
    if ((SYSTEM_IDS as readonly string[]).includes(u.name)) throw new ConfigError(`invalid UPSTREAMS: name "${u.name}" is a built-in system`);
    if ((BUILTIN_TOOL_PREFIXES as readonly string[]).includes(u.name)) {
      throw new ConfigError(`invalid UPSTREAMS: name "${u.name}" is the prefix of built-in tool names (${u.name}_...); choose another name`);
    }
    if (seen.has(u.name)) throw new ConfigError(`invalid UPSTREAMS: name "${u.name}" appears twice`);
    seen.add(u.name);
  }
  return result.data;
}

/** A proxy address or CIDR (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.1`). */
function isAddressOrCidr(v: string): boolean {
  const [addr = '', bits, extra] = v.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY: `false` | hop count | comma list of addresses/CIDRs. `true` is refused: it trusts what the client writes. */
function parseTrustProxy(raw: string | undefined): false | number | string[] {
  const v = (raw ?? 'false').trim().toLowerCase();
  if (v === 'false' || v === '0') return false;
  if (v === 'true') {
    throw new ConfigError(
      'invalid TRUST_PROXY: "true" takes the client address from the left of X-Forwarded-For, which the client writes; use TRUST_PROXY=1 behind Cloud Run (the number of proxy hops) or the proxies\' CIDRs',
    );
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 10) throw new ConfigError(`invalid TRUST_PROXY: ${v} proxy hops is implausible (Cloud Run: 1)`);
    return hops;
  }
  const list = csv(v);
  const bad = list.find((c) => !isAddressOrCidr(c));
  if (bad !== undefined || list.length === 0) {
    throw new ConfigError(`invalid TRUST_PROXY: "${(bad ?? v).slice(0, 60)}" is not false, a hop count (e.g. 1) or an address/CIDR list (e.g. 10.0.0.0/8,192.0.2.1)`);
  }
  return list;
}

/**
 * Parses the environment. Throws ConfigError with one human line naming the variable on a bad value.
 * Empty strings count as unset, as shells and `.env` files commonly produce them.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`invalid ${variable}: ${issue.message}`);
  }
  const e = parsed.data;

  if (e.MCP_AUTH === 'none' && !isLoopbackHost(e.HOST)) {
    throw new ConfigError(`invalid MCP_AUTH: "none" is only allowed when HOST is a loopback address (HOST is ${e.HOST})`);
  }

  let apiKeys = csv(e.MCP_API_KEY);
  let apiKeyGenerated = false;
  if (e.MCP_AUTH === 'bearer' && apiKeys.length === 0) {
    apiKeys = [randomBytes(24).toString('base64url')];
    apiKeyGenerated = true;
  }
  if (apiKeys.some((k) => k.length < 16 || /\s/.test(k))) {
    throw new ConfigError('invalid MCP_API_KEY: each key must be at least 16 characters without spaces');
  }

  const oidcVars = [e.OAUTH_OIDC_ISSUER, e.OAUTH_OIDC_CLIENT_ID, e.OAUTH_OIDC_CLIENT_SECRET, e.OAUTH_ALLOWED_EMAILS];
  if (oidcVars.some(Boolean) && !oidcVars.every(Boolean)) {
    throw new ConfigError('invalid OAUTH_OIDC_ISSUER: OAUTH_OIDC_ISSUER, OAUTH_OIDC_CLIENT_ID, OAUTH_OIDC_CLIENT_SECRET and OAUTH_ALLOWED_EMAILS must be set together');
  }
  const allowedEmails = csv(e.OAUTH_ALLOWED_EMAILS).map((a) => a.toLowerCase());
  if (allowedEmails.some((a) => !/^[^@\s]*@[^@\s]+$/.test(a))) {
    throw new ConfigError('invalid OAUTH_ALLOWED_EMAILS: list e-mail addresses or @domain entries, comma-separated');
  }

  const remoteHosts = e.DOCKER_BUILD_REMOTE_HOSTS ? csv(e.DOCKER_BUILD_REMOTE_HOSTS).map((h) => h.toLowerCase().replace(/\.$/, '')) : undefined;
  const badRemoteHost = remoteHosts?.find((h) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(h));
  if (badRemoteHost !== undefined) {
    throw new ConfigError(`invalid DOCKER_BUILD_REMOTE_HOSTS: "${badRemoteHost}" is not a host name (comma-separated names such as github.com,gitlab.com)`);
  }

  const upstreams = parseUpstreams(e.UPSTREAMS);
  const vaultKeys = parseVaultKeys(e.VAULT_KEY);
  const userUpstream = upstreams.find((u) => u.auth === 'user');
  if (userUpstream && vaultKeys.length === 0) {
    throw new ConfigError(`missing VAULT_KEY: upstream "${userUpstream.name}" uses "auth": "user", whose tokens the hub keeps encrypted with VAULT_KEY (base64 of 32 random bytes)`);
  }
  const knownToolsets: string[] = [...SYSTEM_IDS, ...upstreams.map((u) => u.name)];
  const profiles = parseProfiles(e.PROFILES, upstreams);
  const keyProfiles = parseKeyProfiles(e.MCP_API_KEY_PROFILES, profiles);
  const toolsetNames = e.TOOLSETS === 'all' ? knownToolsets : csv(e.TOOLSETS);
  for (const t of toolsetNames) {
    if (!knownToolsets.includes(t)) {
      throw new ConfigError(`invalid TOOLSETS: unknown toolset "${t}" (known: all, ${knownToolsets.join(', ')})`);
    }
  }

  const allowedHosts = [
    ...new Set([
      'localhost',
      '127.0.0.1',
      '[::1]',
      ...csv(e.ALLOWED_HOSTS).map((h) => h.toLowerCase()),
      ...(e.PUBLIC_URL ? [new URL(e.PUBLIC_URL).hostname.toLowerCase()] : []),
    ]),
  ];
  const allowedOrigins = [
    ...new Set([
      ...csv(e.ALLOWED_ORIGINS).map((o) => o.toLowerCase().replace(/\/$/, '')),
      ...(e.PUBLIC_URL ? [new URL(e.PUBLIC_URL).origin.toLowerCase()] : []),
    ]),
  ];

  return {
    port: e.PORT,
    host: e.HOST,
    apiKeys,
    apiKeyGenerated,
    auth: e.MCP_AUTH,
    allowedHosts,
    allowedOrigins,
    sessionMode: e.MCP_SESSION_MODE,
    sessions: { idleMs: e.MCP_SESSION_IDLE_MS, maxPerProcess: e.MCP_MAX_SESSIONS, maxPerPrincipal: e.MCP_MAX_SESSIONS_PER_PRINCIPAL },
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    governance: {
      mode: e.GOVERNANCE_MODE,
      limits: { ...DEFAULT_LIMITS, ...(e.GOVERNANCE_LIMITS ?? {}) },
      overrides: e.GOVERNANCE_OVERRIDES ?? {},
      scope: e.GOVERNANCE_SCOPE,
      failurePolicy: e.QUOTA_STORE_FAILURE,
      approval: { ...DEFAULT_APPROVAL, ...(e.APPROVAL ?? {}) },
      approvalTtlMs: e.APPROVAL_TTL_S * 1000,
    },
    google: {
      oauthToken: e.GOOGLE_OAUTH_TOKEN,
      serviceAccountJson: e.GOOGLE_SERVICE_ACCOUNT_JSON,
      applicationCredentials: e.GOOGLE_APPLICATION_CREDENTIALS,
      project: e.GOOGLE_CLOUD_PROJECT,
      region: e.GOOGLE_CLOUD_REGION,
      apiKey: e.GOOGLE_API_KEY,
      apiBaseUrl: e.GOOGLE_API_BASE_URL?.replace(/\/$/, ''),
      onGoogleCloud: Boolean(e.K_SERVICE),
      metadataHost: e.GCE_METADATA_HOST,
    },
    github: { token: e.GITHUB_TOKEN, apiUrl: e.GITHUB_API_URL.replace(/\/$/, '') },
    docker: {
      host: e.DOCKER_HOST,
      buildRoot: path.resolve(e.DOCKER_BUILD_ROOT ?? path.join(e.DATA_DIR, 'build')),
      registryAuth: e.DOCKER_REGISTRY_AUTH,
      tlsVerify: e.DOCKER_TLS_VERIFY,
      certPath: e.DOCKER_CERT_PATH,
      remoteHosts,
    },
    chatgpt: { endpoint: e.CHATGPT_MCP_ENDPOINT?.replace(/\/$/, ''), token: e.CHATGPT_MCP_TOKEN, timeoutMs: e.CHATGPT_TIMEOUT_MS },
    publicUrl: e.PUBLIC_URL?.replace(/\/$/, ''),
    toolWaitMs: e.TOOL_WAIT_MS,
    toolsets: toolsetNames as SystemId[],
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    metricsPublic: e.METRICS_PUBLIC,
    bodyLimit: e.BODY_LIMIT_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    auditCap: e.AUDIT_CAP,
    auditRefusedCap: e.AUDIT_REFUSED_CAP,
    audit: {
      queueMax: e.AUDIT_QUEUE_MAX ?? Math.min(e.AUDIT_CAP, 10_000),
      spillDir: path.resolve(e.DATA_DIR, 'audit-spill'),
      spillMaxBytes: e.AUDIT_SPILL_MAX_BYTES,
      failure: e.AUDIT_FAILURE,
      log: e.AUDIT_LOG === 'on',
    },
    refusedCallsPerMinute: e.REFUSED_CALLS_PER_MINUTE,
    resultMaxChars: e.RESULT_MAX_CHARS,
    eventStore: { streamMaxBytes: e.MCP_EVENT_STREAM_MAX_BYTES, totalMaxBytes: Math.max(e.MCP_EVENT_STORE_MAX_BYTES, e.MCP_EVENT_STREAM_MAX_BYTES) },
    callbackMaxBytes: e.CALLBACK_MAX_BYTES,
    bodyShape: { maxKeys: e.BODY_MAX_KEYS, maxDepth: e.BODY_MAX_DEPTH },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    oauth: {
      accessS: e.OAUTH_ACCESS_TOKEN_TTL_S,
      refreshS: e.OAUTH_REFRESH_TOKEN_TTL_S,
      codeS: e.OAUTH_CODE_TTL_S,
      refreshGraceS: e.OAUTH_REFRESH_GRACE_S,
      unusedClientS: e.OAUTH_UNUSED_CLIENT_TTL_S,
      defaultScope: e.OAUTH_DEFAULT_SCOPE,
    },
    ...(e.OAUTH_OIDC_ISSUER
      ? { identityProvider: { issuer: e.OAUTH_OIDC_ISSUER.replace(/\/$/, ''), clientId: e.OAUTH_OIDC_CLIENT_ID!, clientSecret: e.OAUTH_OIDC_CLIENT_SECRET!, allowedEmails } }
      : {}),
    upstreams,
    vaultKeys,
    upstreamResultMaxBytes: e.UPSTREAM_RESULT_MAX_BYTES,
    profiles,
    keyProfiles,
  };
}

/** A config for tests and embedding: the defaults plus the given environment, nothing from process.env. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ MCP_API_KEY: 'test-key-0123456789abcdef', LOG_LEVEL: 'silent', ...env });
}
