import { z } from 'zod';
import { SYSTEM_IDS, type SystemId } from '../adapters/names.js';
import { LEVELS } from '../governance/levels.js';
import { csv, fail, type Vars } from './fields.js';
import { jsonArray, type UpstreamConfig } from './upstreams.js';

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
export type ProfileConfig = z.output<typeof profileEntry>;

/** MCP_API_KEY_PROFILES: a JSON object from key ids (as /v1/audit shows them, "key:1a2b3c4d") to profile names. */
const keyProfiles = z.string().transform((value, ctx): Record<string, string> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return fail(ctx, 'not valid JSON (an object from key id to profile name)');
  }
  const result = z.record(z.string(), z.string()).safeParse(parsed);
  if (!result.success) return fail(ctx, 'not an object from key id to profile name');
  const badKey = Object.keys(result.data).find((key) => !/^key:[0-9a-f]{8}$/.test(key));
  if (badKey !== undefined) return fail(ctx, `${badKey.slice(0, 40)} is not a key id (key:<8 hex digits>, as /v1/audit shows it)`);
  return result.data;
});

/** Which tools the hub serves: the enabled toolsets, and the named views of them that keys and URLs select. */
export const catalogVars = {
  TOOLSETS: z.string().default('all'),
  PROFILES: jsonArray(profileEntry).default([]),
  MCP_API_KEY_PROFILES: keyProfiles.default({}),
};

/**
 * Checks every toolset, upstream and profile named against the built-in systems (SYSTEM_IDS, which the inventory
 * is checked against when it loads) and the UPSTREAMS names.
 */
export function catalogConfig(e: Vars<typeof catalogVars> & { UPSTREAMS: readonly UpstreamConfig[] }, ctx: z.RefinementCtx) {
  const upstreamNames = e.UPSTREAMS.map((u) => u.name);
  const known: string[] = [...SYSTEM_IDS, ...upstreamNames];
  const seen = new Set<string>();
  for (const p of e.PROFILES) {
    const problem = profileProblem(p, seen, known, upstreamNames);
    if (problem !== undefined) return fail(ctx, problem, 'PROFILES');
    seen.add(p.name);
  }
  for (const [key, profile] of Object.entries(e.MCP_API_KEY_PROFILES)) {
    if (!seen.has(profile)) return fail(ctx, `${key} names unknown profile "${profile}"`, 'MCP_API_KEY_PROFILES');
  }
  const toolsets = e.TOOLSETS === 'all' ? known : csv(e.TOOLSETS);
  const unknown = toolsets.find((t) => !known.includes(t));
  if (unknown !== undefined) return fail(ctx, `unknown toolset "${unknown}" (known: all, ${known.join(', ')})`, 'TOOLSETS');
  return {
    /** Enabled toolsets (system ids); every system when TOOLSETS=all. */
    toolsets: toolsets as SystemId[],
    /** Named views of the catalog (PROFILES); empty when unset. */
    profiles: e.PROFILES,
    /** Key id ("key:1a2b3c4d") → the profile that key always sees (MCP_API_KEY_PROFILES). */
    keyProfiles: e.MCP_API_KEY_PROFILES,
  };
}

/** PROFILES: names unique, every toolset and upstream named exists, `prefix: false` only for a profile of one upstream. */
function profileProblem(p: ProfileConfig, seen: ReadonlySet<string>, known: readonly string[], upstreamNames: readonly string[]): string | undefined {
  if (seen.has(p.name)) return `name "${p.name}" appears twice`;
  const badToolset = p.toolsets?.find((t) => !known.includes(t));
  if (badToolset) return `profile "${p.name}" names unknown toolset "${badToolset}" (known: ${known.join(', ')})`;
  const badUpstream = p.upstreams?.find((u) => !upstreamNames.includes(u));
  if (badUpstream) return `profile "${p.name}" names unknown upstream "${badUpstream}" (UPSTREAMS: ${upstreamNames.join(', ') || 'none'})`;
  if (p.prefix === false && (p.upstreams?.length !== 1 || p.toolsets?.length || p.tools?.length)) {
    return `profile "${p.name}" has "prefix": false, which needs exactly one upstream and no "toolsets" or "tools"`;
  }
  return undefined;
}
