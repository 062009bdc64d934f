import type { Profile, User } from '../account/user.js';

/**
 * The REST API speaks OpenID Connect claim names (snake_case), so a profile read here looks like
 * the same profile read from userinfo. Domain fields are camelCase; this table is the one mapping.
 */
export const CLAIM_OF_PROFILE_FIELD = {
  name: 'name',
  givenName: 'given_name',
  familyName: 'family_name',
  middleName: 'middle_name',
  nickname: 'nickname',
  preferredUsername: 'preferred_username',
  picture: 'picture',
  website: 'website',
  gender: 'gender',
  birthdate: 'birthdate',
  zoneinfo: 'zoneinfo',
  locale: 'locale',
  phoneNumber: 'phone_number',
  phoneNumberVerified: 'phone_number_verified',
} as const satisfies Record<Exclude<keyof Profile, 'updatedAt'>, string>;

type ProfileField = keyof typeof CLAIM_OF_PROFILE_FIELD;
type ProfileClaims = { [Field in ProfileField as (typeof CLAIM_OF_PROFILE_FIELD)[Field]]: Profile[Field] };

export interface UserRepresentation {
  id: string;
  email: string;
  email_verified: boolean;
  status: User['status'];
  created_at: string;
  updated_at: string;
  profile: ProfileClaims & { updated_at: string };
}

export function presentUser(user: User): UserRepresentation {
  const claims = Object.fromEntries(
    (Object.keys(CLAIM_OF_PROFILE_FIELD) as ProfileField[]).map((field) => [CLAIM_OF_PROFILE_FIELD[field], user.profile[field]]),
  ) as ProfileClaims;
  return {
    id: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    status: user.status,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    profile: { ...claims, updated_at: user.profile.updatedAt.toISOString() },
  };
}
