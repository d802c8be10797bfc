import { z } from 'zod';
import type { Config } from '../config.js';
import type { SystemId } from '../adapters/names.js';
import { ruleFor } from '../governance/governor.js';
import type { SystemDefinition, ToolAnnotations, ToolDefinition } from './types.js';
import { jsonSchemaValidator, zodValidator, type ArgumentValidator } from './validate.js';

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
  /** Checks raw arguments against the published input schema (compiled once). */
  validate: ArgumentValidator;
}

/** An upstream tool left out of the catalog, and why (name clash, unusable schema). */
export interface SkippedTool {
  name: string;
  system: string;
  reason: string;
}

/** JSON Schema of what a caller may send (defaults make fields optional), without the `$schema` marker. */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

export class ToolRegistry {
  /** Rebuilt (never mutated) when an upstream's tool list changes. */
  tools: ReadonlyMap<string, RegisteredTool>;
  readonly systems: readonly SystemDefinition[];
  skipped: readonly SkippedTool[] = [];
  /** Built once per definition: a rebuild after an upstream change recompiles only the new tools. */
  private readonly built = new WeakMap<ToolDefinition, RegisteredTool>();
  private readonly listeners = new Set<() => void>();

  constructor(
    systems: readonly SystemDefinition[],
    private readonly config: Config,
    /** Told about upstream tools left out of the catalog. */
    private readonly warn: (skipped: SkippedTool) => void = () => undefined,
  ) {
    const enabled = new Set<SystemId>(config.toolsets);
    this.systems = systems.filter((s) => enabled.has(s.id));
    this.tools = this.build();
  }

  /** True when some tools come from upstream MCP servers (their lists may change while the hub runs). */
  get federated(): boolean {
    return this.systems.some((s) => s.federated);
  }

  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  list(): RegisteredTool[] {
    return [...this.tools.values()];
  }

  /** Rebuilds the catalog after a federated system's tools changed, then tells the surfaces (tools/list, OpenAPI). */
  refresh(): void {
    this.tools = this.build();
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private build(): Map<string, RegisteredTool> {
    const tools = new Map<string, RegisteredTool>();
    const skipped: SkippedTool[] = [];
    // Built-in systems first, so a built-in name always wins a clash with an upstream tool.
    const ordered = [...this.systems.filter((s) => !s.federated), ...this.systems.filter((s) => s.federated)];
    for (const system of ordered) {
      for (const def of system.tools) {
        if (tools.has(def.name)) {
          if (system.federated) {
            skipped.push({ name: def.name, system: system.id, reason: `name clash: ${def.name} is already served by ${tools.get(def.name)!.def.system}` });
            continue;
          }
          throw new Error(`duplicate tool name ${def.name}`);
        }
        if (def.system !== system.id) throw new Error(`tool ${def.name} declares system ${def.system} but is listed in ${system.id}`);
        try {
          tools.set(def.name, this.register(def, system));
        } catch (err) {
          if (!system.federated) throw err;
          skipped.push({ name: def.name, system: system.id, reason: `unusable input schema: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}` });
        }
      }
    }
    this.skipped = skipped;
    for (const s of skipped) this.warn(s);
    return tools;
  }

  private register(def: ToolDefinition, system: SystemDefinition): RegisteredTool {
    const cached = this.built.get(def);
    if (cached) return cached;
    const entry: RegisteredTool = {
      def,
      system,
      inputSchema: def.inputJsonSchema ?? toJsonSchema(def.input, 'input'),
      outputSchema: def.output ? toJsonSchema(def.output, 'output') : def.outputJsonSchema,
      description: `${def.description} [governance: ${def.level}, ${limitText(def, this.config)}]`,
      annotations: { title: def.title, ...def.annotations },
      needsConfirmation: def.describeAction !== undefined,
      validate: def.inputJsonSchema ? jsonSchemaValidator(def.inputJsonSchema) : zodValidator(def.input),
    };
    this.built.set(def, entry);
    return entry;
  }
}

function limitText(def: ToolDefinition, config: Config): string {
  return `${ruleFor(def, config.governance).limit} calls/hour`;
}
