import ipaddr from 'ipaddr.js';

/**
 * The hub's one test for "may an outbound request go to this address": only global unicast addresses qualify.
 * ipaddr.js names every special range (private, loopback, link-local incl. 169.254.169.254, CGNAT, unspecified 0/8,
 * multicast, broadcast, reserved, IPv6 unique-local and link-local, and the IPv4-embedding IPv6 forms: NAT64, 6to4,
 * Teredo), so anything but 'unicast' is refused. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as a.b.c.d.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.range() === 'unicast';
}
