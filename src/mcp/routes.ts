import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { McpEventStore } from './event-store.js';
import { tryFastPath } from './fast-path.js';
import { loadSdk } from './sdk.js';
import type { McpSurface } from './server.js';

export interface McpRoutesOptions {
  config: Config;
  surface: McpSurface;
  /** The stateless fast path (DESIGN.md §7); tests turn it off to compare with the SDK path. */
  fastPath: boolean;
  /** Keeps stateful streams' events so a client can resume with Last-Event-ID. */
  events: McpEventStore;
}

type Session = (
  | { kind: 'streamable'; transport: StreamableHTTPServerTransport }
  | { kind: 'sse'; transport: SSEServerTransport }
) & {
  principal: string;
  lastSeen: number;
};

const SESSION_IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 20_000;
/** The `retry:` a resumable SSE stream announces: how long a client waits before reconnecting (ms). */
const SSE_RETRY_MS = 1_000;

/** The SDK reads the caller's identity from `req.auth`; we pass the key id, never the key. */
function withAuth(request: FastifyRequest): IncomingMessage {
  const raw = request.raw as IncomingMessage & { auth?: { token: string; clientId: string; scopes: string[] } };
  raw.auth = { token: '', clientId: request.principal ?? 'anonymous', scopes: [] };
  return raw;
}

function jsonRpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** MCP over Streamable HTTP (`/mcp`, stateful or stateless) and the legacy HTTP+SSE transport (`/sse`, `/messages`). */
export async function mcpRoutes(app: FastifyInstance, opts: McpRoutesOptions): Promise<void> {
  const { config, surface } = opts;
  const sessions = new Map<string, Session>();

  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const s of sessions.values()) if (s.lastSeen < cutoff) void s.transport.close();
  }, 60_000);
  sweep.unref();
  // Load the SDK runtime in the background once listening: readiness does not wait for it, the first session rarely does.
  app.addHook('onListen', async () => {
    void loadSdk();
  });
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
  });

  const lookup = (request: FastifyRequest, reply: FastifyReply, id: string | undefined): Session | null => {
    if (!id) {
      jsonRpcError(reply, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return null;
    }
    const s = sessions.get(id);
    // A session belongs to the key that opened it: another key gets the same answer as an unknown id.
    if (!s || s.principal !== request.principal) {
      jsonRpcError(reply, 404, -32001, 'Session not found');
      return null;
    }
    s.lastSeen = Date.now();
    return s;
  };

  const sessionHeader = (request: FastifyRequest): string | undefined => {
    const h = request.headers['mcp-session-id'];
    return typeof h === 'string' ? h : undefined;
  };

  const isInitialize = (body: unknown): boolean =>
    !!body && typeof body === 'object' && !Array.isArray(body) && (body as { method?: unknown }).method === 'initialize';

  app.post('/mcp', async (request, reply) => {
    if (config.sessionMode === 'stateless') {
      if (opts.fastPath) {
        const answer = await tryFastPath(surface, {
          body: request.body,
          accept: request.headers.accept,
          protocolVersion: request.headers['mcp-protocol-version'],
          principal: request.principal,
        });
        if (answer !== null) {
          // Written raw so the headers match the SDK transport's JSON response exactly.
          reply.hijack();
          reply.raw.writeHead(200, { 'content-type': 'application/json' }).end(answer);
          return reply;
        }
      }
      const sdk = await loadSdk();
      const server = await surface.createServer();
      const transport = new sdk.StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      reply.hijack();
      await transport.handleRequest(withAuth(request), reply.raw, request.body);
      return reply;
    }

    const id = sessionHeader(request);
    if (id === undefined && isInitialize(request.body)) {
      if (sessions.size >= MAX_SESSIONS) return jsonRpcError(reply, 503, -32000, 'Too many open sessions; try again later');
      const sdk = await loadSdk();
      const server = await surface.createServer();
      const principal = request.principal;
      // Known before the transport exists so the event store can be scoped to this session.
      const sessionId = randomUUID();
      const transport: StreamableHTTPServerTransport = new sdk.StreamableHTTPServerTransport({
        sessionIdGenerator: () => sessionId,
        eventStore: opts.events.forSession(sessionId),
        retryInterval: SSE_RETRY_MS,
        onsessioninitialized: (sid) => {
          sessions.set(sid, { kind: 'streamable', transport, principal, lastSeen: Date.now() });
        },
      });
      // The SDK's Protocol wraps this handler and cleans the server up itself; calling server.close() from here would
      // re-enter transport.close() → onclose without end.
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        opts.events.endSession(sessionId);
      };
      await server.connect(transport);
      reply.hijack();
      await transport.handleRequest(withAuth(request), reply.raw, request.body);
      return reply;
    }
    const s = lookup(request, reply, id);
    if (!s) return reply;
    if (s.kind !== 'streamable') return jsonRpcError(reply, 400, -32000, 'Bad Request: that session uses the SSE transport');
    reply.hijack();
    await s.transport.handleRequest(withAuth(request), reply.raw, request.body);
    return reply;
  });

  const streamOrDelete = async (request: FastifyRequest, reply: FastifyReply) => {
    if (config.sessionMode === 'stateless') {
      return reply
        .code(405)
        .header('allow', 'POST')
        .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this hub runs MCP_SESSION_MODE=stateless' }, id: null });
    }
    const s = lookup(request, reply, sessionHeader(request));
    if (!s) return reply;
    if (s.kind !== 'streamable') return jsonRpcError(reply, 400, -32000, 'Bad Request: that session uses the SSE transport');
    reply.hijack();
    await s.transport.handleRequest(withAuth(request), reply.raw);
    return reply;
  };
  app.get('/mcp', streamOrDelete);
  app.delete('/mcp', streamOrDelete);

  app.get('/sse', async (request, reply) => {
    if (sessions.size >= MAX_SESSIONS) return jsonRpcError(reply, 503, -32000, 'Too many open sessions; try again later');
    reply.hijack();
    const sdk = await loadSdk();
    const transport = new sdk.SSEServerTransport('/messages', reply.raw);
    const server = await surface.createServer();
    sessions.set(transport.sessionId, { kind: 'sse', transport, principal: request.principal, lastSeen: Date.now() });
    transport.onclose = () => {
      sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return reply;
  });

  app.post('/messages', async (request, reply) => {
    const sid = (request.query as { sessionId?: unknown }).sessionId;
    const s = lookup(request, reply, typeof sid === 'string' ? sid : undefined);
    if (!s) return reply;
    if (s.kind !== 'sse') return jsonRpcError(reply, 400, -32000, 'Bad Request: that session uses Streamable HTTP');
    reply.hijack();
    await s.transport.handlePostMessage(withAuth(request), reply.raw, request.body);
    return reply;
  });
}
