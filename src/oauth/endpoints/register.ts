import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../errors.js';
import { MACHINE, type OAuthEndpointOptions } from './options.js';

const REGISTRATION_LIMIT = 16 * 1024;

/** Dynamic client registration (RFC 7591): JSON metadata in, the client's id (and secret, if confidential) out. */
export async function registerEndpoint(app: FastifyInstance, opts: OAuthEndpointOptions): Promise<void> {
  const { clients } = opts.oauth;
  app.post('/register', { bodyLimit: REGISTRATION_LIMIT, config: { ...MACHINE, rateLimit: { max: 30, timeWindow: 60_000 } } }, async (request, reply) => {
    if (!request.body || typeof request.body !== 'object' || Array.isArray(request.body)) {
      throw new OAuthError('invalid_client_metadata', 'the registration body must be a JSON object');
    }
    return reply.code(201).header('cache-control', 'no-store').send(await clients.register(request.body));
  });
}
