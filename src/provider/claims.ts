import type { Account, AccountClaims, FindAccount } from 'oidc-provider';
import type { AccountService } from '../account/account-service.js';
import type { User } from '../account/user.js';
import type { Entitlements } from '../authorization/entitlements.js';

/**
 * Which claims each scope releases (OpenID Connect Core §5.4). oidc-provider masks what an
 * account returns with this table, for ID tokens and userinfo alike.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: [
    'name',
    'given_name',
    'family_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  phone: ['phone_number', 'phone_number_verified'],
  /** Every role name of the user, whatever resource server its permissions are for. */
  roles: ['roles'],
} as const;

/** Every standard claim Latch holds for a user; unset ones are left out rather than sent as null. */
export function claimsOf(user: User): AccountClaims {
  const { profile } = user;
  const claims = {
    sub: user.id,
    email: user.email,
    email_verified: user.emailVerified,
    name: profile.name,
    given_name: profile.givenName,
    family_name: profile.familyName,
    middle_name: profile.middleName,
    nickname: profile.nickname,
    preferred_username: profile.preferredUsername,
    picture: profile.picture,
    website: profile.website,
    gender: profile.gender,
    birthdate: profile.birthdate,
    zoneinfo: profile.zoneinfo,
    locale: profile.locale,
    // OpenID Connect: seconds since the epoch of the last change to the End-User's information.
    updated_at: Math.floor(profile.updatedAt.getTime() / 1000),
    phone_number: profile.phoneNumber,
    phone_number_verified: profile.phoneNumber === null ? null : profile.phoneNumberVerified,
  };
  return { ...Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== null)), sub: user.id };
}

/**
 * oidc-provider's view of an account. A disabled or deleted account is no account: its codes,
 * refresh tokens and userinfo calls fail from that moment on. Roles are read only when the
 * `roles` scope was granted, and then at each ID token or userinfo response, so a change shows at once.
 */
export function createFindAccount(accounts: Pick<AccountService, 'findActive'>, entitlements: Entitlements): FindAccount {
  return async (_ctx, sub): Promise<Account | undefined> => {
    const user = await accounts.findActive(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      claims: async (_use, scope) => {
        if (!scope.split(' ').includes('roles')) return claimsOf(user);
        const roles = await entitlements.rolesOf({ kind: 'user', id: user.id }, undefined);
        return { ...claimsOf(user), roles: roles.map((role) => role.name) };
      },
    };
  };
}
