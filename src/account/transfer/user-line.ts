import { z } from 'zod';
import { CLAIM_OF_PROFILE_FIELD } from '../profile-claims.js';
import { checkEmail, normalizeEmail } from '../email.js';
import { fromFirebaseExport } from '../password-hashes/firebase-scrypt.js';
import { hashProblem, NO_PASSWORD } from '../password-hashes/registry.js';
import { parseProfileChanges } from '../profile-changes.js';
import type { ProfilePatch, User, UserStatus } from '../user.js';

/**
 * One user per line of an import or an export, in OpenID Connect claim names like the REST API:
 * `{"email": "ada@example.com", "email_verified": true, "name": "Ada", "roles": ["admin"],
 * "password_hash": "$2b$10$..."}`. An export line is an import line, so files round-trip.
 */

type TextField = Exclude<keyof typeof CLAIM_OF_PROFILE_FIELD, 'phoneNumberVerified'>;
const TEXT_FIELDS = (Object.keys(CLAIM_OF_PROFILE_FIELD) as (keyof typeof CLAIM_OF_PROFILE_FIELD)[]).filter((field): field is TextField => field !== 'phoneNumberVerified');

const firebaseScrypt = z.strictObject({
  algorithm: z.literal('firebase-scrypt'),
  hash: z.string().max(1024),
  salt: z.string().max(1024),
  signer_key: z.string().max(1024),
  salt_separator: z.string().max(1024),
  rounds: z.int().positive(),
  memory_cost: z.int().positive(),
});

const lineSchema = z.strictObject({
  // Keeping the id keeps `sub`: apps that know their users by it see the same users after a move.
  id: z.uuid().toLowerCase().optional(),
  email: z.string(),
  email_verified: z.boolean().default(false),
  status: z.enum(['active', 'disabled', 'locked']).default('active'),
  ...(Object.fromEntries(TEXT_FIELDS.map((field) => [CLAIM_OF_PROFILE_FIELD[field], z.string().nullable().optional()])) as Record<
    (typeof CLAIM_OF_PROFILE_FIELD)[TextField],
    z.ZodOptional<z.ZodNullable<z.ZodString>>
  >),
  phone_number_verified: z.boolean().default(false),
  roles: z.array(z.string().min(1).max(100)).max(100).default([]),
  // A user imported without one has no password until a reset link sets it.
  password_hash: z.union([z.string().max(1024), firebaseScrypt]).optional(),
});

export type UserLine = z.input<typeof lineSchema>;

/** A line's user, checked as registration checks one, with a hash Latch can verify. */
export interface ImportedUser {
  id?: string;
  email: string;
  emailVerified: boolean;
  status: UserStatus;
  profile: ProfilePatch;
  roles: string[];
  passwordHash: string;
}

export type ParsedLine = { ok: true; user: ImportedUser } | { ok: false; reason: string };

const refuse = (reason: string): ParsedLine => ({ ok: false, reason });

/** The user a line of JSON describes, or why it is refused (the first problem found, in words). */
export function parseUserLine(text: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse('not valid JSON');
  }
  const parsed = lineSchema.safeParse(json);
  if (!parsed.success) return refuse(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'line'}: ${issue.message}`).join('; '));
  const line = parsed.data;

  const email = normalizeEmail(line.email);
  const [emailIssue] = checkEmail(email);
  if (emailIssue) return refuse(`email: ${emailIssue.message}`);

  const profile = parseProfileChanges(Object.fromEntries(TEXT_FIELDS.map((field) => [field, line[CLAIM_OF_PROFILE_FIELD[field]]])));
  if (!profile.success) return refuse(profile.issues.map((issue) => `${CLAIM_OF_PROFILE_FIELD[issue.field as TextField] ?? issue.field}: ${issue.message}`).join('; '));

  const passwordHash = storedHashOf(line.password_hash);
  if (!passwordHash.ok) return refuse(`password_hash: ${passwordHash.reason}`);

  return {
    ok: true,
    user: {
      ...(line.id ? { id: line.id } : {}),
      email,
      emailVerified: line.email_verified,
      status: line.status,
      profile: { ...profile.patch, phoneNumberVerified: line.phone_number_verified },
      roles: [...new Set(line.roles)],
      passwordHash: passwordHash.hash,
    },
  };
}

function storedHashOf(given: z.output<typeof lineSchema>['password_hash']): { ok: true; hash: string } | { ok: false; reason: string } {
  if (given === undefined) return { ok: true, hash: NO_PASSWORD };
  if (typeof given === 'string') {
    const problem = hashProblem(given);
    return problem ? { ok: false, reason: problem } : { ok: true, hash: given };
  }
  const stored = fromFirebaseExport(given);
  return stored.ok ? { ok: true, hash: stored.value } : { ok: false, reason: `invalid firebase-scrypt hash: ${stored.problem}` };
}

/** The line a user exports as: only the claims it has, its hash only when asked for (and when it has one). */
export function userLineOf(user: User, roles: string[], passwordHash: string | undefined): UserLine {
  const claims = Object.fromEntries(TEXT_FIELDS.flatMap((field) => (user.profile[field] === null ? [] : [[CLAIM_OF_PROFILE_FIELD[field], user.profile[field]]])));
  return {
    id: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    status: user.status,
    ...claims,
    ...(user.profile.phoneNumber === null ? {} : { phone_number_verified: user.profile.phoneNumberVerified }),
    roles,
    ...(passwordHash !== undefined && passwordHash !== NO_PASSWORD ? { password_hash: passwordHash } : {}),
  };
}
