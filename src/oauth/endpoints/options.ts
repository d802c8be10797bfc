import type { Config } from '../../config.js';
import type { ClientAssertions } from '../client-assertion.js';
import type { OperatorProof } from '../operator.js';
import type { OAuthServer } from '../server.js';

/** What every endpoint plugin of the authorization server is registered with. */
export interface OAuthEndpointOptions {
  config: Config;
  oauth: OAuthServer;
  operator: OperatorProof;
  assertions: ClientAssertions;
}

/**
 * The declaration of the machine endpoints (discovery, registration, token, revocation): open, and called cross-origin
 * by browser-based MCP clients (CORS, no credentials). The browser pages (authorization, consent) are open without CORS.
 */
export const MACHINE = { access: 'open', crossOrigin: true } as const;
