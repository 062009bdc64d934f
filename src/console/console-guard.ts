import type { Context, Middleware } from 'koa';
import { UnauthorizedError } from '../errors.js';
import type { ConsoleTokens, SealedCookie } from './console-session.js';
import type { ConsoleSignIn } from './console-sign-in.js';
import { ConsoleSignedOutError, StaleSignInError } from './errors.js';

declare module 'koa' {
  interface DefaultState {
    /** The console session's tokens, once the guard has let the request through. */
    consoleTokens?: ConsoleTokens;
  }
}

/**
 * Every console request is authorized through the administrator's own access token, by the very
 * middleware that guards the admin API (`adminGuard`: token active, account active, roles still
 * granting `admin`), so a disabled administrator, a removed role or a revoked token stops the
 * console at the next click. The token is the session's, never the browser's: whatever
 * Authorization header the browser sent is replaced before the guard reads it.
 *
 * An access token that no longer authenticates (expired, most often) is refreshed once; a refresh
 * that fails ends the console session. A token that authenticates but lacks the rights is a 403.
 */
export function consoleGuard({ session, signIn, adminGuard }: { session: SealedCookie<ConsoleTokens>; signIn: Pick<ConsoleSignIn, 'refresh'>; adminGuard: Middleware }): Middleware {
  const authorize = async (ctx: Context, tokens: ConsoleTokens) => {
    ctx.req.headers.authorization = `Bearer ${tokens.accessToken}`;
    try {
      await adminGuard(ctx, async () => {});
    } finally {
      delete ctx.req.headers.authorization;
    }
  };

  return async (ctx, next) => {
    let tokens = await session.read(ctx);
    if (!tokens) throw new ConsoleSignedOutError();
    try {
      await authorize(ctx, tokens);
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      const refreshed = await signIn.refresh(tokens);
      if (!refreshed) {
        session.clear(ctx);
        throw new ConsoleSignedOutError();
      }
      tokens = refreshed;
      await session.write(ctx, tokens);
      await authorize(ctx, tokens);
    }
    ctx.state.consoleTokens = tokens;
    await next();
  };
}

/** For destructive actions: the administrator signed in no longer ago than `maxAgeSeconds`. */
export function recentSignIn({ maxAgeSeconds, now }: { maxAgeSeconds: number; now: () => Date }): Middleware {
  return async (ctx, next) => {
    const authTime = ctx.state.consoleTokens?.authTime ?? 0;
    if (now().getTime() / 1000 - authTime > maxAgeSeconds) throw new StaleSignInError();
    await next();
  };
}
