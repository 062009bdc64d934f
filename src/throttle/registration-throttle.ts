import { networkKey } from './network-key.js';
import type { Limit, RateLimits } from './rate-limits.js';

export interface RegistrationThrottle {
  /** Counts a registration attempt from this IP: null when allowed, else the seconds to wait. */
  attempt(ip: string): Promise<number | null>;
}

/** The registration form and POST /api/v1/users share it. Every submission counts, failed ones too: each may cost an argon2 hash, and scripted sign-ups fail a lot. */
export function createRegistrationThrottle(rateLimits: RateLimits, { registrationsPerIpPerMinute }: { registrationsPerIpPerMinute: number }): RegistrationThrottle {
  const perIp: Limit = { keyPrefix: 'registration_ip', points: registrationsPerIpPerMinute, durationSeconds: 60 };
  return {
    attempt: (ip) => rateLimits.consume([{ limit: perIp, key: networkKey(ip) }]),
  };
}
