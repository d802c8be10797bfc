import type { Tool } from '@modelcontextprotocol/client';
import { z } from 'zod';
import type { UpstreamConfig } from '../config.js';
import type { Level } from '../governance/levels.js';
import { HubError } from '../tools/errors.js';
import type { ToolAnnotations, ToolDefinition } from '../tools/types.js';
import type { UpstreamConnection } from './connection.js';
import { hubUri } from './hub-uri.js';

/** MCP's tool-name alphabet: anything else cannot be served under the hub's name. */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** The fields the hub adds to CRITICAL upstream tools (the same contract as built-in CRITICAL tools). */
const CONFIRM_PROPERTIES = {
  dry_run: { type: 'boolean', description: 'Preview what the call would do; nothing runs and no quota is used' },
  confirm: { type: 'boolean', description: 'true to run this CRITICAL action, where the hub lets the model confirm' },
  approval_id: { type: 'string', maxLength: 200, description: 'The approval_id from an approval_required answer, once a person approved this exact call' },
};

/**
 * An upstream tool's level: the per-tool setting, else the entry's `level`, else the annotations — `readOnlyHint` → LOW,
 * `destructiveHint` → CRITICAL, otherwise MEDIUM. Hints that are absent count as not given (the spec's default of
 * `destructiveHint: true` would make every unannotated tool CRITICAL).
 */
export function upstreamLevel(upstream: UpstreamConfig, tool: Pick<Tool, 'name' | 'annotations'>): Level {
  const setting = upstream.tools && Object.hasOwn(upstream.tools, tool.name) ? upstream.tools[tool.name] : undefined;
  if (setting?.level) return setting.level;
  if (upstream.level) return upstream.level;
  if (tool.annotations?.readOnlyHint === true) return 'LOW';
  if (tool.annotations?.destructiveHint === true) return 'CRITICAL';
  return 'MEDIUM';
}

/**
 * The MCP App metadata of an upstream tool, passed on with its `ui://` resource URI rewritten to the hub URI that
 * reads it back (`<upstream>+ui://...`): `_meta.ui` (MCP Apps), the older `ui/resourceUri` key and the OpenAI Apps
 * SDK keys (`openai/outputTemplate` and the other `openai/*` entries). `forModel` is false for an app-only tool.
 */
export function appMeta(upstream: string, meta: Record<string, unknown> | undefined): { mcpMeta?: Record<string, unknown>; forModel: boolean } {
  if (!meta) return { forModel: true };
  const out: Record<string, unknown> = {};
  const rewrite = (uri: unknown) => (typeof uri === 'string' && uri.length > 0 ? hubUri(upstream, uri) : uri);
  let forModel = true;
  const ui = meta.ui;
  if (ui && typeof ui === 'object' && !Array.isArray(ui)) {
    const entry = { ...(ui as Record<string, unknown>) };
    if ('resourceUri' in entry) entry.resourceUri = rewrite(entry.resourceUri);
    if (Array.isArray(entry.visibility) && !entry.visibility.includes('model')) forModel = false;
    out.ui = entry;
  }
  if ('ui/resourceUri' in meta) out['ui/resourceUri'] = rewrite(meta['ui/resourceUri']);
  for (const [key, value] of Object.entries(meta)) {
    if (key.startsWith('openai/')) out[key] = key === 'openai/outputTemplate' ? rewrite(value) : value;
  }
  return Object.keys(out).length ? { mcpMeta: out, forModel } : { forModel };
}

/** The hub's ToolDefinition of one upstream tool, or a reason it cannot be served. */
export function upstreamToolDefinition(conn: UpstreamConnection, tool: Tool): ToolDefinition | { skip: string } {
  const upstream = conn.config;
  const setting = upstream.tools && Object.hasOwn(upstream.tools, tool.name) ? upstream.tools[tool.name] : undefined;
  if (setting?.enabled === false) return { skip: 'disabled in UPSTREAMS' };
  const name = `${upstream.name}_${tool.name}`;
  if (!TOOL_NAME.test(name)) return { skip: `tool name ${JSON.stringify(tool.name.slice(0, 100))} is not a valid MCP tool name` };
  const level = upstreamLevel(upstream, tool);
  const confirm = level === 'CRITICAL';
  const schema = tool.inputSchema as Record<string, unknown>;
  const inputJsonSchema = confirm
    ? { ...schema, properties: { ...((schema.properties as Record<string, unknown> | undefined) ?? {}), ...CONFIRM_PROPERTIES } }
    : schema;
  // Without the hub's own fields: the upstream gets exactly the arguments its schema describes.
  const forward = (args: Record<string, unknown>): Record<string, unknown> => {
    if (!confirm) return args;
    const { dry_run: _d, confirm: _c, approval_id: _a, ...rest } = args;
    return rest;
  };
  return {
    name,
    system: upstream.name,
    title: tool.title ?? tool.annotations?.title ?? tool.name,
    description: tool.description ?? tool.title ?? `${tool.name} on the upstream MCP server "${upstream.name}"`,
    level,
    input: z.looseObject({}),
    inputJsonSchema,
    // A dry-run answer does not have the upstream's result shape, so CRITICAL tools publish none.
    ...(tool.outputSchema && !confirm ? { outputJsonSchema: tool.outputSchema as Record<string, unknown> } : {}),
    annotations: (tool.annotations ?? {}) as ToolAnnotations,
    passthrough: true,
    ...appMeta(upstream.name, tool._meta),
    ...(confirm
      ? {
          describeAction: (args: Record<string, unknown>) =>
            `call ${tool.name} on the upstream MCP server "${upstream.name}" with ${JSON.stringify(forward(args)).slice(0, 500)}`,
        }
      : {}),
    run: async (args, ctx) => {
      const result = (await conn.callTool(tool.name, forward(args), { signal: ctx.signal, onProgress: ctx.progress, principal: ctx.principal, ask: ctx.ask, round: ctx.round, log: ctx.clientLog })) as Record<string, unknown>;
      // Only an MCP caller can answer an input_required round (the MCP surface relays it); any other caller gets why not.
      if (result.resultType === 'input_required' && !ctx.round) {
        throw new HubError('upstream_error', `${tool.name} on the upstream MCP server "${upstream.name}" asks for input (elicitation, sampling or roots) that only an MCP client can give`, {
          upstream: upstream.name,
        });
      }
      return result;
    },
  };
}
