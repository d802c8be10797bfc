import type { IncomingMessage } from 'node:http';
import type { AuthInfo, McpHttpHandler, ServerEventBus } from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { mcpClassifyHook, mcpRoute } from '../http/mcp-request.js';
import { callerView } from '../tools/catalog.js';
import { toHubError } from '../tools/errors.js';
import type { Metrics } from '../metrics.js';
import type { McpEventStore } from './event-store.js';
import { tryFastPath, tryModernFastPath, type FastPathRequest } from './fast-path.js';
import { cancelledRequestOf, InFlightCalls } from './in-flight.js';
import { loadSdk, type SdkRuntime } from './sdk.js';
import type { McpSurface } from './server.js';
import type { McpSessionStore, SessionRecord } from './session-store.js';
import { SessionManager, type Lookup } from './sessions.js';

export interface McpRoutesOptions {
  config: Config;
  surface: McpSurface;
  /** The fast paths (2026-07-28, 2025 stateless and in-session); tests turn them off to compare with the SDK path. */
  fastPath: boolean;
  /** Keeps stateful streams' events so a client can resume with Last-Event-ID. */
  events: McpEventStore;
  /** Stateful session records: process memory, or Redis so any instance serves any session. */
  sessions: McpSessionStore;
  /** Where `subscriptions/listen` streams get their change events: Redis pub/sub with REDIS_URL, else this process. */
  bus?: ServerEventBus;
  metrics?: Metrics;
}

/** The profile of a `/mcp/p/<profile>` request, undefined on `/mcp`. */
const routeProfile = (request: FastifyRequest): string | undefined => (request.params as { profile?: string } | undefined)?.profile;

/**
 * The SDK reads the caller's identity from `req.auth`; we pass the key id, never the key. The profile of the route
 * travels with it (`extra.profile`, read by the server's handlers), so each request of a session gets its route's view.
 */
function withAuth(request: FastifyRequest): IncomingMessage & { auth: AuthInfo } {
  const raw = request.raw as IncomingMessage & { auth: AuthInfo };
  const profile = routeProfile(request);
  raw.auth = { token: '', clientId: request.principal ?? 'anonymous', scopes: request.oauth?.scopes ?? [], ...(profile !== undefined ? { extra: { profile } } : {}) };
  return raw;
}

/**
 * The SDK's own HTTP entry for 2026-07-28 requests, each answered by a fresh protocol Server from the surface. 2025-era
 * requests never reach it (the routes classify first and serve them with sessions, or statelessly with JSON answers
 * as before), so it runs in the SDK's strict posture.
 */
function modernHandler(sdk: SdkRuntime, opts: McpRoutesOptions, onerror: (err: Error) => void): { handler: McpHttpHandler; node: ReturnType<SdkRuntime['node']['toNodeHandler']> } {
  const handler = sdk.server.createMcpHandler(() => opts.surface.createServer(), {
    legacy: 'reject',
    ...(opts.bus ? { bus: opts.bus } : {}),
    maxRequestBodySize: opts.config.bodyLimit,
    onerror,
  });
  return { handler, node: sdk.node.toNodeHandler(handler, { onerror }) };
}

/** A session whose client nothing can be relayed to during a call: no elicitation, no sampling, no log level set. */
function cannotBeAsked(s: SessionRecord): boolean {
  const caps = s.clientCapabilities;
  return s.logLevel === undefined && caps?.elicitation === undefined && caps?.sampling === undefined;
}

function jsonRpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** MCP over Streamable HTTP (`/mcp`, stateful or stateless) and the legacy HTTP+SSE transport (`/sse`, `/messages`). */
export async function mcpRoutes(app: FastifyInstance, opts: McpRoutesOptions): Promise<void> {
  const { config, surface } = opts;
  const sessions = new SessionManager({
    store: opts.sessions,
    events: opts.events,
    surface,
    limits: config.sessions,
    log: app.log,
    onDegraded: (kind) => opts.metrics?.degradedSessions.inc({ kind }),
  });

  const sweep = setInterval(() => sessions.sweep(), Math.min(60_000, Math.max(250, Math.floor(config.sessions.idleMs / 4))));
  sweep.unref();
  // Load the SDK runtime in the background once listening: readiness does not wait for it, the first session rarely does.
  app.addHook('onListen', async () => {
    void loadSdk();
  });
  let entry: ReturnType<typeof modernHandler> | undefined;
  const onerror = (err: Error) => app.log.debug({ err: err.message }, 'MCP request refused by the SDK');
  const sdkEntry = async () => (entry ??= modernHandler(await loadSdk(), opts, onerror));
  // A changed list reaches every open `subscriptions/listen` stream through the bus (any instance's, with Redis).
  surface.onListChanged(
    (kind) =>
      void sdkEntry().then(({ handler: { notify } }) => (kind === 'tools' ? notify.toolsChanged() : kind === 'prompts' ? notify.promptsChanged() : notify.resourcesChanged())),
  );
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await Promise.allSettled([sessions.closeAll(), entry?.handler.close()]);
  });

  /**
   * A 2025-era request on a stateless hub: a fresh Server and a session-less SDK transport for this one request, with
   * a JSON answer as stateless 2025 clients of this hub always got (the SDK's own stateless fallback streams SSE).
   */
  const servedStateless = async (request: FastifyRequest, reply: FastifyReply) => {
    const sdk = await loadSdk();
    const server = await surface.createServer();
    const transport = new sdk.node.NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    reply.hijack();
    await transport.handleRequest(withAuth(request), reply.raw, request.body);
    return reply;
  };

  /** Hands a 2026-07-28 request to the SDK's entry (no session). */
  const served = async (request: FastifyRequest, reply: FastifyReply) => {
    const { node } = await sdkEntry();
    reply.hijack();
    await node(withAuth(request), reply.raw, request.body);
    return reply;
  };

  /** The session a request names, or the error it gets (already sent). */
  const lookup = async (request: FastifyRequest, reply: FastifyReply, id: string | undefined): Promise<Exclude<Lookup, 'unknown' | 'unavailable'> | null> => {
    if (!id) {
      jsonRpcError(reply, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return null;
    }
    const found = await sessions.find(id, request.principal);
    if (found === 'unavailable') {
      jsonRpcError(reply, 503, -32000, 'Session store unavailable; try again shortly');
      return null;
    }
    // A session belongs to the principal that opened it: another one gets the same answer as an unknown id.
    if (found === 'unknown') {
      jsonRpcError(reply, 404, -32001, 'Session not found');
      return null;
    }
    return found;
  };

  /** Upstream calls the session fast path runs (see InFlightCalls). */
  const upstreamCalls = new InFlightCalls();

  const tooMany = (reply: FastifyReply) => jsonRpcError(reply, 503, -32000, 'Too many open sessions; try again later');

  const sessionHeader = (request: FastifyRequest): string | undefined => {
    const h = request.headers['mcp-session-id'];
    return typeof h === 'string' ? h : undefined;
  };

  const isInitialize = (body: unknown): boolean =>
    !!body && typeof body === 'object' && !Array.isArray(body) && (body as { method?: unknown }).method === 'initialize';

  /**
   * Answers from the fast path when it can (then true): written raw so the headers match the SDK transport's JSON
   * response exactly (in a session, `headers` adds its id; no SSE stream, so no event-store write).
   */
  const answeredFast = async (
    request: FastifyRequest,
    reply: FastifyReply,
    headers: Record<string, string>,
    upstream: FastPathRequest['upstream'],
  ): Promise<boolean> => {
    // The fast paths serve the caller's own view; a profile's route goes through the SDK's handlers.
    if (routeProfile(request) !== undefined) return false;
    const answer = await tryFastPath(surface, {
      body: request.body,
      accept: request.headers.accept,
      protocolVersion: request.headers['mcp-protocol-version'],
      principal: request.principal,
      scopes: request.oauth?.scopes,
      upstream,
    });
    if (answer === null) return false;
    reply.hijack();
    // With its length known the answer leaves in one write, not as a chunked body.
    reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer), ...headers }).end(answer);
    return true;
  };

  /** A plain 2026-07-28 `tools/call` the classification accepted, answered like the SDK entry's JSON answer. */
  const answeredModernFast = async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (routeProfile(request) !== undefined) return false;
    const route = mcpRoute(request);
    // Only when the standard headers agree with the body: any other case is the SDK entry's to answer or refuse.
    if (route?.era !== 'modern' || 'rejected' in route || !route.headersAgree || route.method !== 'tools/call') return false;
    const answer = await tryModernFastPath(surface, { body: request.body, accept: request.headers.accept, principal: request.principal });
    if (answer === null) return false;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer);
    return true;
  };

  const post = async (request: FastifyRequest, reply: FastifyReply) => {
    const legacy = mcpRoute(request)?.era !== 'modern';
    if (!legacy) {
      if (opts.fastPath && (await answeredModernFast(request, reply))) return reply;
      return served(request, reply);
    }
    if (config.sessionMode === 'stateless') {
      // A stateless 2025 request has no session to ask the client anything through: upstream calls may go fast too.
      if (opts.fastPath && (await answeredFast(request, reply, {}, 'untracked'))) return reply;
      return servedStateless(request, reply);
    }

    const id = sessionHeader(request);
    if (id === undefined && isInitialize(request.body)) {
      const opened = await sessions.openStreamable(request.principal, request.body);
      if (!opened) return tooMany(reply);
      reply.hijack();
      await opened.transport.handleRequest(withAuth(request), reply.raw, request.body);
      await sessions.abandon(opened.record, opened.transport);
      return reply;
    }
    const s = await lookup(request, reply, id);
    if (!s) return reply;
    if (s.kind !== 'streamable') return jsonRpcError(reply, 400, -32000, 'Bad Request: that session uses the SSE transport');
    // The client's cancellation of an upstream call the fast path runs; the SDK transport still answers the notification.
    const cancelled = cancelledRequestOf(request.body);
    if (cancelled) upstreamCalls.cancel(s.id, cancelled.requestId, cancelled.reason);
    // The session fast path: a tools/call or tools/list in a known session needs only its record.
    const upstream = cannotBeAsked(s) ? { calls: upstreamCalls, session: s.id } : undefined;
    if (opts.fastPath && (await answeredFast(request, reply, { 'mcp-session-id': s.id }, upstream))) return reply;
    const transport = await sessions.transportFor(s);
    if (!transport) return tooMany(reply);
    // Saved before the SDK answers (it accepts every valid level), so the client's next request may land anywhere.
    const level = await setLevelOf(request.body);
    if (level) await sessions.setLogLevel(s.id, level);
    reply.hijack();
    await transport.handleRequest(withAuth(request), reply.raw, request.body);
    return reply;
  };

  /**
   * `/mcp/p/<profile>`: the same endpoint serving one profile's view (PROFILES), on both eras. A profile that does not
   * exist is 404 and one a key is not bound to is 403 (catalog.ts callerView), before any MCP message is read.
   */
  const profileRoute = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      callerView(config, { principal: request.principal, profile: routeProfile(request) });
    } catch (err) {
      const error = toHubError(err);
      return jsonRpcError(reply, error.httpStatus, -32000, error.message);
    }
  };
  // Tool routes with MCP's error shape; the protocol era of each POST is decided by the SDK's classification before any
  // guard reads the request.
  const MCP = { access: 'tool', protocol: 'mcp' } as const;
  const SSE = { ...MCP, resource: '/sse' } as const;
  app.post('/mcp', { config: MCP, preValidation: mcpClassifyHook }, post);
  app.post('/mcp/p/:profile', { config: MCP, preValidation: mcpClassifyHook, preHandler: profileRoute }, post);

  const streamOrDelete = async (request: FastifyRequest, reply: FastifyReply) => {
    if (config.sessionMode === 'stateless') {
      return reply
        .code(405)
        .header('allow', 'POST')
        .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this hub runs MCP_SESSION_MODE=stateless' }, id: null });
    }
    const s = await lookup(request, reply, sessionHeader(request));
    if (!s) return reply;
    if (s.kind !== 'streamable') return jsonRpcError(reply, 400, -32000, 'Bad Request: that session uses the SSE transport');
    const transport = await sessions.transportFor(s);
    if (!transport) return tooMany(reply);
    reply.hijack();
    await transport.handleRequest(withAuth(request), reply.raw);
    return reply;
  };
  app.get('/mcp', { config: MCP }, streamOrDelete);
  app.delete('/mcp', { config: MCP }, streamOrDelete);
  app.get('/mcp/p/:profile', { config: MCP, preHandler: profileRoute }, streamOrDelete);
  app.delete('/mcp/p/:profile', { config: MCP, preHandler: profileRoute }, streamOrDelete);

  app.get('/sse', { config: SSE }, async (request, reply) => {
    const sdk = await loadSdk();
    const transport = new sdk.SSEServerTransport('/messages', reply.raw);
    const opened = await sessions.openSse(request.principal, transport);
    if (!opened) return tooMany(reply);
    reply.hijack();
    const server = await surface.createServer(true);
    await server.connect(transport);
    return reply;
  });

  app.post('/messages', { config: SSE }, async (request, reply) => {
    const sid = (request.query as { sessionId?: unknown }).sessionId;
    const s = await lookup(request, reply, typeof sid === 'string' ? sid : undefined);
    if (!s) return reply;
    if (s.kind !== 'sse') return jsonRpcError(reply, 400, -32000, 'Bad Request: that session uses Streamable HTTP');
    const transport = sessions.sseTransport(s.id);
    // Its stream is a connection to the instance that opened it: only that one can answer on it.
    if (!transport) return jsonRpcError(reply, 409, -32000, SSE_ELSEWHERE);
    reply.hijack();
    await transport.handlePostMessage(withAuth(request), reply.raw, request.body);
    return reply;
  });
}

const SSE_ELSEWHERE =
  'This SSE session is held by another instance: legacy HTTP+SSE needs every request on the instance holding its stream. Use Streamable HTTP (/mcp), or session affinity';

/** The level of a single valid `logging/setLevel` request, to persist with the session. */
async function setLevelOf(body: unknown): Promise<SessionRecord['logLevel'] | undefined> {
  if (!body || typeof body !== 'object' || (body as { method?: unknown }).method !== 'logging/setLevel') return undefined;
  const parsed = (await loadSdk()).server.specTypeSchemas.SetLevelRequest['~standard'].validate(body);
  return 'then' in parsed || parsed.issues !== undefined ? undefined : parsed.value.params.level;
}
