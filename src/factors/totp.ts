import { Secret, TOTP } from 'otpauth';

/**
 * RFC 6238 as every authenticator app reads it from a QR code: SHA-1, six digits, 30-second steps
 * (apps ignore other parameters silently and then show wrong codes).
 */
const PERIOD_SECONDS = 30;
/** One step either side: a phone clock a little off, or a code typed as it changes. */
const DRIFT_STEPS = 1;
/** 160 bits, RFC 4226's recommended shared secret length. */
const SECRET_BYTES = 20;

export interface TotpIdentity {
  /** Names the service in the authenticator app. */
  issuer: string;
  /** Names the account in the authenticator app. */
  account: string;
}

const totpOf = (secret: string, { issuer, account }: Partial<TotpIdentity> = {}) =>
  new TOTP({ issuer, label: account, algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS, secret: Secret.fromBase32(secret) });

/** A new shared secret, base32 as apps take it typed in. */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The otpauth:// URI a QR code carries to the app. */
export function totpUri(secret: string, identity: TotpIdentity): string {
  return totpOf(secret, identity).toString();
}

/** The time step a code belongs to when it is right for `at` within the drift allowed, else null. */
export function matchTotp(secret: string, code: string, at: Date): number | null {
  const token = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpOf(secret).validate({ token, timestamp: at.getTime(), window: DRIFT_STEPS });
  return delta === null ? null : Math.floor(at.getTime() / 1000 / PERIOD_SECONDS) + delta;
}
