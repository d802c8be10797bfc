/**
 * The names the built-in inventory (`SYSTEMS`, src/adapters/index.ts) claims, in a module that imports nothing, so
 * the config can check TOOLSETS, PROFILES and UPSTREAMS against them without importing every adapter. The inventory
 * refuses to load when its systems differ from SYSTEM_IDS, and a test checks every built-in tool name against
 * BUILTIN_TOOL_PREFIXES.
 */
export const SYSTEM_IDS = ['cloud_run', 'workspace', 'ai_ml', 'maps', 'docker', 'intelligence', 'github', 'chatgpt', 'connector'] as const;
export type BuiltinSystemId = (typeof SYSTEM_IDS)[number];
/** A built-in system, or the name of an upstream MCP server (UPSTREAMS): upstream names are only known at start. */
export type SystemId = BuiltinSystemId | (string & {});

/**
 * The first segments of built-in tool names (`google_drive_search`, `docker_ps`, ...) and the unprefixed ones. An
 * upstream under one of these names would serve tools named like built-in ones (and inherit their overrides) whenever
 * that toolset is off, so such names are refused at start.
 */
export const BUILTIN_TOOL_PREFIXES = ['google', 'docker', 'github', 'chatgpt', 'intelligence', 'search', 'fetch'] as const;

/** Throws unless `systems` lists exactly the ids of SYSTEM_IDS, each once, in the same order. */
export function checkInventory(systems: readonly { id: string }[]): void {
  const ids = systems.map((s) => s.id);
  if (ids.length !== SYSTEM_IDS.length || ids.some((id, i) => id !== SYSTEM_IDS[i])) {
    throw new Error(`the built-in systems (${ids.join(', ')}) differ from SYSTEM_IDS in src/adapters/names.ts (${SYSTEM_IDS.join(', ')})`);
  }
}
