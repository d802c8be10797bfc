import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { baseUrl, bool, csv, fail, list, port, positiveInt, type Vars } from './fields.js';

/** The HTTP server: where it listens, who may call it, and the bounds on one request. */
export const httpVars = {
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  MCP_API_KEY: list
    .refine((keys) => keys.every((k) => k.length >= 16 && !/\s/.test(k)), 'each key must be at least 16 characters without spaces')
    .default([]),
  MCP_AUTH: z.enum(['bearer', 'none']).default('bearer'),
  ALLOWED_HOSTS: list.default([]),
  ALLOWED_ORIGINS: list.default([]),
  PUBLIC_URL: baseUrl.optional(),
  TRUST_PROXY: z.string().transform((v, ctx) => parseTrustProxy(v, ctx)).default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  METRICS_PUBLIC: bool.default(false),
  BODY_LIMIT_BYTES: positiveInt.default(4 * 1024 * 1024),
  BODY_MAX_KEYS: positiveInt.default(20_000),
  BODY_MAX_DEPTH: positiveInt.default(32),
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(6000),
  TOOL_WAIT_MS: positiveInt.default(40_000),
  RESULT_MAX_CHARS: z.coerce.number().int().min(1_000).default(90_000),
};

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function httpConfig(e: Vars<typeof httpVars>, ctx: z.RefinementCtx) {
  if (e.MCP_AUTH === 'none' && !isLoopbackHost(e.HOST)) {
    return fail(ctx, `"none" is only allowed when HOST is a loopback address (HOST is ${e.HOST})`, 'MCP_AUTH');
  }
  const apiKeyGenerated = e.MCP_AUTH === 'bearer' && e.MCP_API_KEY.length === 0;
  const publicUrl = e.PUBLIC_URL === undefined ? undefined : new URL(e.PUBLIC_URL);
  return {
    port: e.PORT,
    host: e.HOST,
    /** Accepted bearer keys (rotation: several). Empty only when auth is 'none'. */
    apiKeys: apiKeyGenerated ? [randomBytes(24).toString('base64url')] : e.MCP_API_KEY,
    /** True when no MCP_API_KEY was given and the hub made one up for this run. */
    apiKeyGenerated,
    auth: e.MCP_AUTH,
    allowedHosts: [
      ...new Set(['localhost', '127.0.0.1', '[::1]', ...e.ALLOWED_HOSTS.map((h) => h.toLowerCase()), ...(publicUrl ? [publicUrl.hostname.toLowerCase()] : [])]),
    ],
    allowedOrigins: [...new Set([...e.ALLOWED_ORIGINS.map((o) => o.toLowerCase().replace(/\/$/, '')), ...(publicUrl ? [publicUrl.origin.toLowerCase()] : [])])],
    publicUrl: e.PUBLIC_URL,
    /**
     * Which proxies may set X-Forwarded-For: false (none: the socket address is the client), a hop count (Cloud Run: 1)
     * or proxy addresses/CIDRs. The client address is the right-most untrusted entry, so a client cannot choose it.
     */
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    metricsPublic: e.METRICS_PUBLIC,
    bodyLimit: e.BODY_LIMIT_BYTES,
    /** JSON bodies with more entries or deeper nesting are refused before any validation. */
    bodyShape: { maxKeys: e.BODY_MAX_KEYS, maxDepth: e.BODY_MAX_DEPTH },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    toolWaitMs: e.TOOL_WAIT_MS,
    /** Bound on one tool result's JSON (structuredContent and its text copy; REST body). */
    resultMaxChars: e.RESULT_MAX_CHARS,
  };
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
function parseTrustProxy(raw: string, ctx: z.RefinementCtx): false | number | string[] {
  const v = raw.trim().toLowerCase();
  if (v === 'false' || v === '0') return false;
  if (v === 'true') {
    return fail(
      ctx,
      '"true" takes the client address from the left of X-Forwarded-For, which the client writes; use TRUST_PROXY=1 behind Cloud Run (the number of proxy hops) or the proxies\' CIDRs',
    );
  }
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 10) return fail(ctx, `${v} proxy hops is implausible (Cloud Run: 1)`);
    return hops;
  }
  const entries = csv(v);
  const bad = entries.find((c) => !isAddressOrCidr(c));
  if (bad !== undefined || entries.length === 0) {
    return fail(ctx, `"${(bad ?? v).slice(0, 60)}" is not false, a hop count (e.g. 1) or an address/CIDR list (e.g. 10.0.0.0/8,192.0.2.1)`);
  }
  return entries;
}
