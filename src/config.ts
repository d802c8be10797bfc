import { z } from 'zod';
import { catalogConfig, catalogVars } from './config/catalog.js';
import { governanceConfig, governanceVars } from './config/governance.js';
import { httpConfig, httpVars } from './config/http.js';
import { mcpConfig, mcpVars } from './config/mcp.js';
import { oauthConfig, oauthVars } from './config/oauth.js';
import { storeConfig, storeVars } from './config/stores.js';
import { systemConfig, systemVars } from './config/systems.js';
import { upstreamConfig, upstreamVars } from './config/upstreams.js';

/**
 * The hub's environment, parsed once at start. Every module reads the Config object, never process.env, and imports
 * it from here: the files under src/config/ each hold one area's variables (its zod fields, whose transforms turn the
 * strings into typed values) and the mapping of those to the config's fields.
 */

export type { ProfileConfig } from './config/catalog.js';
export type { UpstreamConfig } from './config/upstreams.js';

/** One schema from the environment to the config: its output type is `Config`. */
const ConfigSchema = z
  .object({ ...httpVars, ...mcpVars, ...storeVars, ...governanceVars, ...systemVars, ...oauthVars, ...upstreamVars, ...catalogVars })
  .transform((e, ctx) => ({
    ...httpConfig(e, ctx),
    ...mcpConfig(e),
    ...storeConfig(e),
    ...governanceConfig(e),
    ...systemConfig(e),
    ...oauthConfig(e, ctx),
    ...upstreamConfig(e, ctx),
    ...catalogConfig(e, ctx),
  }));

export type Config = z.output<typeof ConfigSchema>;
export type GovernanceConfig = Config['governance'];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment. Throws ConfigError with one human line naming the variable on a bad value.
 * Empty strings count as unset, as shells and `.env` files commonly produce them.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = ConfigSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const heading = issue.code === 'custom' && issue.params?.missing === true ? 'missing' : 'invalid';
  throw new ConfigError(`${heading} ${variable}: ${issue.message}`);
}
