import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { keyMatcher, type KeyMatcher } from '../http/auth.js';
import type { FailedAuthLimiter } from '../http/failed-auth.js';
import { sha256 } from './clients.js';
import { OAuthError } from './errors.js';
import type { IdentityProviderChecks, IdentityProviderSignIn } from './identity-provider.js';
import { randomId, safeEqual } from './server.js';

/**
 * How a person proves at a hub page that they operate the hub: a hub key typed into a form (counted, per client
 * address, in the same failed-key limiter as the API's bearer keys, shared through Redis when set), or a sign-in with
 * the configured OpenID Connect provider limited to allowed e-mail addresses. The sign-in's return is bound to the
 * browser that started it: the POST that starts it sets a per-sign-in value in a SameSite=Lax cookie, and the return
 * counts only with that cookie, so a provider URL sent to someone else's browser proves nothing.
 *
 * Used by the OAuth consent page; any other page that needs an operator's approval uses it the same way.
 */

/** The sign-in binding cookie: Lax, because the provider's redirect back is a cross-site top-level navigation. */
const BINDING_COOKIE = 'omni_operator_signin';

/** A key check's answer: the key's id, or a refusal (retryAfterS > 0: the address is blocked for that long). */
export type KeyVerdict = { ok: true; keyId: string } | { ok: false; retryAfterS: number };

/** A sign-in in progress: what the page stores with its own state and hands back to `finishSignIn`. */
export interface PendingSignIn {
  checks: IdentityProviderChecks;
  /** sha256 of the value in the browser's binding cookie. */
  binding: string;
}

export class OperatorProof {
  private readonly keys: KeyMatcher;

  constructor(
    config: Config,
    private readonly limiter: FailedAuthLimiter,
    readonly identityProvider: IdentityProviderSignIn | null,
  ) {
    this.keys = keyMatcher(config.apiKeys);
  }

  /**
   * A hub key typed by the caller. Blocked addresses are refused before the key is looked at (so the page is no way
   * around the API's limit); a wrong key counts as one failed attempt of the address.
   */
  async checkKey(request: FastifyRequest, key: string | undefined): Promise<KeyVerdict> {
    const retry = await this.limiter.blocked(request.ip);
    if (retry > 0) return { ok: false, retryAfterS: retry };
    const id = key ? this.keys.match(key) : null;
    if (id) return { ok: true, keyId: id };
    await this.limiter.fail(request.ip);
    return { ok: false, retryAfterS: 0 };
  }

  /**
   * Starts the provider sign-in: returns the provider URL to send the browser to and what to store until it returns
   * to `callbackUrl`; sets the binding cookie on `reply` (path `cookiePath`, where the callback is).
   */
  async startSignIn(reply: FastifyReply, callbackUrl: string, cookiePath: string, maxAgeS: number): Promise<{ url: string; pending: PendingSignIn }> {
    if (!this.identityProvider) throw new OAuthError('invalid_request', 'no identity provider is configured');
    const started = await this.identityProvider.start(callbackUrl);
    const binding = randomId();
    reply.setCookie(BINDING_COOKIE, binding, { path: cookiePath, httpOnly: true, sameSite: 'lax', secure: callbackUrl.startsWith('https:'), maxAge: maxAgeS });
    return { url: started.url, pending: { checks: started.checks, binding: sha256(binding) } };
  }

  /** Whether the browser returning from the provider is the one that started `pending`. */
  sameBrowser(request: FastifyRequest, pending: PendingSignIn): boolean {
    const presented = request.cookies[BINDING_COOKIE];
    return !!presented && safeEqual(sha256(presented), pending.binding);
  }

  /** Completes the sign-in in the browser that started it: the verified, allowed e-mail address. */
  async finishSignIn(request: FastifyRequest, reply: FastifyReply, currentUrl: URL, pending: PendingSignIn, cookiePath: string): Promise<string> {
    if (!this.identityProvider) throw new OAuthError('invalid_request', 'no identity provider is configured');
    reply.clearCookie(BINDING_COOKIE, { path: cookiePath });
    if (!this.sameBrowser(request, pending)) throw new OAuthError('access_denied', 'the sign-in finished in a browser that did not start it');
    return this.identityProvider.finish(currentUrl, pending.checks);
  }
}
