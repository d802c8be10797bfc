import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../src/net/public-address.js';

describe('isPublicAddress', () => {
  it('accepts global unicast only', () => {
    for (const a of ['140.82.121.3', '8.8.8.8', '2606:4700:4700::1111']) expect(isPublicAddress(a), a).toBe(true);
    for (const a of ['127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.127.0.1', '0.1.2.3', '255.255.255.255', '239.1.1.1', '::', '::1', 'fc00::1', 'fe80::1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1', 'not-an-ip']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });
});
