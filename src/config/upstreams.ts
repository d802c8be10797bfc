import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BUILTIN_TOOL_PREFIXES, SYSTEM_IDS } from '../adapters/names.js';
import { LEVELS } from '../governance/levels.js';
import { csv, fail, httpUrl, missing, type Vars } from './fields.js';

/** One UPSTREAMS entry: a Streamable HTTP (or legacy SSE) server by `url`, or a stdio server by `command`. */
const upstreamEntry = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'must match ^[a-z][a-z0-9]{0,15}$ (it prefixes every tool name)'),
    url: httpUrl.optional(),
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
        issuer: httpUrl.optional(),
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
export type UpstreamConfig = z.output<typeof upstreamEntry>;

/** A JSON array given inline (starts with `[`) or as the path of a JSON file holding it (UPSTREAMS, PROFILES). */
export const jsonArray = <T extends z.ZodType>(entry: T) =>
  z.string().transform((value, ctx): z.output<T>[] => {
    let text = value.trim();
    if (!text.startsWith('[')) {
      try {
        text = readFileSync(text, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        return fail(ctx, `not a JSON array and not a readable file (${code}): ${value.slice(0, 200)}`);
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail(ctx, 'not valid JSON');
    }
    const result = z.array(entry).safeParse(parsed);
    if (!result.success) {
      const first = result.error.issues[0]!;
      return fail(ctx, `${first.path.join('.') || 'value'} ${first.message}`);
    }
    return result.data;
  });

/** UPSTREAMS: names unique and never a built-in system's id or the prefix of built-in tool names. */
const upstreamList = jsonArray(upstreamEntry).transform((upstreams, ctx) => {
  const seen = new Set<string>();
  for (const { name } of upstreams) {
    if ((SYSTEM_IDS as readonly string[]).includes(name)) return fail(ctx, `name "${name}" is a built-in system`);
    if ((BUILTIN_TOOL_PREFIXES as readonly string[]).includes(name)) return fail(ctx, `name "${name}" is the prefix of built-in tool names (${name}_...); choose another name`);
    if (seen.has(name)) return fail(ctx, `name "${name}" appears twice`);
    seen.add(name);
  }
  return upstreams;
});

/** VAULT_KEY: comma-separated base64 keys of 32 bytes each (a new key goes first; older ones stay to read old records). */
const vaultKeys = z.string().transform((value, ctx) => {
  const keys = csv(value).map((k) => Buffer.from(k, 'base64'));
  return keys.every((k) => k.length === 32) ? keys : fail(ctx, 'each comma-separated key must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)');
});

/** Upstream MCP servers whose tools the hub serves under its governance, and the vault for their per-user logins. */
export const upstreamVars = {
  UPSTREAMS: upstreamList.default([]),
  VAULT_KEY: vaultKeys.default([]),
  UPSTREAM_RESULT_MAX_BYTES: z.coerce.number().int().min(64 * 1024).default(4 * 1024 * 1024),
};

export function upstreamConfig(e: Vars<typeof upstreamVars>, ctx: z.RefinementCtx) {
  const userUpstream = e.UPSTREAMS.find((u) => u.auth === 'user');
  if (userUpstream && e.VAULT_KEY.length === 0) {
    return missing(ctx, 'VAULT_KEY', `upstream "${userUpstream.name}" uses "auth": "user", whose tokens the hub keeps encrypted with VAULT_KEY (base64 of 32 random bytes)`);
  }
  return {
    /** Upstream MCP servers whose tools the hub serves under its governance (UPSTREAMS); empty when unset. */
    upstreams: e.UPSTREAMS,
    /** VAULT_KEY: 32-byte keys for the upstream credential vault, the first encrypts, every one decrypts; empty when unset. */
    vaultKeys: e.VAULT_KEY,
    /** Bound on one message read from an upstream (a tool result, a list), enforced while it is read; MCP and REST alike. */
    upstreamResultMaxBytes: e.UPSTREAM_RESULT_MAX_BYTES,
  };
}
