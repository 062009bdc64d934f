import type { Middleware } from 'koa';
import type { AccountReturnPath, AccountVisitor } from './account-sign-in.js';
import { SignedOutError, StaleSignInError } from './errors.js';

/**
 * How recent a sign-in must be to change how the account signs in or where its mail goes. A stolen
 * session cookie alone then cannot add the thief's passkey or authenticator, remove the owner's, or
 * move the address a password reset is mailed to: each asks for the password (and second factor)
 * again once this has passed, as GitHub's "sudo mode" does.
 */
export const RECENT_SIGN_IN_SECONDS = 15 * 60;

export function signedInRecently(visitor: AccountVisitor, now: () => Date): boolean {
  return now().getTime() / 1000 - visitor.authTime <= RECENT_SIGN_IN_SECONDS;
}

/** After the account form's guard: a post from a session whose sign-in is older is refused, nothing changed. */
export function requireRecentSignIn(now: () => Date, returnTo: AccountReturnPath): Middleware {
  return async (ctx, next) => {
    const visitor = ctx.state.accountVisitor;
    if (!visitor) throw new SignedOutError();
    if (!signedInRecently(visitor, now)) throw new StaleSignInError(returnTo);
    await next();
  };
}
