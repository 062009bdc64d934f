import type { Profile } from './user.js';

/**
 * The OpenID Connect claim (snake_case) of each profile field (camelCase): what the REST API and
 * the user export and import speak, so a profile read through them looks like the same profile read
 * from userinfo. This table is the one mapping.
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
