import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Level } from '../governance/levels.js';
import type { Governor } from '../governance/governor.js';
import { catalogName } from '../tools/catalog.js';
import { HubError } from '../tools/errors.js';
import type { InvokePipeline } from '../tools/pipeline.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { GuardedRoute } from '../http/access.js';
import { unauthorized, type TokenCheck } from '../http/auth.js';
import { hubErrorStatus, sendHubError } from '../http/errors.js';
import { mcpToolCalls } from '../http/mcp-request.js';
import { ClientRegistry, type ClientRegistryOptions } from './clients.js';
import { baseUrl, bearerChallenge, isHubResource } from './discovery.js';
import { levelAllowed, maxLevel, scopeForLevel, scopesUpTo } from './scopes.js';
import { IdentityProviderSignIn } from './identity-provider.js';
import { FileOAuthStore, RedisOAuthStore, type OAuthStore } from './store.js';
import { TokenService, isAccessTokenShape } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the caller authenticated with an OAuth access token rather than a hub key. */
    oauth?: { clientId: string; subject?: string; scopes: string[]; maxLevel: Level | null };
  }
}

export interface OAuthOptions {
  clients?: ClientRegistryOptions;
}

/** The authorization server's state (store, clients, tokens) and the two checks the resource server runs. */
export class OAuthServer {
  readonly clients: ClientRegistry;
  readonly tokens: TokenService;
  /** The OpenID Connect sign-in offered on the consent page, when OAUTH_OIDC_* is configured. */
  readonly identityProvider: IdentityProviderSignIn | null;

  private constructor(
    readonly config: Config,
    readonly store: OAuthStore,
    options: OAuthOptions,
  ) {
    this.clients = new ClientRegistry(store, { unusedTtlS: config.oauth.unusedClientS, ...options.clients });
    this.tokens = new TokenService(store, config.oauth);
    this.identityProvider = config.identityProvider ? new IdentityProviderSignIn(config.identityProvider) : null;
  }

  /** Redis when REDIS_URL is set (shared by every instance), otherwise a file under DATA_DIR. */
  static async open(config: Config, log: FastifyBaseLogger, options: OAuthOptions = {}): Promise<OAuthServer> {
    if (config.redisUrl) {
      const { RedisConnection } = await import('../redis/connection.js');
      const connection = new RedisConnection({ url: config.redisUrl, log, commandTimeoutMs: 2_000 }).acquire();
      await connection.waitUntilReady(2_000);
      return new OAuthServer(config, new RedisOAuthStore(connection), options);
    }
    return new OAuthServer(config, new FileOAuthStore(config.dataDir, log), options);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /**
   * The resource server's side of the auth hook: a live token, bound to this hub, used on a tool route (a route that
   * declares `access: 'tool'`); operator routes stay with hub keys.
   */
  readonly checkToken: TokenCheck = async (request, reply, token, route) => {
    if (!isAccessTokenShape(token)) return 'not_ours';
    let grant;
    try {
      grant = await this.tokens.verifyAccess(token);
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, 'oauth store unavailable');
      await reply.code(503).header('retry-after', '1').send({ error: { code: 'governance_unavailable', message: 'the token store is unavailable; try again' } });
      return 'refused';
    }
    if (!grant) {
      await unauthorized(reply, 'the access token is invalid, expired or revoked', route.resource, 'invalid_token');
      return 'refused';
    }
    if (!isHubResource(baseUrl(request, this.config), grant.resource)) {
      await unauthorized(reply, 'the access token was issued for another resource', route.resource, 'invalid_token');
      return 'refused';
    }
    if (!route.tools) {
      await reply
        .code(403)
        .header('www-authenticate', bearerChallenge(baseUrl(request, this.config), { error: 'insufficient_scope', error_description: 'OAuth tokens reach the tool routes only' }, route.resource))
        .send({ error: { code: 'insufficient_scope', message: 'OAuth access tokens reach /mcp and /v1/tools only; operator routes need a hub key' } });
      return 'refused';
    }
    request.principal = `oauth:${grant.client_id}${grant.subject ? `:${grant.subject}` : ''}`;
    request.oauth = { clientId: grant.client_id, ...(grant.subject ? { subject: grant.subject } : {}), scopes: grant.scopes, maxLevel: maxLevel(grant.scopes) };
    return 'accepted';
  };

  /**
   * Level scopes before anything runs: a tool beyond the token's levels is refused with HTTP 403 and the step-up
   * challenge naming the scope it needs, on REST and on every MCP route alike (SDK transport, stateless fast path,
   * sessions, legacy /messages), because it runs as the first preHandler of every POST tool route (src/http/access.ts).
   * The route's declaration says where its calls are: the MCP messages of the body, or REST's `:name` and body.
   */
  scopeGuard(registry: ToolRegistry, governor: Governor, pipeline: InvokePipeline) {
    const needed = (name: unknown): Level | null => {
      if (typeof name !== 'string') return null;
      const tool = registry.get(name);
      return tool ? governor.rule(tool.def).level : null;
    };
    // Callback style: a hub-key request (the hot path) passes without allocating a promise.
    return (route: GuardedRoute) => (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      const auth = request.oauth;
      if (!auth) return done();
      const params = request.params as { name?: string; profile?: string } | undefined;
      let refusal: { tool: string; level: Level; id?: unknown; args: unknown } | null = null;
      const rest = route.protocol === 'rest';
      if (rest) {
        const name = params?.name;
        const level = needed(name);
        if (level && !(auth.maxLevel && levelAllowed(auth.maxLevel, level))) refusal = { tool: name!, level, args: request.body };
      } else {
        // On a profile's route a `prefix: false` profile's names are its upstream's own: checked under the catalog name.
        const profile = params?.profile === undefined ? undefined : this.config.profiles.find((p) => p.name === params.profile);
        for (const call of mcpToolCalls(request)) {
          const level = needed(profile && typeof call.name === 'string' ? catalogName(call.name, { profile }) : call.name);
          if (level && !(auth.maxLevel && levelAllowed(auth.maxLevel, level))) {
            refusal = { tool: call.name as string, level, id: call.id, args: call.args };
            break;
          }
        }
      }
      if (!refusal) return done();
      // The levels are cumulative: the union of what the token holds and what the call needs is every level up to the
      // higher of the two, which is the call's (the token's is lower, or there would be no refusal).
      const scope = scopesUpTo(refusal.level).join(' ');
      const message = `${refusal.tool} is a ${refusal.level} tool: it needs scope ${scopeForLevel(refusal.level)}; this token holds ${auth.scopes.join(' ') || 'no level'}`;
      // The refused call gets its one audit record from the pipeline, as any refusal, though it never runs there.
      const refused = pipeline.refuse(refusal.tool, refusal.args, { principal: request.principal, transport: rest ? 'rest' : 'mcp' }, 'denied_scope', new HubError('insufficient_scope', message), refusal.level);
      if (!refused.ok && refused.error.code === 'rate_limited') {
        // Past the key's budget of refused calls: the same 429 and Retry-After as every other refusal gets then (as a
        // JSON-RPC error on MCP).
        const error = refused.error;
        if (rest) return void sendHubError(reply, error);
        void hubErrorStatus(reply, error).send({ jsonrpc: '2.0', error: { code: -32000, message: error.message }, id: refusal.id ?? null });
        return;
      }
      reply
        .code(403)
        .header('www-authenticate', bearerChallenge(baseUrl(request, this.config), { error: 'insufficient_scope', scope, error_description: message }, route.resource));
      if (rest) {
        void reply.send({ error: { code: 'insufficient_scope', message, required_scope: scopeForLevel(refusal.level) } });
      } else {
        void reply.send({ jsonrpc: '2.0', error: { code: -32001, message: `insufficient_scope: ${message}` }, id: refusal.id ?? null });
      }
    };
  }
}

export const randomId = () => randomBytes(24).toString('base64url');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
