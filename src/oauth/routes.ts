import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { FailedAuthLimiter } from '../http/failed-auth.js';
import { ClientAssertions } from './client-assertion.js';
import { authorizeEndpoint } from './endpoints/authorize.js';
import { clientAdminEndpoints } from './endpoints/clients-admin.js';
import { metadataEndpoints } from './endpoints/metadata.js';
import type { OAuthEndpointOptions } from './endpoints/options.js';
import { registerEndpoint } from './endpoints/register.js';
import { revokeEndpoint } from './endpoints/revoke.js';
import { tokenEndpoint } from './endpoints/token.js';
import { FORM_LIMIT, installOAuthErrorHandler } from './http.js';
import { OperatorProof } from './operator.js';
import type { OAuthServer } from './server.js';

/**
 * The authorization server's HTTP surface, one plugin per endpoint, in two encapsulated groups: the machine endpoints
 * (discovery, registration, token, revocation), which declare CORS on each route (`MACHINE`, endpoints/options.ts); and
 * the browser pages (authorization and consent), with cookies and security headers and no CORS. Both parse form bodies
 * and answer RFC-shaped errors; neither changes anything outside its group. Every route is open (the client or the
 * operator proves itself in the request) except the console's client list, which needs a hub key.
 */

interface OAuthRoutesOptions {
  config: Config;
  oauth: OAuthServer;
  /** The failed-key limiter of the API's bearer keys; the consent page's key field counts in it too. */
  failedAuth: FailedAuthLimiter;
}

export async function oauthRoutes(app: FastifyInstance, opts: OAuthRoutesOptions): Promise<void> {
  const { config, oauth } = opts;
  const endpoint: OAuthEndpointOptions = {
    config,
    oauth,
    operator: new OperatorProof(config, opts.failedAuth, oauth.identityProvider),
    assertions: new ClientAssertions(oauth.store, (url) => oauth.clients.download(url)),
  };

  await app.register(async (machine) => {
    await machine.register(formbody, { bodyLimit: FORM_LIMIT });
    installOAuthErrorHandler(machine);
    await machine.register(metadataEndpoints, endpoint);
    await machine.register(registerEndpoint, endpoint);
    await machine.register(tokenEndpoint, endpoint);
    await machine.register(revokeEndpoint, endpoint);
  });

  await app.register(async (pages) => {
    await pages.register(formbody, { bodyLimit: FORM_LIMIT });
    await pages.register(cookie);
    await pages.register(helmet, { global: false });
    installOAuthErrorHandler(pages);
    await pages.register(authorizeEndpoint, endpoint);
  });

  await app.register(clientAdminEndpoints, endpoint);
}
