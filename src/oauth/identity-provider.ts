import * as oidc from 'openid-client';
import type { Config } from '../config.js';
import { OAuthError } from './errors.js';

/**
 * The optional identity provider sign-in of the consent and approval pages (e.g. Google): the operator proves who they are with an OpenID
 * Connect provider instead of typing a hub key, and only the allowed e-mail addresses pass. `openid-client` does
 * discovery, the authorization URL (PKCE S256, state, nonce), the code exchange and the ID token validation.
 */
export interface IdentityProviderChecks {
  verifier: string;
  state: string;
  nonce: string;
}

const LOOPBACK_HTTP = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

export class IdentityProviderSignIn {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(private readonly settings: NonNullable<Config['identityProvider']>) {}

  /** Display name of the provider for the button ("accounts.google.com"). */
  get label(): string {
    return new URL(this.settings.issuer).host;
  }

  /** Origins the consent form may redirect to (Content-Security-Policy form-action). */
  async origins(): Promise<string[]> {
    const out = new Set([new URL(this.settings.issuer).origin]);
    try {
      const endpoint = (await this.config()).serverMetadata().authorization_endpoint;
      if (endpoint) out.add(new URL(endpoint).origin);
    } catch {
      // Discovery failing shows on the sign-in attempt itself.
    }
    return [...out];
  }

  private config(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    // Plain http is accepted for an issuer on loopback only (a local provider in development and tests).
    const options = LOOPBACK_HTTP.test(new URL(issuer).origin) ? { execute: [oidc.allowInsecureRequests] } : undefined;
    this.configuration ??= oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, options).catch((err: unknown) => {
      this.configuration = null;
      throw err;
    });
    return this.configuration;
  }

  async start(redirectUri: string): Promise<{ url: string; checks: IdentityProviderChecks }> {
    let config: oidc.Configuration;
    try {
      config = await this.config();
    } catch {
      throw new OAuthError('temporarily_unavailable', `the identity provider ${this.label} could not be reached`);
    }
    const checks = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.verifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    });
    return { url: url.href, checks };
  }

  /** Exchanges the provider's code and returns the verified, allowed e-mail address (lower-cased). */
  async finish(currentUrl: URL, checks: IdentityProviderChecks): Promise<string> {
    let claims: Record<string, unknown> | undefined;
    try {
      const config = await this.config();
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        idTokenExpected: true,
      });
      const id = tokens.claims();
      claims = id ? { ...id } : undefined;
      // Google puts the e-mail in the ID token; providers that follow the spec strictly keep it for the userinfo endpoint.
      if (id && typeof id.email !== 'string') claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, id.sub)) };
    } catch (err) {
      throw new OAuthError('access_denied', `sign-in with ${this.label} failed: ${(err as Error).message.slice(0, 200)}`);
    }
    const email = typeof claims?.email === 'string' ? claims.email.toLowerCase() : null;
    // Only an address the provider has verified counts: an unverified one may belong to anyone who typed it.
    if (!email || claims?.email_verified !== true) throw new OAuthError('access_denied', `${this.label} did not confirm a verified e-mail address (email_verified must be true)`);
    const domain = email.slice(email.lastIndexOf('@'));
    if (!this.settings.allowedEmails.some((a) => a === email || a === domain)) {
      throw new OAuthError('access_denied', `${email} is not allowed to approve access (OAUTH_ALLOWED_EMAILS)`);
    }
    return email;
  }
}
