import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountService } from '../account/account-service.js';
import type { User } from '../account/user.js';
import { ACCOUNT_CALLBACK_PATH, ACCOUNT_CLIENT_ID, ACCOUNT_PATH, SECURITY_PATH } from './account-client.js';
import { SignInNotCompletedError } from './errors.js';

/** Who is at the account page: Latch's own signed-in session, and its user. */
export interface AccountVisitor {
  user: User;
  sessionUid: string;
  /** When this browser's session last signed in (seconds since the epoch): how recent the proof of identity is. */
  authTime: number;
}

export interface AccountSignIn {
  /** The active user of this browser's Latch session, or undefined. */
  visitor(ctx: Context): Promise<AccountVisitor | undefined>;
  /**
   * Sends the browser to Latch's sign-in pages, through an authorization request of the account
   * client, and afterwards to `returnTo` (the account page unless said). `reauthenticate` asks for a
   * whole new sign-in despite a live session (max_age=0).
   */
  start(ctx: Context, options?: { returnTo?: AccountReturnPath; reauthenticate?: boolean }): void;
  /** GET /account/callback: back from the sign-in pages, on to the account page. */
  finish(ctx: Context): Promise<void>;
}

/** Where a sign-in may come back to: a fixed list, so the state cookie cannot redirect elsewhere. */
const RETURN_PATHS = [ACCOUNT_PATH, SECURITY_PATH] as const;
export type AccountReturnPath = (typeof RETURN_PATHS)[number];
export const isReturnPath = (value: unknown): value is AccountReturnPath => RETURN_PATHS.includes(value as AccountReturnPath);

const STATE_COOKIE = 'latch.account.state';
const STATE_TTL_MS = 60 * 60 * 1000;

/**
 * The account page is signed in by Latch's own session cookie, which oidc-provider reads for it
 * (provider.Session.get), rather than by a session of its own as a relying party would keep:
 * signing out of Latch then signs out of the page, signing a session out from the page ends it
 * everywhere, and there is no second cookie or token to steal or to expire out of step.
 *
 * A browser with no session is sent through an ordinary authorization request of Latch's
 * first-party account client, so the person meets the very sign-in pages (throttling, lockout,
 * registration) every app's users meet. The code that comes back is not what signs in (the
 * session cookie the sign-in set is), so it is destroyed unredeemed once the state matches.
 */
export function createAccountSignIn({ issuer, provider, accounts }: { issuer: string; provider: () => Provider; accounts: Pick<AccountService, 'findActive'> }): AccountSignIn {
  const cookie = { signed: true, httpOnly: true, sameSite: 'lax', path: ACCOUNT_PATH, overwrite: true } as const;

  return {
    async visitor(ctx) {
      const session = await provider().Session.get(ctx);
      if (!session.accountId) return undefined;
      const user = await accounts.findActive(session.accountId);
      return user ? { user, sessionUid: session.uid, authTime: session.authTime() ?? 0 } : undefined;
    },

    start(ctx, { returnTo = ACCOUNT_PATH, reauthenticate = false } = {}) {
      const state = randomBytes(32).toString('base64url');
      ctx.cookies.set(STATE_COOKIE, `${state} ${returnTo}`, { ...cookie, secure: ctx.secure, maxAge: STATE_TTL_MS });
      const url = new URL(`${issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: `${issuer}${ACCOUNT_CALLBACK_PATH}`,
        state,
        // PKCE is required of a public client; the code is never redeemed, so the verifier is not kept.
        code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
        code_challenge_method: 'S256',
        ...(reauthenticate ? { max_age: '0' } : {}),
      }).toString();
      ctx.status = 303;
      ctx.redirect(url.href);
    },

    async finish(ctx) {
      const [expected, returnTo] = ctx.cookies.get(STATE_COOKIE, { signed: true })?.split(' ') ?? [];
      const { state, code, error } = ctx.query;
      if (!expected || state !== expected) throw new SignInNotCompletedError('state_mismatch');
      ctx.cookies.set(STATE_COOKIE, null, { ...cookie, secure: ctx.secure });
      if (typeof code === 'string') {
        const issued = await provider().AuthorizationCode.find(code);
        if (issued?.clientId === ACCOUNT_CLIENT_ID) await issued.destroy();
      }
      if (typeof error === 'string' || typeof code !== 'string') throw new SignInNotCompletedError('cancelled');
      ctx.status = 303;
      ctx.redirect(isReturnPath(returnTo) ? returnTo : ACCOUNT_PATH);
    },
  };
}
