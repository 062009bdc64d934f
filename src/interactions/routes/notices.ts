import type { Context } from 'koa';
import { INTERACTION_PATH } from '../../provider/configuration.js';

/** What the sign-in page may be opened to say, by a fixed key: a URL never carries the text itself. */
export const SIGN_IN_NOTICES = {
  email_verified: 'Your email address is verified. Sign in to continue.',
  sign_in_to_resend: 'Sign in to have a new verification link sent.',
  password_reset: 'Your password has been changed and every device was signed out. Sign in with your new password.',
} as const;

export type SignInNotice = keyof typeof SIGN_IN_NOTICES;

export function noticeOf(value: unknown): string | undefined {
  return typeof value === 'string' && Object.hasOwn(SIGN_IN_NOTICES, value) ? SIGN_IN_NOTICES[value as SignInNotice] : undefined;
}

/** The URL of an interaction's sign-in page, saying `notice`. */
export function signInPageUrl(uid: string, notice: SignInNotice): string {
  return `${INTERACTION_PATH}/${encodeURIComponent(uid)}?notice=${notice}`;
}

export function signInPageWith(ctx: Context, uid: string, notice: SignInNotice): void {
  ctx.status = 303;
  ctx.redirect(signInPageUrl(uid, notice));
}
