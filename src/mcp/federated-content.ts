import type { Server, ServerContext } from '@modelcontextprotocol/server';
import type { Level } from '../config.js';
import { maxLevel } from '../oauth/scopes.js';
import { callerView, levelInView, upstreamInView, type CatalogView } from '../tools/catalog.js';
import type { HubError } from '../tools/errors.js';
import type { InvokePipeline, InvokeResult } from '../tools/pipeline.js';
import { parseHubUri, UpstreamContent, type ContentOptions } from '../upstreams/content.js';
import type { Upstreams } from '../upstreams/index.js';
import { getPrompt, PROMPTS } from './prompts.js';
import { loadSdk } from './sdk.js';

/** An upstream's `-32002` (resource not found, older servers) or `-32602` for an unknown URI or prompt. */
const NOT_FOUND_CODES = new Set([-32002, -32602]);

/**
 * The upstreams' resources, resource templates and prompts on the hub's MCP server (both eras): lists merged with
 * the hub's own prompts and filtered by the caller's view (a key's profile, a token's level), reads and gets routed to
 * their upstream through the invoke pipeline, so each is governed (quota, GOVERNANCE_OVERRIDES under the names
 * `<upstream>_resources_read` and `<upstream>_prompts_get`) and audited like a tool call of the upstream's
 * `resources_level` (LOW by default). A caller cannot read what its view hides: it is answered as not found.
 */
export class FederatedContent {
  private readonly content: UpstreamContent;

  constructor(
    upstreams: Upstreams,
    private readonly pipeline: InvokePipeline,
  ) {
    this.content = new UpstreamContent(upstreams.systems);
  }

  private get config() {
    return this.pipeline.config;
  }

  private levelOf(upstream: string): Level {
    return this.config.upstreams.find((u) => u.name === upstream)?.resources_level ?? 'LOW';
  }

  private view(ctx: ServerContext): { principal: string; view: CatalogView } {
    const principal = ctx.http?.authInfo?.clientId ?? 'anonymous';
    return { principal, view: callerView(this.config, { principal, maxLevel: maxLevel(ctx.http?.authInfo?.scopes ?? []) }) };
  }

  private options(ctx: ServerContext): ContentOptions & { principal: string } {
    const { principal, view } = this.view(ctx);
    return { principal, signal: ctx.mcpReq.signal, visible: (upstream) => upstreamInView(upstream, view) && levelInView(this.levelOf(upstream), view) };
  }

  /** Replaces the server's resource and prompt handlers with ones that serve the upstreams' as well. */
  async register(server: Server): Promise<void> {
    const { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } = (await loadSdk()).server;
    const refusal = (error: HubError, notFound: () => Error): Error => {
      const upstreamCode = error.details?.upstream_code;
      if (error.code === 'not_found' || (typeof upstreamCode === 'number' && NOT_FOUND_CODES.has(upstreamCode))) return notFound();
      return new ProtocolError(ProtocolErrorCode.InternalError, error.message, { code: error.code, ...error.details });
    };
    const answer = <T>(result: InvokeResult, notFound: () => Error): T => {
      if (!result.ok) throw refusal(result.error, notFound);
      return result.data as T;
    };

    server.setRequestHandler('resources/list', async (_req, ctx) => ({ resources: await this.content.listResources(this.options(ctx)) }));
    server.setRequestHandler('resources/templates/list', async (_req, ctx) => ({ resourceTemplates: await this.content.listResourceTemplates(this.options(ctx)) }));
    server.setRequestHandler('resources/read', async (req, ctx) => {
      const uri = req.params.uri;
      const target = parseHubUri(uri);
      const options = this.options(ctx);
      if (!target || !options.visible!(target.upstream)) throw new ResourceNotFoundError(uri);
      const subject = { name: `${target.upstream}_resources_read`, level: this.levelOf(target.upstream), system: target.upstream };
      const result = await this.pipeline.govern(subject, { uri }, { principal: options.principal, transport: 'mcp', signal: ctx.mcpReq.signal }, async (signal) => {
        return { ...(await this.content.readResource(uri, { ...options, signal })) };
      });
      return answer(result, () => new ResourceNotFoundError(uri));
    });
    server.setRequestHandler('prompts/list', async (_req, ctx) => ({ prompts: [...PROMPTS, ...(await this.content.listPrompts(this.options(ctx)))] }));
    server.setRequestHandler('prompts/get', async (req, ctx) => {
      const { name } = req.params;
      const args = req.params.arguments ?? {};
      const notFound = () => new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown prompt: ${name.slice(0, 200)}`);
      if (PROMPTS.some((p) => p.name === name)) {
        try {
          return getPrompt(name, args);
        } catch (err) {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, err instanceof Error ? err.message : String(err));
        }
      }
      const upstream = name.slice(0, Math.max(0, name.indexOf('_')));
      const options = this.options(ctx);
      if (!upstream || !options.visible!(upstream)) throw notFound();
      const subject = { name: `${upstream}_prompts_get`, level: this.levelOf(upstream), system: upstream };
      const result = await this.pipeline.govern(subject, { name, arguments: args }, { principal: options.principal, transport: 'mcp', signal: ctx.mcpReq.signal }, async (signal) => {
        return { ...(await this.content.getPrompt(name, args, { ...options, signal })) };
      });
      return answer(result, notFound);
    });
  }
}
