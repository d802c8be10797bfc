import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { HubError } from '../tools/errors.js';
import type { InvokePipeline } from '../tools/pipeline.js';
import type { ToolRegistry } from '../tools/registry.js';
import { getPrompt, PROMPTS } from './prompts.js';
import { toCallToolResult, toMcpTool } from './results.js';
import { loadSdk } from './sdk.js';

export const SERVER_INFO = { name: 'omni-hub', title: 'Omni Hub', version: '0.1.0' };

const INSTRUCTIONS =
  'Omni Hub runs governed tools against Google Cloud Run, Workspace, AI/ML, Maps, Docker, GitHub, an Intelligence store and ChatGPT Auto Builder. ' +
  'Every tool has an hourly quota by governance level (stated in its description). CRITICAL deploy/delete/remove tools need confirm: true; call them with dry_run: true first to preview.';

/** What both MCP paths share, computed once at start. */
export class McpSurface {
  readonly toolsList: ListToolsResult;

  constructor(
    readonly registry: ToolRegistry,
    readonly pipeline: InvokePipeline,
  ) {
    this.toolsList = { tools: registry.list().map(toMcpTool) };
  }

  /** Unknown tools are a JSON-RPC error (-32602) naming the tool, as the MCP spec asks; the call is still audited. */
  async callTool(name: string, args: unknown, principal: string) {
    const result = await this.pipeline.invoke(name, args, { principal, transport: 'mcp' });
    if (!result.ok && result.error.code === 'unknown_tool') {
      const { McpError, ErrorCode } = (await loadSdk()).types;
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    return toCallToolResult(result);
  }

  /** A protocol Server for one session (stateful) or one request (stateless SDK path). Cheap: handlers only. */
  async createServer(): Promise<Server> {
    const { Server, types } = await loadSdk();
    const { CallToolRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, ListToolsRequestSchema, McpError } = types;
    const server = new Server(SERVER_INFO, {
      capabilities: { tools: { listChanged: false }, prompts: { listChanged: false }, logging: {} },
      instructions: INSTRUCTIONS,
    });
    server.setRequestHandler(ListToolsRequestSchema, () => this.toolsList);
    server.setRequestHandler(CallToolRequestSchema, (req, extra) =>
      this.callTool(req.params.name, req.params.arguments ?? {}, extra.authInfo?.clientId ?? 'anonymous'),
    );
    server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: PROMPTS }));
    server.setRequestHandler(GetPromptRequestSchema, (req) => {
      try {
        return getPrompt(req.params.name, req.params.arguments ?? {});
      } catch (err) {
        if (err instanceof HubError) throw new McpError(ErrorCode.InvalidParams, err.message);
        throw err;
      }
    });
    return server;
  }
}
