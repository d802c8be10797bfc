import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { ConnectionStatus, SystemDefinition, ToolDefinition } from '../tools/types.js';
import { UpstreamConnection, type ConnectionTimings } from './connection.js';
import { upstreamToolDefinition } from './tools.js';
import type { UserConnections } from './user-connections.js';
import { UserTokenSource } from './user-tokens.js';

/** One upstream as a system of the registry: its tools are rebuilt whenever the upstream's list changes. */
export class UpstreamSystem implements SystemDefinition {
  readonly federated = true;
  tools: ToolDefinition[] = [];
  /** Upstream tools that could not be turned into hub tools, and why. */
  skipped: { name: string; reason: string }[] = [];
  /** The definition made of each upstream tool, by the tool's JSON: an unchanged tool keeps its (compiled) definition. */
  private made = new Map<string, ToolDefinition>();

  constructor(
    readonly connection: UpstreamConnection,
    private readonly log: FastifyBaseLogger,
  ) {}

  get id(): string {
    return this.connection.name;
  }

  get title(): string {
    return `${this.connection.name} (MCP upstream)`;
  }

  /**
   * Turns the connection's current tool list into definitions. Tools the upstream gave unchanged keep their
   * definition, so the registry reuses their compiled validators instead of compiling them again.
   */
  rebuild(): void {
    const tools: ToolDefinition[] = [];
    const skipped: { name: string; reason: string }[] = [];
    const made = new Map<string, ToolDefinition>();
    for (const tool of this.connection.tools) {
      const key = JSON.stringify(tool);
      const def = this.made.get(key) ?? upstreamToolDefinition(this.connection, tool);
      if ('skip' in def) skipped.push({ name: tool.name, reason: def.skip });
      else {
        tools.push(def);
        made.set(key, def);
      }
    }
    this.made = made;
    for (const s of skipped) this.log.warn({ upstream: this.id, tool: s.name, reason: s.reason }, 'upstream tool not served');
    this.tools = tools;
    this.skipped = skipped;
  }

  missingConfig(): string | null {
    return null;
  }

  async check(): Promise<ConnectionStatus> {
    const s = this.connection.status;
    switch (s.state) {
      case 'connected':
        return { state: 'connected', detail: `${s.transport}, ${this.tools.length} tools` };
      case 'needs':
        return { state: 'needs', variable: s.variable };
      case 'failed':
        return { state: 'failed', reason: s.reason };
      case 'closed':
        return { state: 'failed', reason: 'closed' };
      default:
        return { state: 'failed', reason: 'still connecting' };
    }
  }
}

export interface UpstreamsOptions {
  /** How long start() waits for the first connection attempts (they continue in the background after). */
  startWaitMs?: number;
  timings?: Partial<ConnectionTimings>;
  /** The vault and flows of `auth: "user"` upstreams (required when one is configured). */
  userConnections?: UserConnections;
}

/** The UPSTREAMS of the configuration (those TOOLSETS enables): connected together, each a registry system, closed together. */
export class Upstreams {
  readonly systems: UpstreamSystem[];
  private readonly listeners = new Set<() => void>();
  private readonly contentListeners = new Set<(kind: 'resources' | 'prompts') => void>();

  constructor(config: Config, log: FastifyBaseLogger, options: UpstreamsOptions = {}) {
    // An upstream left out by TOOLSETS is not started at all.
    this.systems = config.upstreams.filter((u) => config.toolsets.includes(u.name)).map((u) => {
      const tokens = u.auth === 'user' && options.userConnections ? new UserTokenSource(u.name, options.userConnections) : undefined;
      const connection = new UpstreamConnection(u, log, { callTimeoutMs: config.toolWaitMs, resultMaxBytes: config.upstreamResultMaxBytes, ...options.timings }, tokens);
      const system = new UpstreamSystem(connection, log);
      connection.onToolsChanged = () => {
        system.rebuild();
        for (const l of this.listeners) l();
      };
      connection.onContentChanged = (kind) => {
        for (const l of this.contentListeners) l(kind);
      };
      return system;
    });
  }

  /** Connects every upstream in parallel; waits at most `waitMs` so a dead upstream never holds the hub's start. */
  async start(waitMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.systems.map((s) => s.connection.start())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** An upstream's connection, by name. */
  connection(name: string): UpstreamConnection | undefined {
    return this.systems.find((s) => s.id === name)?.connection;
  }

  /** Called after any upstream's tool list changed. */
  onToolsChanged(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Called when an upstream announced that its resources or prompts changed. */
  onContentChanged(listener: (kind: 'resources' | 'prompts') => void): void {
    this.contentListeners.add(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.systems.map((s) => s.connection.close()));
  }
}
