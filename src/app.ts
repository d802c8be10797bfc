import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { SYSTEMS } from './adapters/index.js';
import type { Config } from './config.js';
import type { HubDeps } from './deps.js';
import { Governor } from './governance/governor.js';
import { enforceDeclaredAccess } from './http/access.js';
import { approvalRoutes } from './http/approvals.js';
import { authHook } from './http/auth.js';
import { BodyShapeError, bodyShapeViolation } from './http/body-shape.js';
import { callbackRoutes } from './http/callbacks.js';
import { consoleRoutes } from './http/console.js';
import { installErrorHandlers } from './http/errors.js';
import { hostGuardHook } from './http/host-guard.js';
import { openApiRoute } from './http/openapi.js';
import { opsRoutes } from './http/ops.js';
import { trustProxyOption } from './http/proxy-trust.js';
import { restRoutes } from './http/rest.js';
import { createLogger, requestLogger } from './log.js';
import { mcpRoutes } from './mcp/routes.js';
import { McpSurface } from './mcp/server.js';
import { OperatorProof } from './oauth/operator.js';
import { oauthRoutes } from './oauth/routes.js';
import { OAuthServer, type OAuthOptions } from './oauth/server.js';
import { Metrics } from './metrics.js';
import { InvokePipeline } from './tools/pipeline.js';
import { ToolRegistry } from './tools/registry.js';
import type { SystemDefinition } from './tools/types.js';
import type { ConnectionTimings } from './upstreams/connection.js';
import { Upstreams } from './upstreams/index.js';
import { UserConnections } from './upstreams/user-connections.js';
import { connectRoutes } from './http/connect.js';

export interface AppOptions {
  /** Systems to serve (default: every system of src/adapters). Tests pass small sets. */
  systems?: readonly SystemDefinition[];
  /** The MCP fast paths (docs/mcp-sessions.md, "The fast paths"); on by default. */
  fastPath?: boolean;
  /** The process's logger (main.ts shares one with the stores); a new one from the config otherwise. */
  logger?: Logger;
  /** The authorization server's outbound policy for client metadata documents (tests trust a local CA). */
  oauth?: OAuthOptions;
  /** Bounds of the upstream connections (tests shorten the idle time of callers' sessions, say). */
  upstreamTimings?: Partial<ConnectionTimings>;
}

export interface Hub {
  config: Config;
  deps: HubDeps;
  registry: ToolRegistry;
  governor: Governor;
  pipeline: InvokePipeline;
  metrics: Metrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub;
  }
}

/** The whole HTTP surface as one Fastify instance; tests drive it with app.inject(), main.ts listens. */
export async function buildApp(config: Config, deps: HubDeps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Typed as Fastify's base logger so the instance keeps the FastifyInstance type every plugin is written against.
    loggerInstance: (options.logger ?? createLogger(config)) as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // `/mcp/` is the MCP endpoint too: clients keep the trailing slash of a URL as it was pasted into them.
    rewriteUrl: (req) => {
      const url = req.url ?? '/';
      return url.startsWith('/mcp/') && (url.length === 5 || url[5] === '?') ? `/mcp${url.slice(5)}` : url;
    },
    // Per-request lines are off: every tool call already writes one audit line.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLogger,
    trustProxy: trustProxyOption(config.trustProxy),
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // UPSTREAMS: each upstream MCP server is one more system of the same registry and pipeline.
  const userConnections = config.upstreams.some((u) => u.auth === 'user' && config.toolsets.includes(u.name))
    ? await UserConnections.open(config, app.log, deps.audit)
    : undefined;
  if (userConnections) app.addHook('onClose', () => userConnections.close());
  const upstreams = config.upstreams.some((u) => config.toolsets.includes(u.name)) ? new Upstreams(config, app.log, { userConnections, ...(options.upstreamTimings ? { timings: options.upstreamTimings } : {}) }) : undefined;
  if (userConnections) {
    // An operator's login lets the listing connection of that upstream list its tools: connect at once, not at the next
    // retry. A principal's new or revoked login ends the session their old one opened here.
    userConnections.onConnected = (upstream, principal) => {
      void upstreams?.connection(upstream)?.forgetUser(principal);
      upstreams?.connection(upstream)?.retryNow();
    };
    userConnections.onDisconnected = async (upstream, principal) => upstreams?.connection(upstream)?.forgetUser(principal);
  }
  await upstreams?.start();
  const registry = new ToolRegistry([...(options.systems ?? SYSTEMS), ...(upstreams?.systems ?? [])], config, (skipped) =>
    app.log.warn({ upstream: skipped.system, tool: skipped.name, reason: skipped.reason }, 'upstream tool not served'),
  );
  upstreams?.onToolsChanged(() => registry.refresh());
  if (upstreams) app.addHook('onClose', () => upstreams.close());
  const metrics = new Metrics();
  metrics.watchAudit(deps.audit);
  const governor = new Governor(config, deps.quota);
  const pipeline = new InvokePipeline(registry, governor, config, deps, app.log, metrics);
  const content = upstreams ? new (await import('./mcp/federated-content.js')).FederatedContent(upstreams, pipeline) : undefined;
  const surface = new McpSurface(registry, pipeline, content, deps.operations, app.log);
  upstreams?.onContentChanged((kind) => surface.contentChanged(kind));
  app.decorate('hub', { config, deps, registry, governor, pipeline, metrics });

  installErrorHandlers(app);
  // Only JSON bodies are accepted; anything else is 415 rather than a string the routes would misread.
  app.removeContentTypeParser('text/plain');
  // An empty body with a JSON content type (DELETE /mcp from some clients) is no body, not a parse error.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' && (request.method === 'DELETE' || request.method === 'GET')) return done(null, undefined);
    const violation = bodyShapeViolation(body as string, config.bodyShape);
    if (violation) return done(new BodyShapeError(violation), undefined);
    parseJson(request, body as string, done);
  });
  // A coarse per-IP flood guard on every route, counted after the route's access guards; tool budgets are governance's job.
  await app.register(rateLimit, { max: config.rateLimitPerMinute, timeWindow: 60_000, hook: 'onRequest' });
  const oauth = await OAuthServer.open(config, app.log, options.oauth);
  app.addHook('onClose', () => oauth.close());
  // Who may call each route comes from the route's own `config.access` (src/http/access.ts); a route without one fails
  // here, at registration. Protected routes get the DNS-rebinding guard, before auth so a foreign Host never reaches key
  // checks; POST tool routes the OAuth scope guard.
  enforceDeclaredAccess(app, {
    hostGuard: hostGuardHook(config),
    authenticate: authHook(config, deps.failedAuth, oauth.checkToken),
    scopeGuard: oauth.scopeGuard(registry, governor, pipeline),
  });

  await app.register(opsRoutes, { config, deps, metrics });
  await app.register(openApiRoute, { config, registry });
  await app.register(restRoutes, { config, deps, registry, governor, pipeline });
  await app.register(callbackRoutes, { deps, maxBytes: config.callbackMaxBytes });
  await app.register(consoleRoutes, { config });
  if (userConnections) await app.register(connectRoutes, { config, connections: userConnections });
  await app.register(oauthRoutes, { config, oauth, failedAuth: deps.failedAuth });
  await app.register(approvalRoutes, { config, deps, registry, operator: new OperatorProof(config, deps.failedAuth, oauth.identityProvider) });
  await app.register(mcpRoutes, { config, surface, fastPath: options.fastPath ?? true, events: deps.events, sessions: deps.sessions, bus: deps.mcpEvents, metrics });
  return app;
}
