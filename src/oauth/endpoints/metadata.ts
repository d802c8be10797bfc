import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorizationServerMetadata, baseUrl, protectedResourceMetadata } from '../discovery.js';
import { MACHINE, type OAuthEndpointOptions } from './options.js';

/**
 * Discovery: protected resource metadata (RFC 9728) for `/mcp` (also at the bare well-known path) and for the legacy
 * `/sse` transport, and the authorization server metadata (RFC 8414). Any other `/.well-known/` path is a 404.
 */
export async function metadataEndpoints(app: FastifyInstance, opts: OAuthEndpointOptions): Promise<void> {
  const { config } = opts;
  const mcp = async (request: FastifyRequest) => protectedResourceMetadata(baseUrl(request, config), '/mcp');
  const declared = { config: MACHINE };
  app.get('/.well-known/oauth-protected-resource', declared, mcp);
  app.get('/.well-known/oauth-protected-resource/mcp', declared, mcp);
  app.get('/.well-known/oauth-protected-resource/sse', declared, async (request) => protectedResourceMetadata(baseUrl(request, config), '/sse'));
  app.get('/.well-known/oauth-authorization-server', declared, async (request) => authorizationServerMetadata(baseUrl(request, config)));
  // Discovery is public: a document this hub does not serve (OpenID configuration, ...) is a 404 for anyone, not a 401.
  app.get('/.well-known/*', { config: { access: 'open' } }, (_request, reply) => reply.callNotFound());
}
