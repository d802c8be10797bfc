import type { Tool } from '@modelcontextprotocol/client';
import { z } from 'zod';
import type { Level, UpstreamConfig } from '../config.js';
import type { ToolAnnotations, ToolDefinition } from '../tools/types.js';
import type { UpstreamConnection } from './connection.js';

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
    ...(confirm
      ? {
          describeAction: (args: Record<string, unknown>) =>
            `call ${tool.name} on the upstream MCP server "${upstream.name}" with ${JSON.stringify(forward(args)).slice(0, 500)}`,
        }
      : {}),
    run: async (args, ctx) =>
      (await conn.callTool(tool.name, forward(args), { signal: ctx.signal, onProgress: ctx.progress, principal: ctx.principal })) as Record<string, unknown>,
  };
}
