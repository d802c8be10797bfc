import type { FastifyReply, FastifyRequest } from 'fastify';
import { CLIENT_ASSERTION_TYPE } from '../client-assertion.js';
import type { ClientRecord } from '../clients.js';
import { baseUrl } from '../discovery.js';
import { OAuthError } from '../errors.js';
import { field } from '../http.js';
import type { OAuthEndpointOptions } from './options.js';

/**
 * Client authentication at /token and /revoke (RFC 6749 §2.3): HTTP Basic, client_id/client_secret in the body, a
 * private_key_jwt assertion (RFC 7523), or none (public clients).
 */
export async function authenticateClient(request: FastifyRequest, reply: FastifyReply, opts: OAuthEndpointOptions, endpoint: string): Promise<ClientRecord> {
  const { clients } = opts.oauth;
  const body = request.body;
  let id = field(body, 'client_id');
  let secret = field(body, 'client_secret');
  const assertionType = field(body, 'client_assertion_type');
  const assertion = field(body, 'client_assertion');
  let method: 'none' | 'client_secret_post' | 'client_secret_basic' = secret !== undefined ? 'client_secret_post' : 'none';
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0 || secret !== undefined || assertion !== undefined) throw new OAuthError('invalid_request', 'malformed client authentication');
    let basicId: string;
    try {
      basicId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_request', 'malformed client authentication');
    }
    if (id !== undefined && id !== basicId) throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
    id = basicId;
    method = 'client_secret_basic';
    reply.header('www-authenticate', 'Basic realm="omni-hub"');
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== CLIENT_ASSERTION_TYPE) throw new OAuthError('invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    if (!assertion) throw new OAuthError('invalid_request', 'client_assertion is required with client_assertion_type');
    if (secret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method');
  }
  if (!id) throw new OAuthError('invalid_client', 'client_id is required');
  const client = await clients.find(id).catch((err: unknown) => {
    if (err instanceof OAuthError) throw new OAuthError('invalid_client', err.description);
    throw err;
  });
  if (!client) throw new OAuthError('invalid_client', 'unknown client');
  if (assertion !== undefined) {
    const base = baseUrl(request, opts.config);
    // The audience may be the endpoint itself, the token endpoint, or the issuer (RFC 7523 §3, RFC 9126 practice).
    await opts.assertions.verify(client, assertion, [...new Set([`${base}${endpoint}`, `${base}/token`, base])]);
    return client;
  }
  clients.authenticate(client, secret, method);
  return client;
}
