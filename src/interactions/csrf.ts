import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { CsrfError } from './errors.js';
import { formField } from './form.js';

export const CSRF_FIELD = 'csrf';
const COOKIE = 'latch.csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface Csrf {
  /** This browser's token for a form: the one its cookie holds, else a new one set in the cookie. */
  token(ctx: Context): string;
  /** Refuses (CsrfError) a post whose token field differs from the cookie's. Runs after the form is parsed. */
  verify(): Middleware;
}

/**
 * Double-submit tokens. The cookie is signed with the app keys, so a sibling subdomain cannot
 * plant a value of its choosing, and SameSite=Lax keeps it off cross-site posts. One token per
 * browser rather than per page, so that two tabs signing in at once do not invalidate each other.
 */
export function createCsrf({ path }: { path: string }): Csrf {
  const read = (ctx: Context) => {
    const value = ctx.cookies.get(COOKIE, { signed: true });
    return value !== undefined && TOKEN.test(value) ? value : undefined;
  };

  return {
    token(ctx) {
      const existing = read(ctx);
      if (existing) return existing;
      const token = randomBytes(32).toString('base64url');
      ctx.cookies.set(COOKIE, token, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, path, overwrite: true });
      return token;
    },

    verify() {
      return (ctx, next) => {
        const expected = read(ctx);
        if (!expected || !sameToken(expected, formField(ctx, CSRF_FIELD))) throw new CsrfError();
        return next();
      };
    },
  };
}

/** Constant-time comparison; hashing first gives equal lengths whatever was posted. */
function sameToken(expected: string, presented: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}
