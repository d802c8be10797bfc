import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';
import type { BrowserContext, Page } from 'playwright-core';

/**
 * A real OpenID Connect provider for the sign-in tests: `oidc-provider` from npm with its development login (any login
 * name, any password; the login becomes the account's e-mail address) and consent screens, on a loopback port. The
 * hub is its one client.
 */

const CLIENT = { OAUTH_OIDC_CLIENT_ID: 'omni-hub', OAUTH_OIDC_CLIENT_SECRET: 'hub-secret-at-the-idp' };

export interface TestIdentityProvider {
  issuer: string;
  /** The hub's OAUTH_OIDC_* settings for this provider, allowing `allowedEmails` (OAUTH_ALLOWED_EMAILS). */
  hubEnv(allowedEmails: string): Record<string, string>;
  /** Starts answering, with the hub's callbacks (known once the hub listens) as the client's redirect URIs. */
  serve(redirectUris: string[]): void;
  close(): void;
}

/** `unverified`: logins whose address the provider never verified (no email_verified claim). */
export async function startIdentityProvider(options: { unverified?: readonly string[] } = {}): Promise<TestIdentityProvider> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const unverified = new Set(options.unverified ?? []);
  return {
    issuer,
    hubEnv: (allowedEmails) => ({ OAUTH_OIDC_ISSUER: issuer, ...CLIENT, OAUTH_ALLOWED_EMAILS: allowedEmails }),
    serve(redirectUris) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: CLIENT.OAUTH_OIDC_CLIENT_ID,
            client_secret: CLIENT.OAUTH_OIDC_CLIENT_SECRET,
            redirect_uris: redirectUris,
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        claims: { openid: ['sub'], email: ['email', 'email_verified'] },
        findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, email: id, ...(unverified.has(id) ? {} : { email_verified: true }) }) }),
      });
      server.on('request', provider.callback());
    },
    close: () => void server.close(),
  };
}

/** The provider's pages load web fonts from the internet, which this machine cannot reach: refused at once. */
export async function offlineFonts(context: BrowserContext): Promise<void> {
  await context.route('https://fonts.googleapis.com/**', (route) => route.abort());
}

/** On the provider's development login page: signs in as `login` and continues past its consent screen. */
export async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}
