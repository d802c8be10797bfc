import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { SCOPES } from './scopes.js';

/**
 * Where this hub lives as the clients see it: `PUBLIC_URL` when set, otherwise the request's own origin (a laptop
 * on loopback). The issuer, the endpoints and the protected resource (`<base>/mcp`) all derive from it.
 */
export function baseUrl(request: FastifyRequest, config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  return `${request.protocol}://${request.host}`;
}

export const resourceUrl = (base: string) => `${base}/mcp`;
export const resourceMetadataUrl = (base: string) => `${base}/.well-known/oauth-protected-resource/mcp`;

/** The resource identifiers a token may be bound to: the MCP endpoint (what MCP clients send) or the hub's origin, with or without a trailing slash. */
export function acceptedResources(base: string): string[] {
  return [resourceUrl(base), `${resourceUrl(base)}/`, base, `${base}/`];
}

/** RFC 9728 protected resource metadata. */
export function protectedResourceMetadata(base: string) {
  return {
    resource: resourceUrl(base),
    authorization_servers: [base],
    scopes_supported: SCOPES,
    bearer_methods_supported: ['header'],
    resource_name: 'Omni Hub',
  };
}

/** RFC 8414 authorization server metadata (also served at the OpenID discovery path). */
export function authorizationServerMetadata(base: string) {
  return {
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    registration_endpoint: `${base}/register`,
    revocation_endpoint: `${base}/revoke`,
    scopes_supported: SCOPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
    service_documentation: `${base}/openapi.json`,
  };
}

/** A `WWW-Authenticate` value for a 401/403: the challenge names where the client discovers how to get a token. */
export function bearerChallenge(base: string, extra: Record<string, string> = {}): string {
  const params = { realm: 'omni-hub', ...extra, resource_metadata: resourceMetadataUrl(base) };
  return `Bearer ${Object.entries(params)
    .map(([k, v]) => `${k}="${v.replace(/["\\]/g, '')}"`)
    .join(', ')}`;
}

/** Routes that must answer without a bearer token (discovery, registration, authorization, token, revocation). */
const PUBLIC_PATHS = new Set([
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/authorize',
  '/authorize/callback',
  '/token',
  '/register',
  '/revoke',
]);

export function isOAuthPublicPath(path: string): boolean {
  return PUBLIC_PATHS.has(path);
}
