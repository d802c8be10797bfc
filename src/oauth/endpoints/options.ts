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
