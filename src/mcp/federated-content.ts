import type { RequestStateCodec, Server, ServerContext } from '@modelcontextprotocol/server';
import type { Level } from '../governance/levels.js';
import { maxLevel } from '../oauth/scopes.js';
import { callerView, levelInView, upstreamInView, type CatalogView } from '../tools/catalog.js';
import type { HubError } from '../tools/errors.js';
import type { InvokePipeline, InvokeResult } from '../tools/pipeline.js';
import { UpstreamContent, type ContentOptions } from '../upstreams/content.js';
import { parseHubUri } from '../upstreams/hub-uri.js';
import type { Upstreams } from '../upstreams/index.js';
import { getPrompt, PROMPTS } from './prompts.js';
import { loadSdk } from './sdk.js';
import { profileOf } from './route-profile.js';
import type { HubRequestState } from './elicitation.js';
import { asksForInput, callerRound, relayedInputRequired } from './upstream-rounds.js';

const strip = (value: string, prefix: string) => (value.startsWith(prefix) ? value.slice(prefix.length) : value);

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
    const profile = profileOf(ctx.http?.authInfo);
    return { principal, view: callerView(this.config, { principal, maxLevel: maxLevel(ctx.http?.authInfo?.scopes ?? []), ...(profile !== undefined ? { profile } : {}) }) };
  }

  private options(ctx: ServerContext): ContentOptions & { principal: string; transparent?: string } {
    const { principal, view } = this.view(ctx);
    const visible = (upstream: string) => upstreamInView(upstream, view) && levelInView(this.levelOf(upstream), view);
    // A `prefix: false` profile fronts its one upstream transparently: its URIs and prompt names as the upstream has them.
    const transparent = view.profile?.prefix === false ? view.profile.upstreams![0] : undefined;
    const hubUrl = this.hubUrl(ctx);
    return { principal, signal: ctx.mcpReq.signal, visible, ...(transparent ? { transparent } : {}), ...(hubUrl ? { hubUrl } : {}) };
  }

  /**
   * The MCP URL this client connected to, as it configured it: PUBLIC_URL (the address clients use behind a proxy)
   * with the request's path and query, else the request's own URL. App domains are derived from it. A legacy SSE
   * client configured `/sse`; its messages arrive at `/messages?sessionId=…`.
   */
  private hubUrl(ctx: ServerContext): string | undefined {
    const raw = ctx.http?.req?.url;
    if (!raw) return undefined;
    const url = new URL(raw);
    const base = this.config.publicUrl ?? url.origin;
    return url.pathname === '/messages' ? `${base}/sse` : `${base}${url.pathname}${url.search}`;
  }

  /**
   * Replaces the server's resource and prompt handlers with ones that serve the upstreams' as well. `codec` wraps a
   * 2026-07-28 upstream's requestState when a read or get answers input_required (src/mcp/upstream-rounds.ts).
   */
  async register(server: Server, codec: RequestStateCodec<HubRequestState>): Promise<void> {
    const sdk = (await loadSdk()).server;
    const { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } = sdk;
    const refusal = (error: HubError, notFound: () => Error): Error => {
      const upstreamCode = error.details?.upstream_code;
      if (error.code === 'not_found' || (typeof upstreamCode === 'number' && NOT_FOUND_CODES.has(upstreamCode))) return notFound();
      return new ProtocolError(ProtocolErrorCode.InternalError, error.message, { code: error.code, ...error.details });
    };
    const answer = <T>(result: InvokeResult, notFound: () => Error): T => {
      if (!result.ok) throw refusal(result.error, notFound);
      return result.data as T;
    };

    server.setRequestHandler('resources/list', async (_req, ctx) => {
      const options = this.options(ctx);
      const resources = await this.content.listResources(options);
      return { resources: options.transparent ? resources.map((r) => ({ ...r, uri: strip(r.uri, `${options.transparent}+`), name: strip(r.name, `${options.transparent}_`) })) : resources };
    });
    server.setRequestHandler('resources/templates/list', async (_req, ctx) => {
      const options = this.options(ctx);
      const templates = await this.content.listResourceTemplates(options);
      const t = options.transparent;
      return { resourceTemplates: t ? templates.map((r) => ({ ...r, uriTemplate: strip(r.uriTemplate, `${t}+`), name: strip(r.name, `${t}_`) })) : templates };
    });
    server.setRequestHandler('resources/read', async (req, ctx) => {
      const options = this.options(ctx);
      const asked = req.params.uri;
      const uri = options.transparent ? `${options.transparent}+${asked}` : asked;
      const target = parseHubUri(uri);
      if (!target || !options.visible!(target.upstream)) throw new ResourceNotFoundError(asked);
      const subject = { name: `${target.upstream}_resources_read`, level: this.levelOf(target.upstream), system: target.upstream };
      const round = callerRound(sdk, ctx, uri, () => server.getClientCapabilities());
      const result = await this.pipeline.govern(subject, { uri }, { principal: options.principal, transport: 'mcp', signal: ctx.mcpReq.signal }, async (signal) => {
        const read = await this.content.readResource(uri, { ...options, signal, round });
        if (asksForInput(read)) return { ...read };
        const t = options.transparent;
        return t ? { ...read, contents: read.contents.map((c) => ({ ...c, uri: strip(c.uri, `${t}+`) })) } : { ...read };
      });
      if (result.ok && asksForInput(result.data)) return relayedInputRequired(sdk, codec, ctx, uri, result.data);
      return answer(result, () => new ResourceNotFoundError(asked));
    });
    server.setRequestHandler('prompts/list', async (_req, ctx) => {
      const options = this.options(ctx);
      const prompts = await this.content.listPrompts(options);
      const t = options.transparent;
      // A transparent front shows only its upstream's prompts, under their own names.
      return { prompts: t ? prompts.map((p) => ({ ...p, name: strip(p.name, `${t}_`) })) : [...PROMPTS, ...prompts] };
    });
    server.setRequestHandler('prompts/get', async (req, ctx) => {
      const options = this.options(ctx);
      const asked = req.params.name;
      const name = options.transparent ? `${options.transparent}_${asked}` : asked;
      const args = req.params.arguments ?? {};
      const notFound = () => new ProtocolError(ProtocolErrorCode.InvalidParams, `unknown prompt: ${asked.slice(0, 200)}`);
      if (!options.transparent && PROMPTS.some((p) => p.name === name)) {
        try {
          return getPrompt(name, args);
        } catch (err) {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, err instanceof Error ? err.message : String(err));
        }
      }
      const upstream = name.slice(0, Math.max(0, name.indexOf('_')));
      if (!upstream || !options.visible!(upstream)) throw notFound();
      const subject = { name: `${upstream}_prompts_get`, level: this.levelOf(upstream), system: upstream };
      const round = callerRound(sdk, ctx, name, () => server.getClientCapabilities());
      const result = await this.pipeline.govern(subject, { name, arguments: args }, { principal: options.principal, transport: 'mcp', signal: ctx.mcpReq.signal }, async (signal) => {
        return { ...(await this.content.getPrompt(name, args, { ...options, signal, round })) };
      });
      if (result.ok && asksForInput(result.data)) return relayedInputRequired(sdk, codec, ctx, name, result.data);
      return answer(result, notFound);
    });
    // Completion of an upstream prompt's or template's argument, governed and audited like a get of that prompt.
    server.setRequestHandler('completion/complete', async (req, ctx) => {
      const options = this.options(ctx);
      const t = options.transparent;
      const { ref } = req.params;
      const hubRef = !t ? ref : ref.type === 'ref/prompt' ? { ...ref, name: `${t}_${ref.name}` } : { ...ref, uri: `${t}+${ref.uri}` };
      const upstream = hubRef.type === 'ref/prompt' ? hubRef.name.slice(0, Math.max(0, hubRef.name.indexOf('_'))) : (parseHubUri(hubRef.uri)?.upstream ?? '');
      const notFound = () => new ProtocolError(ProtocolErrorCode.InvalidParams, `nothing to complete for ${JSON.stringify(ref).slice(0, 200)}`);
      if (!upstream || !options.visible!(upstream)) throw notFound();
      const subject = { name: `${upstream}_completion_complete`, level: this.levelOf(upstream), system: upstream };
      const params = { ...req.params, ref: hubRef };
      const result = await this.pipeline.govern(subject, params, { principal: options.principal, transport: 'mcp', signal: ctx.mcpReq.signal }, async (signal) => {
        return { ...(await this.content.complete(params, { ...options, signal })) };
      });
      return answer(result, notFound);
    });
  }
}
