/**
 * Latch's Authentication Context Class References, weakest first: a client names the weakest it
 * accepts in acr_values and Latch answers with the one the sign-in reached.
 * - pwd: one factor (a password);
 * - mfa: two factors, or one that is two in itself (a passkey with user verification);
 * - phr: phishing-resistant, bound to Latch's origin by the browser (WebAuthn).
 */
export const ACR = {
  pwd: 'urn:latch:acr:pwd',
  mfa: 'urn:latch:acr:mfa',
  phr: 'urn:latch:acr:phr',
} as const;

export const ACR_VALUES: readonly string[] = [ACR.pwd, ACR.mfa, ACR.phr];

/** An index into ACR_VALUES: a higher level satisfies every lower one. */
export type Level = number;
export const LEVEL = { pwd: 0, mfa: 1, phr: 2 } as const;
/** What acr_values asks for when it names no value Latch knows: nothing Latch could truthfully claim. */
export const UNREACHABLE: Level = Number.POSITIVE_INFINITY;

/** The level an acr_values parameter asks for: its weakest known value, none when absent. */
export function requestedLevel(acrValues: unknown): Level {
  if (typeof acrValues !== 'string' || acrValues.trim() === '') return LEVEL.pwd;
  const levels = acrValues.split(' ').map((value) => ACR_VALUES.indexOf(value)).filter((level) => level >= 0);
  return levels.length === 0 ? UNREACHABLE : Math.min(...levels);
}

/** The level of a sign-in's acr; a session from before acr was recorded had a password only. */
export function levelOfAcr(acr: unknown): Level {
  const level = typeof acr === 'string' ? ACR_VALUES.indexOf(acr) : -1;
  return Math.max(level, LEVEL.pwd);
}

/** RFC 8176 methods: WebAuthn proof (hwk/swk) with user verification is phishing-resistant; `mfa` is two factors. */
export function levelOfAmr(amr: readonly string[]): Level {
  if ((amr.includes('hwk') || amr.includes('swk')) && (amr.includes('user') || amr.includes('mfa'))) return LEVEL.phr;
  return amr.includes('mfa') ? LEVEL.mfa : LEVEL.pwd;
}

export function acrOf(amr: readonly string[]): string {
  return ACR_VALUES[levelOfAmr(amr)] ?? ACR.pwd;
}

/** The methods of a first factor and a second together: both, and `mfa`. */
export function combinedAmr(first: readonly string[], second: readonly string[]): string[] {
  return [...new Set([...first, ...second, 'mfa'])];
}
