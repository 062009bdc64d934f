import { z } from 'zod';
import type { Profile, User } from '../account/user.js';
import { CLAIM_OF_PROFILE_FIELD } from '../account/profile-claims.js';
import { ValidationError } from '../errors.js';

type ProfileField = keyof typeof CLAIM_OF_PROFILE_FIELD;
type ClaimSchemas = { [Field in ProfileField as (typeof CLAIM_OF_PROFILE_FIELD)[Field]]: Profile[Field] extends boolean ? z.ZodBoolean : z.ZodNullable<z.ZodString> };

// Built from the one mapping, so a claim added there is documented (and type-checked) here too.
const claimSchemas = Object.fromEntries(
  (Object.keys(CLAIM_OF_PROFILE_FIELD) as ProfileField[]).map((field) => [CLAIM_OF_PROFILE_FIELD[field], field === 'phoneNumberVerified' ? z.boolean() : z.string().nullable()]),
) as ClaimSchemas;

type ClaimValues = { [Claim in keyof ClaimSchemas]: z.output<ClaimSchemas[Claim]> };

const timestamp = z.iso.datetime();

/**
 * What the API answers for a user: the response schema of the OpenAPI document, and the type
 * presentUser returns. One flat object of claim names, as userinfo answers and as POST /users and
 * PATCH /users/me take them, plus the account's own fields.
 */
export const userRepresentationSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    email_verified: z.boolean(),
    ...claimSchemas,
    status: z.enum(['active', 'disabled', 'locked']),
    created_at: timestamp,
    updated_at: timestamp.describe('The last change to the account or its profile claims.'),
  })
  .meta({ id: 'User', description: 'OpenID Connect standard claims (null when not set) and the account.' });

export type UserRepresentation = z.output<typeof userRepresentationSchema>;

export function presentUser(user: User): UserRepresentation {
  const claims = Object.fromEntries(
    (Object.keys(CLAIM_OF_PROFILE_FIELD) as ProfileField[]).map((field) => [CLAIM_OF_PROFILE_FIELD[field], user.profile[field]]),
  ) as ClaimValues;
  const updatedAt = Math.max(user.updatedAt.getTime(), user.profile.updatedAt.getTime());
  return {
    id: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    ...claims,
    status: user.status,
    created_at: user.createdAt.toISOString(),
    updated_at: new Date(updatedAt).toISOString(),
  };
}

/** Renames the fields of a service's validation issues (givenName) to the names the client sent (given_name). */
export async function inApiNames<T>(operation: Promise<T>, apiNameOfField: Record<string, string>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      error.issues.map((issue) => ({ ...issue, field: apiNameOfField[issue.field] ?? issue.field })),
      error.message,
    );
  }
}
