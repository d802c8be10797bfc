import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { CLIENT_ASSERTION_ALGORITHMS } from './client-assertion.js';
import { SCOPES } from './scopes.js';

/**
 * Where this hub lives as the clients see it: `PUBLIC_URL` when set, otherwise the request's own origin (a laptop
 * on loopback). The issuer, the endpoints and the protected resource (`<base>/mcp`) all derive from it.
 */
export function baseUrl(request: FastifyRequest, config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  return `${request.protocol}://${request.host}`;
}

/** The MCP endpoints a client may name as the protected resource: Streamable HTTP and the legacy SSE transport. */
export type ResourcePath = '/mcp' | '/sse';

export const resourceUrl = (base: string, path: ResourcePath = '/mcp') => `${base}${path}`;
export const resourceMetadataUrl = (base: string, path: ResourcePath = '/mcp') => `${base}/.well-known/oauth-protected-resource${path}`;

/** URL comparison form: scheme and host lower-cased (RFC 3986 §6.2.2.1), so `HTTPS://Hub.Example/mcp` is the hub's. */
export function normalizeResource(uri: string): string {
  try {
    return new URL(uri).href;
  } catch {
    return uri;
  }
}

/**
 * Whether a resource indicator names this hub: one of its MCP endpoints (what MCP clients send) or its origin, with or
 * without a trailing slash. A token bound to any of them reaches every tool route of the hub.
 */
export function isHubResource(base: string, resource: string): boolean {
  const r = normalizeResource(resource);
  return [resourceUrl(base), `${resourceUrl(base)}/`, resourceUrl(base, '/sse'), `${resourceUrl(base, '/sse')}/`, base].some((a) => normalizeResource(a) === r);
}

/** RFC 9728 protected resource metadata of `/mcp` or of `/sse`. */
export function protectedResourceMetadata(base: string, path: ResourcePath = '/mcp') {
  return {
    resource: resourceUrl(base, path),
    authorization_servers: [base],
    scopes_supported: SCOPES,
    bearer_methods_supported: ['header'],
    resource_name: 'Omni Hub',
  };
}

/**
 * RFC 8414 authorization server metadata. Not served at the OpenID discovery path: this server issues no ID tokens, so
 * it would not be valid OpenID Provider metadata.
 */
export function authorizationServerMetadata(base: string) {
  return {
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    registration_endpoint: `${base}/register`,
    revocation_endpoint: `${base}/revoke`,
    // offline_access is listed for clients that ask for it to get a refresh token (every grant has one anyway); the
    // protected resource's metadata and challenges leave it out.
    scopes_supported: [...SCOPES, 'offline_access'],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
    service_documentation: `${base}/openapi.json`,
  };
}

/** A `WWW-Authenticate` value for a 401/403: the challenge names where the client discovers how to get a token. */
export function bearerChallenge(base: string, extra: Record<string, string> = {}, path: ResourcePath = '/mcp'): string {
  const params = { realm: 'omni-hub', ...extra, resource_metadata: resourceMetadataUrl(base, path) };
  return `Bearer ${Object.entries(params)
    .map(([k, v]) => `${k}="${v.replace(/["\\]/g, '')}"`)
    .join(', ')}`;
}
