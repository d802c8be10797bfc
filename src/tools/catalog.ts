import type { Config, ProfileConfig } from '../config.js';
import type { Level } from '../governance/levels.js';
import { ruleFor } from '../governance/governor.js';
import { HubError } from './errors.js';
import type { RegisteredTool, ToolRegistry } from './registry.js';

const RANK: Readonly<Record<Level, number>> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

/** What one caller may see and call: a profile (PROFILES) and the highest level its OAuth token holds. */
export interface CatalogView {
  profile?: ProfileConfig;
  /** Unset: any level (a hub key, or a token with no level scope narrowing). */
  maxLevel?: Level;
}

export interface Caller {
  principal: string;
  /** A profile the request asks for (`?profile=`, `/mcp/p/<profile>`). */
  profile?: string;
  /** The highest level scope of the caller's OAuth token. */
  maxLevel?: Level | null;
}

/**
 * The view of one caller. A key bound to a profile (MCP_API_KEY_PROFILES) always gets that profile: asking for
 * another is refused (403), so a bound key cannot widen its surface; an unbound caller may pick any profile.
 */
export function callerView(config: Config, caller: Caller): CatalogView {
  const bound = config.keyProfiles[caller.principal];
  const asked = caller.profile;
  if (asked !== undefined && !config.profiles.some((p) => p.name === asked)) {
    throw new HubError('not_found', `unknown profile "${asked.slice(0, 64)}"${config.profiles.length ? ` (PROFILES: ${config.profiles.map((p) => p.name).join(', ')})` : ' (no PROFILES are configured)'}`);
  }
  if (bound !== undefined && asked !== undefined && asked !== bound) {
    throw new HubError('insufficient_scope', `this key is bound to profile "${bound}" (MCP_API_KEY_PROFILES) and cannot use profile "${asked}"`, { profile: bound }, 403);
  }
  const name = asked ?? bound;
  const profile = name === undefined ? undefined : config.profiles.find((p) => p.name === name);
  return { ...(profile ? { profile } : {}), ...(caller.maxLevel ? { maxLevel: caller.maxLevel } : {}) };
}

const patternCache = new WeakMap<ProfileConfig, RegExp[]>();

/** A profile's `tools` patterns as anchored regexes (`*` stands for any characters; the rest is literal). */
function toolPatterns(profile: ProfileConfig): RegExp[] {
  let patterns = patternCache.get(profile);
  if (!patterns) {
    patterns = (profile.tools ?? []).map((p) => new RegExp(`^${p.split('*').map((part) => part.replace(/[.-]/g, '\\$&')).join('.*')}$`));
    patternCache.set(profile, patterns);
  }
  return patterns;
}

/**
 * Whether a tool is in a view. A profile selects tools by toolset (built-in system or upstream name), by upstream,
 * or by name pattern (a tool matching any of them is in; a profile naming none selects every tool); `max_level` and
 * the token's level then leave out the tools above them (the level governance gives the tool, overrides included).
 */
export function inView(tool: RegisteredTool, view: CatalogView, config: Config): boolean {
  const { profile, maxLevel } = view;
  if (!profile && !maxLevel) return true;
  const level = ruleFor(tool.def, config.governance).level;
  if (maxLevel && RANK[level] > RANK[maxLevel]) return false;
  if (!profile) return true;
  if (profile.max_level && RANK[level] > RANK[profile.max_level]) return false;
  const system = tool.def.system;
  if (!profile.toolsets && !profile.upstreams && !profile.tools) return true;
  if (profile.toolsets?.includes(system)) return true;
  if (tool.system.federated && profile.upstreams?.includes(system)) return true;
  return toolPatterns(profile).some((re) => re.test(tool.def.name));
}

const viewKey = (view: CatalogView) => `${view.profile?.name ?? ''}|${view.maxLevel ?? ''}`;
const listCache = new WeakMap<ReadonlyMap<string, RegisteredTool>, Map<string, RegisteredTool[]>>();

/**
 * The catalog one caller sees: used by `GET /v1/tools`, `/openapi.json` and MCP `tools/list`. Computed once per view
 * and catalog generation (the registry replaces its map when an upstream's tools change, which drops the cache).
 */
export function visibleTools(registry: ToolRegistry, config: Config, view: CatalogView): RegisteredTool[] {
  if (!view.profile && !view.maxLevel) return registry.list();
  let perView = listCache.get(registry.tools);
  if (!perView) {
    perView = new Map();
    listCache.set(registry.tools, perView);
  }
  const key = viewKey(view);
  let tools = perView.get(key);
  if (!tools) {
    tools = registry.list().filter((t) => inView(t, view, config));
    perView.set(key, tools);
  }
  return tools;
}

/**
 * The name an MCP client sees: a `prefix: false` profile shows its one upstream's tools under the upstream's own
 * names, so the hub is a transparent front for that server. REST and OpenAPI keep catalog names (their paths and
 * operation ids must stay unique across profiles).
 */
export function exposedName(tool: RegisteredTool, view: CatalogView): string {
  if (view.profile?.prefix !== false) return tool.def.name;
  const prefix = `${tool.def.system}_`;
  return tool.def.name.startsWith(prefix) ? tool.def.name.slice(prefix.length) : tool.def.name;
}

/** The catalog name of what a caller called (the reverse of exposedName). */
export function catalogName(name: string, view: CatalogView): string {
  return view.profile?.prefix === false ? `${view.profile.upstreams![0]}_${name}` : name;
}

/** The tool of that catalog name if it is in the view, else undefined (answered as unknown_tool). */
export function toolInView(registry: ToolRegistry, config: Config, view: CatalogView, name: string): RegisteredTool | undefined {
  const tool = registry.get(name);
  return tool && inView(tool, view, config) ? tool : undefined;
}

/**
 * Whether a view lets its caller see an upstream's resources and prompts: a profile selecting the upstream by
 * toolset or upstream, or naming one of its tools (`<upstream>_...` patterns); any view without a profile selection.
 */
export function upstreamInView(upstream: string, view: CatalogView): boolean {
  const p = view.profile;
  if (!p || (!p.toolsets && !p.upstreams && !p.tools)) return true;
  return p.toolsets?.includes(upstream) === true || p.upstreams?.includes(upstream) === true || p.tools?.some((t) => t.startsWith(`${upstream}_`)) === true;
}

/** Whether a view lets its caller use something of that governance level (its profile's and its token's bounds). */
export function levelInView(level: Level, view: CatalogView): boolean {
  if (view.maxLevel && RANK[level] > RANK[view.maxLevel]) return false;
  return !(view.profile?.max_level && RANK[level] > RANK[view.profile.max_level]);
}
