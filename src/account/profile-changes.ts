import { z } from 'zod';
import type { FieldIssue } from '../errors.js';
import type { ProfilePatch } from './user.js';

/** Blank means "clear it": forms submit empty fields rather than leaving them out. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `Use at most ${max} characters.`)
    .transform((value) => (value === '' ? null : value))
    .nullable()
    .optional();

const webAddress = text(2048).refine((value) => value == null || z.url({ protocol: /^https?$/ }).safeParse(value).success, 'Enter an http or https address.');

// OpenID Connect Core §5.1: YYYY-MM-DD, or YYYY alone, or 0000-MM-DD when the year is withheld.
const birthdate = text(10).refine((value) => value == null || /^\d{4}(-\d{2}-\d{2})?$/.test(value), 'Use the form YYYY-MM-DD or YYYY.');

/**
 * The claims a user edits. phone_number_verified is not among them: only a verification may set it,
 * and a new phone number clears it.
 */
const profileChangesSchema = z.strictObject({
  name: text(255),
  givenName: text(255),
  familyName: text(255),
  middleName: text(255),
  nickname: text(255),
  preferredUsername: text(255),
  picture: webAddress,
  website: webAddress,
  gender: text(64),
  birthdate,
  zoneinfo: text(64),
  locale: text(35),
  phoneNumber: text(32),
});

export type ProfileChanges = z.input<typeof profileChangesSchema>;

/** The claims a user edits, in the order forms show them; phone_number_verified is not one. */
export const EDITABLE_PROFILE_FIELDS = [
  'name',
  'givenName',
  'familyName',
  'middleName',
  'nickname',
  'preferredUsername',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'phoneNumber',
] as const satisfies readonly (keyof ProfileChanges)[];

export type ProfileChangesResult = { success: true; patch: Omit<ProfilePatch, 'phoneNumberVerified'> } | { success: false; issues: FieldIssue[] };

/** Validates and tidies user-supplied profile claims. */
export function parseProfileChanges(changes: ProfileChanges): ProfileChangesResult {
  const parsed = profileChangesSchema.safeParse(changes);
  if (parsed.success) return { success: true, patch: parsed.data };
  return { success: false, issues: parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })) };
}
