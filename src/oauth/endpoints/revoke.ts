import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../errors.js';
import { field, formRequired } from '../http.js';
import { authenticateClient } from './client-auth.js';
import { MACHINE, type OAuthEndpointOptions } from './options.js';

/** Token revocation (RFC 7009): an access token ends itself, a refresh token its whole grant; unknown tokens are fine. */
export async function revokeEndpoint(app: FastifyInstance, opts: OAuthEndpointOptions): Promise<void> {
  app.post('/revoke', { config: MACHINE }, async (request, reply) => {
    formRequired(request.body);
    const client = await authenticateClient(request, reply, opts, '/revoke');
    const token = field(request.body, 'token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    await opts.oauth.tokens.revoke(token, client.client_id);
    return reply.code(200).header('cache-control', 'no-store').send({});
  });
}
