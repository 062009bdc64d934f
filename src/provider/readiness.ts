import type { ReadinessCheck } from '../http/health.js';
import { SIGNING_ALGORITHMS } from './keys/key-ring.js';
import type { ProviderHost } from './provider-host.js';

/** Ready when the provider holds a signing key for every algorithm it offers. */
export function signingKeysLoaded(host: ProviderHost): ReadinessCheck {
  return {
    name: 'signing_keys',
    async check() {
      const missing = SIGNING_ALGORITHMS.filter((alg) => !host.keyRing().signers[alg]);
      if (missing.length > 0) throw new Error(`no signing key for ${missing.join(', ')}`);
    },
  };
}
