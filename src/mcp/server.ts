import type { CacheHint, CreateMessageRequest, ElicitRequestFormParams, ListToolsResult, LoggingLevel, Server } from '@modelcontextprotocol/server';
import { traceContextOf } from '../telemetry/tracing.js';
import { HubError } from '../tools/errors.js';
import type { CallOrigin, InvokePipeline, InvokeResult } from '../tools/pipeline.js';
import { maxLevel } from '../oauth/scopes.js';
import { callerView, catalogName, exposedName, visibleTools } from '../tools/catalog.js';
import type { RegisteredTool, ToolRegistry } from '../tools/registry.js';
import { APPROVAL_INPUT, approvalStateCodec, clientElicits, ElicitationAsker } from './elicitation.js';
import type { FederatedContent } from './federated-content.js';
import { getPrompt, PROMPTS } from './prompts.js';
import { profileOf } from './route-profile.js';
import { toCallToolResult, toMcpTool } from './results.js';
import { asksForInput, callerRound, relayedInputRequired, relayedProtocolError } from './upstream-rounds.js';
import { isModernRequest, loadSdk } from './sdk.js';
import { clientSupportsTasks, runsAsTask, statusNotification, TaskRunner, TASKS_EXTENSION } from './tasks.js';
import type { OperationStore } from '../tools/operations.js';
import type { FastifyBaseLogger } from 'fastify';

/** Cache lifetimes a 2026-07-28 client is told for the hub's lists (ms). */
const LIST_TTL_MS = 300_000;
const FEDERATED_LIST_TTL_MS = 30_000;

export const SERVER_INFO = { name: 'omni-hub', title: 'Omni Hub', version: '0.1.0' };

const INSTRUCTIONS =
  'Omni Hub runs governed tools against Google Cloud Run, Workspace, AI/ML, Maps, Docker, GitHub, an Intelligence store and ChatGPT Auto Builder. ' +
  'Every tool has an hourly quota by governance level (stated in its description). CRITICAL deploy/delete/remove tools need a person\'s approval of the exact call: the user is asked in the client when it supports elicitation, otherwise the answer is approval_required with an approval URL for the user, and the same call is made again with its approval_id. Preview them with dry_run: true first.';

/** App-only tools (MCP Apps) are called by their app through the client, never offered to the model. */
const forModel = (t: RegisteredTool) => t.def.forModel !== false;

/** What both MCP paths share, computed once at start (and again only when an upstream's tool list changes). */
export class McpSurface {
  toolsList: ListToolsResult;
  /** MCP lists of the narrowed views, by the (cached) tool array they were made from. */
  private readonly viewLists = new WeakMap<readonly RegisteredTool[], ListToolsResult>();
  /** Live protocol servers of legacy sessions, told about tool list changes. */
  private readonly servers = new Set<Server>();
  /** Told when the tool, prompt or resource list changes (the 2026-07-28 `subscriptions/listen` streams). */
  private readonly changeListeners = new Set<(kind: 'tools' | 'prompts' | 'resources') => void>();
  /** Signs and verifies the approval question's requestState (made with the SDK, once it is loaded). */
  private approvalCodec?: ReturnType<typeof approvalStateCodec>;
  /** MCP Tasks for long tools (offered when the hub was given its operation store). */
  private readonly tasks?: TaskRunner;

  constructor(
    readonly registry: ToolRegistry,
    readonly pipeline: InvokePipeline,
    /** The upstreams' resources, templates and prompts, when upstreams are configured. */
    private readonly content?: FederatedContent,
    operations?: OperationStore,
    log?: FastifyBaseLogger,
  ) {
    if (operations && log) this.tasks = new TaskRunner(operations, (n, a, p, c) => this.invoke(n, a, p, c), toCallToolResult, log);
    this.toolsList = { tools: registry.list().filter(forModel).map(toMcpTool) };
    registry.onChange(() => {
      this.toolsList = { tools: registry.list().filter(forModel).map(toMcpTool) };
      // Sessions without an open stream (or stateless requests) cannot take a notification: that is not an error.
      for (const server of this.servers) void server.sendToolListChanged().catch(() => undefined);
      for (const listener of this.changeListeners) listener('tools');
    });
  }

  /**
   * `tools/list` for one caller: the whole catalog, or the view its key's profile and its OAuth token's level scope
   * give it (src/tools/catalog.ts, the same function REST and OpenAPI use). Each view's list is built once per catalog.
   */
  toolsListFor(principal: string, scopes: readonly string[] = [], profile?: string): ListToolsResult {
    const view = callerView(this.pipeline.config, { principal, maxLevel: maxLevel(scopes), ...(profile !== undefined ? { profile } : {}) });
    if (!view.profile && !view.maxLevel) return this.toolsList;
    const tools = visibleTools(this.registry, this.pipeline.config, view);
    let list = this.viewLists.get(tools);
    if (!list) {
      list = { tools: tools.filter(forModel).map((t) => ({ ...toMcpTool(t), name: exposedName(t, view) })) };
      this.viewLists.set(tools, list);
    }
    return list;
  }

  /** An upstream's resource or prompt list changed: the legacy sessions and the listen streams are told, as for tools. */
  contentChanged(kind: 'resources' | 'prompts'): void {
    for (const listener of this.changeListeners) listener(kind);
    for (const server of this.servers) {
      void (kind === 'resources' ? server.sendResourceListChanged() : server.sendPromptListChanged()).catch(() => undefined);
    }
  }

  /** Calls `listener` whenever a served list changes (a federated upstream's tools, prompts or resources). */
  onListChanged(listener: (kind: 'tools' | 'prompts' | 'resources') => void): void {
    this.changeListeners.add(listener);
  }

  /** Unknown tools are a JSON-RPC error (-32602) naming the tool, as the MCP spec asks; the call is still audited. */
  async invoke(name: string, args: unknown, principal: string, call: Omit<CallOrigin, 'principal' | 'transport'> = {}): Promise<InvokeResult> {
    const result = await this.pipeline.invoke(name, args, { ...call, principal, transport: 'mcp' });
    if (!result.ok && result.error.code === 'unknown_tool') {
      const { ProtocolError, ProtocolErrorCode } = (await loadSdk()).server;
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    return result;
  }

  async callTool(name: string, args: unknown, principal: string, call: Omit<CallOrigin, 'principal' | 'transport'> = {}) {
    return toCallToolResult(await this.invoke(name, args, principal, call));
  }

  /**
   * How long a 2026-07-28 client may reuse `tools/list` and `prompts/list`. The tool list depends on the caller (a key's
   * profile, an OAuth token's level scope), so only the caller may keep it (`private`); the prompts and the empty
   * resource lists are the same for everyone. A federated hub's tool list changes with its upstreams, so it is cached
   * briefly and `subscriptions/listen` announces changes.
   */
  private cacheHints(): Partial<Record<'tools/list' | 'prompts/list' | 'resources/list' | 'resources/templates/list', CacheHint>> {
    // With upstreams the resource and prompt lists are theirs too: per caller (its view) and changing with them.
    const fixed: CacheHint = this.content ? { ttlMs: FEDERATED_LIST_TTL_MS, cacheScope: 'private' } : { ttlMs: LIST_TTL_MS, cacheScope: 'public' };
    return {
      'tools/list': { ttlMs: this.registry.federated ? FEDERATED_LIST_TTL_MS : LIST_TTL_MS, cacheScope: 'private' },
      'prompts/list': fixed,
      'resources/list': fixed,
      'resources/templates/list': fixed,
    };
  }

  /**
   * A protocol Server for one legacy session, or for one request (2026-07-28, or 2025 stateless). Cheap: handlers
   * only. The SDK serves both eras from it; tool calls all go through the one invoke pipeline.
   */
  async createServer(session = false): Promise<Server> {
    const sdk = (await loadSdk()).server;
    const { Server, ProtocolError, ProtocolErrorCode, ResourceNotFoundError } = sdk;
    const codec = (this.approvalCodec ??= approvalStateCodec(sdk, this.pipeline.config.apiKeys, this.pipeline.config.governance.approvalTtlMs));
    const server = new Server(SERVER_INFO, {
      capabilities: {
        tools: { listChanged: this.registry.federated },
        prompts: { listChanged: !!this.content },
        resources: { listChanged: !!this.content },
        logging: {},
        // Completion of a federated prompt's or template's arguments is the upstream's (src/mcp/federated-content.ts).
        ...(this.content ? { completions: {} } : {}),
        ...(this.tasks ? { extensions: { [TASKS_EXTENSION]: {} } } : {}),
      },
      instructions: INSTRUCTIONS,
      cacheHints: this.cacheHints(),
      // The approval question's state comes back through the client: only state this hub signed for this caller is read.
      requestState: { verify: (state, ctx) => codec.verify(state, ctx) },
    });
    server.setRequestHandler('tools/list', (_req, ctx) => this.toolsListFor(ctx.http?.authInfo?.clientId ?? 'anonymous', ctx.http?.authInfo?.scopes, profileOf(ctx.http?.authInfo)));
    server.setRequestHandler('tools/call', async (req, ctx) => {
      // A client's cancellation aborts ctx.mcpReq.signal; its progressToken gets our progress notifications.
      const token = req.params._meta?.progressToken;
      // Progress belongs to the open request: a long operation that goes on in the background after answering
      // `{"status": "running"}` stays quiet.
      let open = true;
      const onProgress: CallOrigin['onProgress'] =
        token === undefined
          ? undefined
          : (p) => {
              if (open) void ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, ...p } }).catch(() => undefined);
            };
      const principal = ctx.http?.authInfo?.clientId ?? 'anonymous';
      const profile = profileOf(ctx.http?.authInfo);
      // A gated call from a client that can elicit asks the person in the client; any other gets the approval page.
      const asker =
        this.pipeline.asksPerson(req.params.name, { principal, transport: 'mcp', ...(profile !== undefined ? { profile } : {}) }) &&
        clientElicits(sdk, ctx, () => server.getClientCapabilities())
          ? new ElicitationAsker(this.pipeline.approvals, this.pipeline.config.governance.approvalTtlMs, {
              state: ctx.mcpReq.requestState<{ approval_id: string }>(),
              response: ctx.mcpReq.inputResponses?.[APPROVAL_INPUT],
            })
          : undefined;
      const modern = isModernRequest(sdk, ctx);
      // A 2025 upstream's elicitation or sampling request during the call goes to this client through the session (2025);
      // a 2026-07-28 client has no server-to-client requests, so the upstream is told why it cannot have an answer.
      const askClient: CallOrigin['askClient'] = modern
        ? (method) =>
            Promise.reject(
              new Error(`${method} cannot be relayed: the hub's client speaks MCP 2026-07-28, which has no server-to-client requests, and this upstream speaks 2025 (configure it with "protocol": "2026-07-28" if it supports that revision)`),
            )
        : (method, params, signal) =>
            (method === 'elicitation/create'
              ? ctx.mcpReq.elicitInput(params as ElicitRequestFormParams, { signal })
              : ctx.mcpReq.requestSampling(params as CreateMessageRequest['params'], { signal })) as Promise<Record<string, unknown>>;
      // A federated tool's upstream hears of this caller as it is (capabilities, log level, answers to its questions).
      // (By its catalog name: a transparent profile shows the upstream's own names; the state binds the upstream too.)
      const catalog = this.registry.federated
        ? catalogName(req.params.name, callerView(this.pipeline.config, { principal, maxLevel: maxLevel(ctx.http?.authInfo?.scopes ?? []), ...(profile !== undefined ? { profile } : {}) }))
        : req.params.name;
      const passthrough = this.registry.get(catalog)?.def.passthrough === true;
      const round = passthrough ? callerRound(sdk, ctx, catalog, () => server.getClientCapabilities()) : undefined;
      const call: Omit<CallOrigin, 'principal' | 'transport'> = {
        signal: ctx.mcpReq.signal,
        onProgress,
        askClient,
        ...(round
          ? {
              round,
              // The SDK's log drops what is below the caller's level (its session's, or its 2026-07-28 request's: none if unset).
              onLog: (m: { level: string; logger?: string; data: unknown }) => {
                if (open) void ctx.mcpReq.log(m.level as LoggingLevel, m.data, m.logger).catch(() => undefined);
              },
            }
          : {}),
        traceContext: traceContextOf(req.params._meta),
        askPerson: asker,
        baseUrl: () => originOf(ctx.http?.req?.url),
        ...(profile !== undefined ? { profile } : {}),
      };
      // A long call from a client that declared Tasks (and is not being asked for approval) answers a task at once.
      if (
        this.tasks &&
        !asker &&
        runsAsTask(this.registry, req.params.name) &&
        clientSupportsTasks(sdk, ctx, () => server.getClientCapabilities() as { extensions?: Record<string, unknown> } | undefined)
      ) {
        // The task outlives this request: nothing of the request (its signal, progress, the client's session asks) goes along.
        const { signal: _request, onProgress: _progress, askClient: _ask, onLog: _log, round: _round, ...background } = call;
        // Only a 2025 session's server outlives this request and can tell the client when the task ends. The SDK's typed
        // notifications leave out the task vocabulary (no runtime for it): the wire shape is the extension's.
        const notify = session
          ? (record: Parameters<typeof statusNotification>[0]) => void server.notification(statusNotification(record) as never).catch(() => undefined)
          : undefined;
        // The SDK types tools/call's answer as CallToolResult; the extension's CreateTaskResult is the other answer it allows.
        return (await this.tasks.start(req.params.name, req.params.arguments ?? {}, principal, background, notify)) as never;
      }
      try {
        const result = await this.invoke(req.params.name, req.params.arguments ?? {}, principal, call);
        if (asker?.question) return await asker.inputRequired(sdk, codec, ctx);
        if (passthrough && result.ok && asksForInput(result.data)) return await relayedInputRequired(sdk, codec, ctx, catalog, result.data);
        const refused = passthrough && !result.ok ? relayedProtocolError(sdk, result.error) : undefined;
        if (refused) throw refused;
        return toCallToolResult(result);
      } finally {
        open = false;
      }
    });
    this.tasks?.register(sdk, server);
    server.setRequestHandler('prompts/list', () => ({ prompts: PROMPTS }));
    // The hub serves tools and prompts, no resources: clients that list resources learn so from empty (cacheable) lists,
    // and a read names the unknown URI (-32602, as the spec asks) instead of failing as an unknown method.
    server.setRequestHandler('resources/list', () => ({ resources: [] }));
    server.setRequestHandler('resources/templates/list', () => ({ resourceTemplates: [] }));
    server.setRequestHandler('resources/read', (req) => {
      throw new ResourceNotFoundError(req.params.uri);
    });
    server.setRequestHandler('prompts/get', (req) => {
      try {
        return getPrompt(req.params.name, req.params.arguments ?? {});
      } catch (err) {
        if (err instanceof HubError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
        throw err;
      }
    });
    await this.content?.register(server, codec);
    // Only a session's server can be told later: a per-request one is gone once its answer is sent.
    if (session && this.registry.federated) {
      this.servers.add(server);
      server.onclose = () => this.servers.delete(server);
    }
    return server;
  }
}

/** The origin of the request's URL (for absolute approval links when PUBLIC_URL is not set). */
function originOf(url: string | undefined): string {
  if (!url) return '';
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
