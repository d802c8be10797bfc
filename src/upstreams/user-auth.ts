import { discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata, extractResourceMetadataUrl } from '@modelcontextprotocol/client';
import * as oidc from 'openid-client';
import type { UpstreamConfig } from '../config.js';
import { HubError } from '../tools/errors.js';
import { GrantRevokedError, type CredentialVault, type Grant, type GrantTokens, type Refresher, type UpstreamClient } from './vault.js';

const LOOPBACK_HTTP = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;
const CLIENT_NAME = 'Omni Hub';
/** Where the hub serves its Client ID Metadata Document (under PUBLIC_URL) and receives authorization responses. */
export const CLIENT_METADATA_PATH = '/connect/client.json';
export const CALLBACK_PATH = '/connect/callback';

/** The hub's client metadata, as its metadata document and as its dynamic registration request. */
export function clientMetadata(base: string): Record<string, string | string[]> {
  return {
    client_id: `${base}${CLIENT_METADATA_PATH}`,
    client_name: CLIENT_NAME,
    client_uri: base,
    redirect_uris: [`${base}${CALLBACK_PATH}`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/** What the hub keeps between sending the browser to the authorization server and its return. */
export interface PendingConnect {
  upstream: string;
  principal: string;
  verifier: string;
  state: string;
  redirect_uri: string;
}

export interface TokenAnswer {
  tokens: GrantTokens;
  expires_at?: number;
  scope?: string;
  subject?: string;
}

/** Bound on each discovery request: a stalled upstream must not hold the browser's connect request open. */
const DISCOVERY_TIMEOUT_MS = 10_000;
const timedFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });

const insecureOk = (url: string) => LOOPBACK_HTTP.test(new URL(url).origin);

function tokenAnswer(res: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): TokenAnswer {
  const expiresIn = res.expiresIn();
  const claims = res.claims();
  return {
    tokens: { access_token: res.access_token, ...(res.refresh_token ? { refresh_token: res.refresh_token } : {}), token_type: res.token_type },
    ...(expiresIn !== undefined ? { expires_at: Date.now() + expiresIn * 1000 } : {}),
    ...(res.scope ? { scope: res.scope } : {}),
    ...(claims?.sub ? { subject: claims.sub } : {}),
  };
}

/**
 * The authorization-code flow of one `auth: "user"` upstream, as an MCP client runs it: an unauthenticated request
 * to the upstream answers 401 naming its protected resource metadata (RFC 9728), which names the authorization server
 * (RFC 8414 metadata). The hub's client there is the configured one, else its Client ID Metadata Document (when the
 * server supports them and PUBLIC_URL is https), else one registered dynamically (RFC 7591); it is kept in the vault.
 * `openid-client` builds the authorization URL (PKCE S256, state, `resource`) and exchanges the code, checking the
 * response's `iss` (RFC 9207); refresh and revocation (RFC 7009) go through it too.
 */
export class UpstreamUserAuth {
  private configuration?: { config: oidc.Configuration; client: UpstreamClient };

  constructor(
    readonly upstream: UpstreamConfig,
    private readonly vault: CredentialVault,
    private readonly publicUrl: string | undefined,
  ) {}

  get name(): string {
    return this.upstream.name;
  }

  private async discover(): Promise<{ resource: string; issuer: string; metadata: Record<string, unknown> }> {
    const url = this.upstream.url!;
    // The first request of an MCP client, without a token: the 401 names the resource metadata.
    const probe = await timedFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'omni-hub', version: '0.1.0' } } }),
    });
    await probe.body?.cancel();
    const resourceMetadataUrl = probe.status === 401 ? extractResourceMetadataUrl(probe) : undefined;
    const prm = await discoverOAuthProtectedResourceMetadata(url, resourceMetadataUrl ? { resourceMetadataUrl } : undefined, timedFetch);
    const issuer = prm.authorization_servers?.[0];
    if (!issuer) throw new Error(`upstream "${this.name}" names no authorization server in its resource metadata`);
    const metadata = await discoverAuthorizationServerMetadata(issuer, { fetchFn: timedFetch });
    if (!metadata) throw new Error(`the authorization server ${issuer} publishes no metadata`);
    // RFC 8414 §3.3: the metadata must be the issuer's own.
    if (metadata.issuer.replace(/\/$/, '') !== issuer.replace(/\/$/, '')) throw new Error(`the authorization server metadata at ${issuer} names another issuer`);
    return { resource: prm.resource, issuer: metadata.issuer, metadata: metadata as unknown as Record<string, unknown> };
  }

  /** The hub's client at the upstream's authorization server, registering one when needed. */
  private async client(redirectUri: string): Promise<UpstreamClient> {
    const known = await this.vault.getClient(this.name);
    const configuredId = this.upstream.user_oauth?.client_id;
    // A configured client is used whatever the redirect (it was registered by hand); a registered one only for its own.
    if (known && (configuredId ? known.client_id === configuredId : known.redirect_uri === redirectUri)) return known;
    const { resource, issuer, metadata } = await this.discover();
    const configured = this.upstream.user_oauth;
    let client: UpstreamClient;
    if (configured?.client_id) {
      client = { issuer, metadata, resource, redirect_uri: redirectUri, client_id: configured.client_id, ...(configured.client_secret ? { client_secret: configured.client_secret } : {}) };
    } else if (metadata.client_id_metadata_document_supported === true && this.publicUrl?.startsWith('https://')) {
      client = { issuer, metadata, resource, redirect_uri: redirectUri, client_id: `${this.publicUrl}${CLIENT_METADATA_PATH}` };
    } else if (typeof metadata.registration_endpoint === 'string') {
      const base = redirectUri.slice(0, -CALLBACK_PATH.length);
      const { client_id: _id, ...request } = clientMetadata(base);
      const options = insecureOk(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined;
      const registered = await oidc.dynamicClientRegistration(new URL(issuer), request, undefined, options);
      const meta = registered.clientMetadata();
      client = {
        issuer,
        metadata,
        resource,
        redirect_uri: redirectUri,
        client_id: meta.client_id,
        ...(typeof meta.client_secret === 'string' ? { client_secret: meta.client_secret } : {}),
      };
    } else {
      throw new Error(
        `the authorization server of upstream "${this.name}" offers neither client metadata documents (with an https PUBLIC_URL) nor dynamic registration: register the hub there and set UPSTREAMS[${this.name}].user_oauth.client_id`,
      );
    }
    await this.vault.putClient(this.name, client);
    this.configuration = undefined;
    return client;
  }

  private async config(redirectUri?: string): Promise<{ config: oidc.Configuration; client: UpstreamClient }> {
    if (this.configuration && (!redirectUri || this.configuration.client.redirect_uri === redirectUri)) return this.configuration;
    const client = redirectUri ? await this.client(redirectUri) : await this.vault.getClient(this.name);
    if (!client) throw new GrantRevokedError(`no client is registered at the authorization server of upstream "${this.name}"`);
    const auth = client.client_secret ? oidc.ClientSecretPost(client.client_secret) : oidc.None();
    const config = new oidc.Configuration(client.metadata as oidc.ServerMetadata, client.client_id, client.client_secret, auth);
    if (insecureOk(client.issuer)) oidc.allowInsecureRequests(config);
    this.configuration = { config, client };
    return this.configuration;
  }

  /** The authorization server URL to send the browser to, and what to keep until it comes back. */
  async start(principal: string, redirectUri: string): Promise<{ url: string; pending: PendingConnect }> {
    const { config, client } = await this.config(redirectUri);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const scope = this.upstream.user_oauth?.scope;
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource: client.resource,
      ...(scope ? { scope } : {}),
    });
    return { url: url.href, pending: { upstream: this.name, principal, verifier, state, redirect_uri: redirectUri } };
  }

  /** Exchanges the code of the authorization response (state, PKCE and `iss` checked) and stores the grant. */
  async finish(currentUrl: URL, pending: PendingConnect): Promise<Grant> {
    const { config, client } = await this.config(pending.redirect_uri);
    const res = await oidc.authorizationCodeGrant(
      config,
      currentUrl,
      { pkceCodeVerifier: pending.verifier, expectedState: pending.state },
      { resource: client.resource },
    );
    const answer = tokenAnswer(res);
    const info = await this.vault.put({ upstream: this.name, principal: pending.principal, ...answer });
    return { ...info, tokens: answer.tokens };
  }

  /** Renews a grant; invalid_grant (revoked, expired, reused) means the principal must connect again. */
  readonly refresher: Refresher = async (grant) => {
    const { config, client } = await this.config();
    try {
      return tokenAnswer(await oidc.refreshTokenGrant(config, grant.tokens.refresh_token!, { resource: client.resource }));
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && (err.error === 'invalid_grant' || err.error === 'invalid_client' || err.error === 'unauthorized_client')) {
        throw new GrantRevokedError(err.error);
      }
      throw err;
    }
  };

  /** Revokes the grant at the authorization server when it has a revocation endpoint (RFC 7009), then deletes it. */
  async disconnect(principal: string): Promise<{ revoked: boolean }> {
    const grant = await this.vault.get(this.name, principal);
    let revoked = false;
    if (grant) {
      try {
        const { config } = await this.config();
        if (config.serverMetadata().revocation_endpoint) {
          // The refresh token first: revoking it ends the whole grant at most servers.
          if (grant.tokens.refresh_token) await oidc.tokenRevocation(config, grant.tokens.refresh_token, { token_type_hint: 'refresh_token' });
          await oidc.tokenRevocation(config, grant.tokens.access_token, { token_type_hint: 'access_token' });
          revoked = true;
        }
      } finally {
        await this.vault.delete(this.name, principal);
      }
    }
    return { revoked };
  }

  /** A principal's grant with an access token good for now (refreshed when about to expire); `upstream_auth_required` when there is none. */
  async usableGrant(principal: string, connectUrl: () => Promise<string>): Promise<Grant> {
    const grant = await this.vault.fresh(this.name, principal, this.refresher);
    if (grant) return grant;
    throw new HubError('upstream_auth_required', `upstream "${this.name}" needs your own login: open connect_url in a browser, sign in there, then call again`, {
      upstream: this.name,
      connect_url: await connectUrl(),
    });
  }
}
