import { timingSafeEqual } from 'node:crypto';
import { parsed, refused, type Parsed } from './format.js';

/**
 * The PHC string format, `$<id>$<param>=<value>,...$<salt>$<hash>`
 * (https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md), for the formats node's
 * crypto verifies (argon2 is read by its own library).
 */
export interface PhcString {
  id: string;
  /** The parameter segment as written: `ln=14,r=8,p=1`, or a bare number in passlib's pbkdf2. */
  parameters: string;
  salt: Buffer;
  hash: Buffer;
}

export function parsePhc(value: string): Parsed<PhcString> {
  const parts = value.split('$');
  if (parts.length !== 5 || parts[0] !== '') return refused('expected $<id>$<parameters>$<salt>$<hash>');
  const [, id = '', parameters = '', salt = '', hash = ''] = parts;
  const saltBytes = decodeBase64(salt);
  const hashBytes = decodeBase64(hash);
  if (!saltBytes || !hashBytes || hashBytes.length === 0) return refused('the salt and the hash must be base64');
  return parsed({ id, parameters, salt: saltBytes, hash: hashBytes });
}

/** `a=1,b=x` as a map; null when a pair is malformed or a name repeats. */
export function parameterMap(segment: string): Map<string, string> | null {
  const values = new Map<string, string>();
  for (const pair of segment.split(',')) {
    const match = /^([a-z]+)=([A-Za-z0-9+/.=-]+)$/.exec(pair);
    if (!match || values.has(match[1] as string)) return null;
    values.set(match[1] as string, match[2] as string);
  }
  return values;
}

/** `a=1,b=2` as a map of integers; null when a value is not a non-negative integer or a name repeats. */
export function integerParameters(segment: string): Map<string, number> | null {
  const values = parameterMap(segment);
  if (!values || ![...values.values()].every((value) => /^\d{1,10}$/.test(value))) return null;
  return new Map([...values].map(([name, value]) => [name, Number(value)]));
}

const BASE64 = /^[A-Za-z0-9+/.]*={0,2}$/;

/**
 * Standard base64, padded or not; passlib writes `.` for `+` ("adapted base64"), which is accepted
 * too since no other alphabet uses it.
 */
export function decodeBase64(text: string): Buffer | null {
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(text.replaceAll('.', '+'), 'base64');
}

/** PHC's B64: standard alphabet, no padding. */
export function encodeBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Constant-time comparison of a derived key with the stored one; different lengths never match. */
export function sameBytes(derived: Buffer, stored: Buffer): boolean {
  return derived.length === stored.length && timingSafeEqual(derived, stored);
}

/** "must be between 1 and 20" style bound check shared by the formats' parameter limits. */
export function outOfRange(name: string, value: number | undefined, min: number, max: number): string | null {
  if (value === undefined) return `${name} is missing`;
  return value >= min && value <= max ? null : `${name} must be between ${min} and ${max}`;
}
