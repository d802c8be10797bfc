import { z } from 'zod';
import { baseUrl, csv, fail, type Vars } from './fields.js';

/** OAUTH_ALLOWED_EMAILS: addresses and `@domain` entries, lower-cased. */
const emails = z.string().transform((v, ctx) => {
  const entries = csv(v).map((a) => a.toLowerCase());
  return entries.every((a) => /^[^@\s]*@[^@\s]+$/.test(a)) ? entries : fail(ctx, 'list e-mail addresses or @domain entries, comma-separated');
});

/** The hub's OAuth authorization server, and the identity provider its consent and approval pages may sign in with. */
export const oauthVars = {
  OAUTH_ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(60).max(86_400).default(900),
  OAUTH_REFRESH_TOKEN_TTL_S: z.coerce.number().int().min(300).max(365 * 86_400).default(30 * 86_400),
  OAUTH_CODE_TTL_S: z.coerce.number().int().min(10).max(600).default(60),
  OAUTH_REFRESH_GRACE_S: z.coerce.number().int().min(0).max(300).default(60),
  OAUTH_UNUSED_CLIENT_TTL_S: z.coerce.number().int().min(300).max(365 * 86_400).default(86_400),
  OAUTH_DEFAULT_SCOPE: z.enum(['tools:low', 'tools:medium', 'tools:high', 'tools:critical']).default('tools:low'),
  OAUTH_OIDC_ISSUER: baseUrl.optional(),
  OAUTH_OIDC_CLIENT_ID: z.string().optional(),
  OAUTH_OIDC_CLIENT_SECRET: z.string().optional(),
  OAUTH_ALLOWED_EMAILS: emails.optional(),
};

export function oauthConfig(e: Vars<typeof oauthVars>, ctx: z.RefinementCtx) {
  const { OAUTH_OIDC_ISSUER: issuer, OAUTH_OIDC_CLIENT_ID: clientId, OAUTH_OIDC_CLIENT_SECRET: clientSecret, OAUTH_ALLOWED_EMAILS: allowedEmails } = e;
  const oidc = [issuer, clientId, clientSecret, allowedEmails];
  if (oidc.some((v) => v !== undefined) && !oidc.every((v) => v !== undefined)) {
    return fail(ctx, 'OAUTH_OIDC_ISSUER, OAUTH_OIDC_CLIENT_ID, OAUTH_OIDC_CLIENT_SECRET and OAUTH_ALLOWED_EMAILS must be set together', 'OAUTH_OIDC_ISSUER');
  }
  return {
    /**
     * OAuth authorization server: lifetimes in seconds (access tokens, refresh tokens, authorization codes, the window in
     * which a retried refresh gets the same answer, an unapproved registration), and the level a client is told to ask
     * for (the 401 challenge's scope) and the consent page preselects.
     */
    oauth: {
      accessS: e.OAUTH_ACCESS_TOKEN_TTL_S,
      refreshS: e.OAUTH_REFRESH_TOKEN_TTL_S,
      codeS: e.OAUTH_CODE_TTL_S,
      refreshGraceS: e.OAUTH_REFRESH_GRACE_S,
      unusedClientS: e.OAUTH_UNUSED_CLIENT_TTL_S,
      defaultScope: e.OAUTH_DEFAULT_SCOPE,
    },
    /** The consent and approval pages' optional sign-in with an OpenID Connect identity provider (OAUTH_OIDC_*). */
    ...(issuer !== undefined && clientId !== undefined && clientSecret !== undefined && allowedEmails !== undefined
      ? { identityProvider: { issuer, clientId, clientSecret, allowedEmails } }
      : {}),
  };
}
