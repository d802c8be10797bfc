import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../errors.js';
import { field, formRequired } from '../http.js';
import { levelRank, maxLevel, parseScope, scopesUpTo } from '../scopes.js';
import { authenticateClient } from './client-auth.js';
import { MACHINE, type OAuthEndpointOptions } from './options.js';

/**
 * The token endpoint (RFC 6749 §3.2): authorization_code (PKCE, the redirect URI when the request named one, the
 * resource) and refresh_token (rotation with a grace window for a retried request, scope at most the grant's).
 */
export async function tokenEndpoint(app: FastifyInstance, opts: OAuthEndpointOptions): Promise<void> {
  const { tokens } = opts.oauth;

  /**
   * The scope of a refresh: `offline_access` alone, or nothing, keeps the grant; level scopes are capped at the grant
   * (a client re-sending what it first asked for gets what was granted, and the answer's `scope` says so).
   */
  const refreshScope = (scope: string | undefined) => (held: string[]) => {
    const asked = parseScope(scope);
    if (asked.unknown.length) throw new OAuthError('invalid_scope', `unknown scope ${JSON.stringify(asked.unknown[0]!.slice(0, 50))}`);
    const top = maxLevel(asked.known);
    const heldTop = maxLevel(held);
    if (!heldTop) throw new OAuthError('invalid_scope', 'the grant holds no level');
    if (!top) return held;
    return scopesUpTo(levelRank(top) < levelRank(heldTop) ? top : heldTop);
  };

  app.post('/token', { config: MACHINE }, async (request, reply) => {
    formRequired(request.body);
    const client = await authenticateClient(request, reply, opts, '/token');
    const b = request.body;
    const grant = field(b, 'grant_type');
    if (!grant) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grant !== 'authorization_code' && grant !== 'refresh_token') throw new OAuthError('unsupported_grant_type', `grant_type ${JSON.stringify(grant.slice(0, 50))} is not supported`);
    if (!client.grant_types.includes(grant)) throw new OAuthError('unauthorized_client', `this client is not registered for ${grant}`);
    const resource = field(b, 'resource');
    const answer =
      grant === 'authorization_code'
        ? await tokens.exchangeCode(client.client_id, { code: field(b, 'code'), redirect_uri: field(b, 'redirect_uri'), code_verifier: field(b, 'code_verifier'), resource })
        : await tokens.refresh(client.client_id, { refresh_token: field(b, 'refresh_token'), scope: field(b, 'scope'), resource }, refreshScope(field(b, 'scope')));
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(answer);
  });
}
