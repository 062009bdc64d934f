/** MFA_REQUIRED: who must have a second factor to sign in at all. */
export const MFA_POLICIES = ['off', 'admins', 'all'] as const;
export type MfaPolicy = (typeof MFA_POLICIES)[number];

/** Whether a user must sign in with a second factor (and enrol one first), whatever the client asks. */
export type MfaRequiredFor = (userId: string) => Promise<boolean>;

/**
 * `admins` reads the predicate only (users with the `admin` role: the roles live with
 * authorization, not here); `off` and `all` never read anything.
 */
export function mfaRequiredFor(policy: MfaPolicy, { isAdmin }: { isAdmin: (userId: string) => Promise<boolean> }): MfaRequiredFor {
  switch (policy) {
    case 'off':
      return async () => false;
    case 'all':
      return async () => true;
    case 'admins':
      return isAdmin;
  }
}
