import { z } from 'zod';
import type { Config, SystemId } from '../config.js';
import { ruleFor } from '../governance/governor.js';
import type { SystemDefinition, ToolAnnotations, ToolDefinition } from './types.js';

export type JsonSchema = Record<string, unknown>;

/** Everything the surfaces need about one tool, computed once at start (never per request). */
export interface RegisteredTool {
  def: ToolDefinition;
  system: SystemDefinition;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  /** The description with governance level and default quota appended, as published. */
  description: string;
  annotations: ToolAnnotations & { title: string };
  needsConfirmation: boolean;
}

/** JSON Schema of what a caller may send (defaults make fields optional), without the `$schema` marker. */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

export class ToolRegistry {
  readonly tools: ReadonlyMap<string, RegisteredTool>;
  readonly systems: readonly SystemDefinition[];

  constructor(systems: readonly SystemDefinition[], config: Config) {
    const enabled = new Set<SystemId>(config.toolsets);
    this.systems = systems.filter((s) => enabled.has(s.id));
    const tools = new Map<string, RegisteredTool>();
    for (const system of this.systems) {
      for (const def of system.tools) {
        if (tools.has(def.name)) throw new Error(`duplicate tool name ${def.name}`);
        if (def.system !== system.id) throw new Error(`tool ${def.name} declares system ${def.system} but is listed in ${system.id}`);
        tools.set(def.name, {
          def,
          system,
          inputSchema: toJsonSchema(def.input, 'input'),
          outputSchema: def.output ? toJsonSchema(def.output, 'output') : undefined,
          description: `${def.description} [governance: ${def.level}, ${limitText(def, config)}]`,
          annotations: { title: def.title, ...def.annotations },
          needsConfirmation: def.describeAction !== undefined,
        });
      }
    }
    this.tools = tools;
  }

  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  list(): RegisteredTool[] {
    return [...this.tools.values()];
  }
}

function limitText(def: ToolDefinition, config: Config): string {
  return `${ruleFor(def, config.governance).limit} calls/hour`;
}
