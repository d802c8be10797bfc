import type { Level } from '../governance/levels.js';
import type { PendingSignIn } from './operator.js';
import type { OAuthStore } from './store.js';

/** A consent in progress, between the authorization request and the operator's answer (stored under `tx:<id>`). */
export interface ConsentTx {
  client_id: string;
  client_name: string;
  /** What identifies the client to a person (its document's host, or its redirect hosts). */
  identity: string;
  redirect_uri: string;
  /** Whether the request named the redirect URI (then the token request must repeat it). */
  redirect_sent: boolean;
  state?: string;
  code_challenge: string;
  requested: Level;
  checked: Level;
  resource: string;
  csrf: string;
  /** Wrong hub keys typed into this consent; it ends at MAX_KEY_FAILURES. */
  key_failures: number;
  /** Set when the operator chose the identity provider: the level they picked and the sign-in in progress. */
  granted?: Level;
  signin?: PendingSignIn;
}

export const CONSENT_TTL_S = 600;
export const CSRF_COOKIE = 'omni_oauth_csrf';
/** Wrong keys one consent survives; the next ends it (a guess then costs a new authorization request). */
export const MAX_KEY_FAILURES = 3;

export async function loadTx(store: OAuthStore, id: string | undefined): Promise<ConsentTx | null> {
  if (!id || id.length > 64) return null;
  const text = await store.get(`tx:${id}`);
  return text ? (JSON.parse(text) as ConsentTx) : null;
}

export const saveTx = (store: OAuthStore, id: string, tx: ConsentTx) => store.set(`tx:${id}`, JSON.stringify(tx), CONSENT_TTL_S);
