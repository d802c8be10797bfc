import type { Config } from '../config.js';

/** What Fastify's `trustProxy` option takes: nothing trusted, trusted addresses/CIDRs, or a per-hop decision. */
export type TrustProxyOption = false | string[] | ((address: string, hop: number) => boolean);

/**
 * TRUST_PROXY as a Fastify option. A hop count becomes a function trusting the first `hops` addresses counted from the
 * socket (proxy-addr's meaning of a number), so the client address is the right-most untrusted X-Forwarded-For entry.
 * Fastify itself turns a bare number into "trust nothing" (it cannot check who the peer is), which would make every
 * client behind Cloud Run share the front end's address. A hop count is right only when the hub is reachable solely
 * through that many proxies (Cloud Run: 1); otherwise list the proxies' CIDRs.
 */
export function trustProxyOption(trust: Config['trustProxy']): TrustProxyOption {
  if (typeof trust !== 'number') return trust;
  const hops = trust;
  return (_address, hop) => hop < hops;
}
