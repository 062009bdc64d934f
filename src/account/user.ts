/** Latch's account model as the rest of the code sees it: no persistence types, and no password hash. */

export type UserStatus = 'active' | 'disabled' | 'locked';

/** The OpenID Connect standard claims (Core 1.0 §5.1) Latch keeps for a user; null when not set. */
export interface Profile {
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  middleName: string | null;
  nickname: string | null;
  preferredUsername: string | null;
  picture: string | null;
  website: string | null;
  gender: string | null;
  birthdate: string | null;
  zoneinfo: string | null;
  locale: string | null;
  phoneNumber: string | null;
  phoneNumberVerified: boolean;
  updatedAt: Date;
}

/** Claims to change; an absent key is left as it is, null clears it. */
export type ProfilePatch = Partial<Omit<Profile, 'updatedAt'>>;

export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  status: UserStatus;
  createdAt: Date;
  updatedAt: Date;
  profile: Profile;
}
