import { networkKey } from '../../src/throttle/network-key.js';

describe('networkKey', () => {
  it('keeps an IPv4 address as it is, also when IPv4-mapped', () => {
    expect(networkKey('203.0.113.7')).toBe('203.0.113.7');
    expect(networkKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const key = '2001:db8:1:2::/64';
    expect(networkKey('2001:db8:1:2::1')).toBe(key);
    expect(networkKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe(key);
    expect(networkKey('2001:DB8:1:2:0:0:0:9%eth0')).toBe(key);
    expect(networkKey('2001:db8:1:3::1')).not.toBe(key);
    expect(networkKey('::1')).toBe('0:0:0:0::/64');
    expect(networkKey('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('leaves anything else as it is', () => {
    expect(networkKey('unknown')).toBe('unknown');
  });
});
