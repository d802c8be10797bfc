import type { FastifyBaseLogger } from 'fastify';
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { Level } from '../governance/levels.js';
import type { SystemId } from '../adapters/names.js';
import type { IntelligenceStore } from '../adapters/intelligence/store.js';
import type { OperationStore } from './operation-store.js';

export type { Level, SystemId };

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** Binary content a tool returns next to its JSON (e.g. TTS audio); becomes MCP audio/image content. */
export interface MediaContent {
  type: 'audio' | 'image';
  /** base64 */
  data: string;
  mimeType: string;
}

/**
 * The services a tool may use: the Intelligence store and the state of long operations. The governance stores (quotas,
 * audit, approvals) are not here: the pipeline alone uses them, so no adapter can spend or skip a quota or write audit.
 */
export interface ToolServices {
  /** State of long operations (`{"status": "running", "operation"}` follow-ups); Redis when REDIS_URL is set. */
  operations: OperationStore;
  /** Opened lazily on first use (embedded SQLite or pg): cold start stays small. */
  intelligence(): Promise<IntelligenceStore>;
}

export interface ToolContext {
  config: Config;
  services: ToolServices;
  log: FastifyBaseLogger;
  /** Aborted when the call's time budget (TOOL_WAIT_MS) runs out or the hub shuts down. */
  signal: AbortSignal;
  /** Epoch ms by which the tool should answer; long operations return `{status: "running", operation}` instead of waiting past it. */
  deadline: number;
  /** Stable id of the calling key (never the key itself), e.g. "key:3f9a1c2b". */
  principal: string;
  /** Id of this call's audit record, for linking (e.g. Auto Builder correlation). */
  callId: string;
  /** Attach binary content to the result. */
  attach(media: MediaContent): void;
  /** Present when the caller asked for progress (an MCP `progressToken`): report the steps of a long operation. */
  progress?: (p: ProgressUpdate) => void;
  /** Present when the caller's client can answer an upstream's elicitation or sampling request (a 2025 session). */
  ask?: ClientAsker;
  /** The caller's MCP request as a 2026-07-28 upstream needs it relayed (see McpRound). */
  round?: McpRound;
  /** Present for an MCP caller: an upstream's log messages during the call go to it (filtered by the caller's level). */
  clientLog?: ClientLogger;
}

/** Sends one `notifications/message` to the hub's MCP caller, which filters it by the level the caller chose. */
export type ClientLogger = (message: { level: string; logger?: string; data: unknown }) => void;

/**
 * What a 2026-07-28 upstream is told of the hub's caller on each request: the caller's client capabilities and log
 * level (the per-request `_meta` envelope entries), and, on a retried multi-round-trip call, the caller's
 * `inputResponses` and the upstream's own `requestState` (unwrapped from the hub's signed state).
 */
export interface McpRound {
  meta: Record<string, unknown>;
  inputResponses?: Record<string, unknown>;
  requestState?: string;
}

/** A request an upstream sends its client during a tool call, relayed to the hub's client of that call. */
export type ClientRequestMethod = 'elicitation/create' | 'sampling/createMessage';
export type ClientAsker = (method: ClientRequestMethod, params: Record<string, unknown>, signal: AbortSignal) => Promise<Record<string, unknown>>;

export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/**
 * The one shape an adapter writes per tool. MCP, REST, OpenAPI, governance, audit and metrics all read it.
 * `input` is a zod object; its JSON Schema is generated once at start.
 */
export interface ToolDefinition<I extends z.ZodObject = z.ZodObject> {
  name: string;
  system: SystemId;
  title: string;
  /** ≤ 300 characters (GPT Actions limit); level and quota are appended by the registry. */
  description: string;
  level: Level;
  input: I;
  /** Fixed-shape result: published as outputSchema. */
  output?: z.ZodObject;
  annotations: ToolAnnotations;
  /**
   * The preview a call with `dry_run: true` returns (the input schema must declare `dry_run` as an optional boolean).
   * The pipeline answers dry runs itself for any tool that has this or describeAction: no quota, audited with
   * `dry_run: true`, run() never sees them. Without it, a describeAction tool previews with that line.
   */
  preview?: (args: z.infer<I>, config: Config) => Record<string, unknown>;
  /**
   * The tool answers work that outlasts the call with `{status: "running", operation}` (tools/operations.ts
   * runOperation) and declares an optional string `operation` argument. A call with `operation` is answered by the
   * pipeline from the operation store: it starts no work and uses no quota; run() never sees it.
   */
  longRunning?: boolean;
  /**
   * Present on CRITICAL deploy/delete/remove tools: the tool takes `dry_run` and `confirm` (the input schema must declare
   * both as optional booleans). Returns a one-line description of what the call would do.
   */
  describeAction?: (args: z.infer<I>, config: Config) => string;
  /**
   * Upstream (federated) tools only: the upstream's own JSON Schema, published as is and checked with Ajv instead of
   * `input` (which is then an empty loose object).
   */
  inputJsonSchema?: Record<string, unknown>;
  /** Upstream tools only: the upstream's outputSchema, published as is. */
  outputJsonSchema?: Record<string, unknown>;
  /** `run` returns an MCP CallToolResult (an upstream's answer) that the surfaces pass through unchanged. */
  passthrough?: boolean;
  /**
   * Entries of the MCP tool descriptor's `_meta` the tool passes on to clients: an upstream tool's MCP App
   * (`ui`, `ui/resourceUri`, `openai/*`), its resource URIs already rewritten to the hub's.
   */
  mcpMeta?: Record<string, unknown>;
  /** false: an app-only tool (MCP Apps `visibility` without "model"), callable but left out of the model's tools/list. */
  forModel?: boolean;
  /** Returns a JSON object (becomes structuredContent). Throw HubError for failures. */
  run(args: z.infer<I>, ctx: ToolContext): Promise<Record<string, unknown>>;
}

export type ConnectionStatus =
  | { state: 'connected'; detail?: string }
  | { state: 'needs'; variable: string }
  | { state: 'failed'; reason: string };

export interface SystemDefinition {
  id: SystemId;
  /** Human name, e.g. "Google Cloud Run". */
  title: string;
  tools: ToolDefinition[];
  /**
   * Null when the system has a credential source / endpoint; otherwise the variable to set (e.g. "GITHUB_TOKEN",
   * "GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON"). Cheap and synchronous: runs on every call.
   */
  missingConfig(config: Config): string | null;
  /** Tools from an upstream MCP server: a name clash skips the tool (built-in names win) instead of failing start. */
  federated?: boolean;
  /** A cheap, side-effect-free live probe; only called when missingConfig() is null. Must honour `signal`. */
  check(config: Config, services: ToolServices, signal: AbortSignal): Promise<ConnectionStatus>;
}

/** Identity helper so each tool literal keeps its own input type while being stored as ToolDefinition. */
export function defineTool<I extends z.ZodObject>(def: ToolDefinition<I>): ToolDefinition {
  return def as unknown as ToolDefinition;
}
