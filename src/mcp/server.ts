import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { traceContextOf } from '../telemetry/tracing.js';
import { HubError } from '../tools/errors.js';
import type { CallOrigin, InvokePipeline, InvokeResult } from '../tools/pipeline.js';
import { maxLevel } from '../oauth/scopes.js';
import { callerView, exposedName, visibleTools } from '../tools/catalog.js';
import type { RegisteredTool, ToolRegistry } from '../tools/registry.js';
import { getPrompt, PROMPTS } from './prompts.js';
import { toCallToolResult, toMcpTool } from './results.js';
import { loadSdk } from './sdk.js';

export const SERVER_INFO = { name: 'omni-hub', title: 'Omni Hub', version: '0.1.0' };

const INSTRUCTIONS =
  'Omni Hub runs governed tools against Google Cloud Run, Workspace, AI/ML, Maps, Docker, GitHub, an Intelligence store and ChatGPT Auto Builder. ' +
  'Every tool has an hourly quota by governance level (stated in its description). CRITICAL deploy/delete/remove tools need confirm: true; call them with dry_run: true first to preview.';

/** What both MCP paths share, computed once at start (and again only when an upstream's tool list changes). */
export class McpSurface {
  toolsList: ListToolsResult;
  /** MCP lists of the narrowed views, by the (cached) tool array they were made from. */
  private readonly viewLists = new WeakMap<readonly RegisteredTool[], ListToolsResult>();
  /** Live protocol servers, told about tool list changes. */
  private readonly servers = new Set<Server>();

  constructor(
    readonly registry: ToolRegistry,
    readonly pipeline: InvokePipeline,
  ) {
    this.toolsList = { tools: registry.list().map(toMcpTool) };
    registry.onChange(() => {
      this.toolsList = { tools: registry.list().map(toMcpTool) };
      // Sessions without an open stream (or stateless requests) cannot take a notification: that is not an error.
      for (const server of this.servers) void server.sendToolListChanged().catch(() => undefined);
    });
  }

  /**
   * `tools/list` for one caller: the whole catalog, or the view its key's profile and its OAuth token's level scope
   * give it (src/tools/catalog.ts, the same function REST and OpenAPI use). Each view's list is built once per catalog.
   */
  toolsListFor(principal: string, scopes: readonly string[] = []): ListToolsResult {
    const view = callerView(this.pipeline.config, { principal, maxLevel: maxLevel(scopes) });
    if (!view.profile && !view.maxLevel) return this.toolsList;
    const tools = visibleTools(this.registry, this.pipeline.config, view);
    let list = this.viewLists.get(tools);
    if (!list) {
      list = { tools: tools.map((t) => ({ ...toMcpTool(t), name: exposedName(t, view) })) };
      this.viewLists.set(tools, list);
    }
    return list;
  }

  /** Unknown tools are a JSON-RPC error (-32602) naming the tool, as the MCP spec asks; the call is still audited. */
  async invoke(name: string, args: unknown, principal: string, call: Pick<CallOrigin, 'signal' | 'onProgress' | 'traceContext'> = {}): Promise<InvokeResult> {
    const result = await this.pipeline.invoke(name, args, { principal, transport: 'mcp', signal: call.signal, onProgress: call.onProgress, traceContext: call.traceContext });
    if (!result.ok && result.error.code === 'unknown_tool') {
      const { McpError, ErrorCode } = (await loadSdk()).types;
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    return result;
  }

  async callTool(name: string, args: unknown, principal: string, call: Pick<CallOrigin, 'signal' | 'onProgress' | 'traceContext'> = {}) {
    return toCallToolResult(await this.invoke(name, args, principal, call));
  }

  /** A protocol Server for one session (stateful) or one request (stateless SDK path). Cheap: handlers only. */
  async createServer(): Promise<Server> {
    const { Server, types } = await loadSdk();
    const { CallToolRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, ListToolsRequestSchema, McpError } = types;
    const server = new Server(SERVER_INFO, {
      capabilities: { tools: { listChanged: this.registry.federated }, prompts: { listChanged: false }, logging: {} },
      instructions: INSTRUCTIONS,
    });
    server.setRequestHandler(ListToolsRequestSchema, (_req, extra) => this.toolsListFor(extra.authInfo?.clientId ?? 'anonymous', extra.authInfo?.scopes));
    server.setRequestHandler(CallToolRequestSchema, (req, extra) => {
      // A client's notifications/cancelled aborts extra.signal; its progressToken gets our progress notifications.
      const token = req.params._meta?.progressToken;
      // Progress belongs to the open request: a long operation that goes on in the background after answering
      // `{"status": "running"}` stays quiet.
      let open = true;
      const onProgress: CallOrigin['onProgress'] =
        token === undefined
          ? undefined
          : (p) => {
              if (open) void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...p } }).catch(() => undefined);
            };
      return this.callTool(req.params.name, req.params.arguments ?? {}, extra.authInfo?.clientId ?? 'anonymous', { signal: extra.signal, onProgress, traceContext: traceContextOf(req.params._meta) }).finally(() => {
        open = false;
      });
    });
    server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: PROMPTS }));
    server.setRequestHandler(GetPromptRequestSchema, (req) => {
      try {
        return getPrompt(req.params.name, req.params.arguments ?? {});
      } catch (err) {
        if (err instanceof HubError) throw new McpError(ErrorCode.InvalidParams, err.message);
        throw err;
      }
    });
    if (this.registry.federated) {
      this.servers.add(server);
      server.onclose = () => this.servers.delete(server);
    }
    return server;
  }
}
