import { NextResponse, type NextRequest } from 'next/server';
import { refreshTokens } from './lib/latch';
import { readSession, sessionCookies } from './lib/session';

/** Renew a little early: the request still has to reach Latch's API with the token. */
const EARLY_SECONDS = 2;

/**
 * Runs before every page and server action, and renews Latch's access token once it has expired.
 * Here, unlike in a page, the rotated tokens can be written to the session cookie: to the request
 * (so that the page or action about to run reads them) and to the response (so that the browser
 * keeps them, and the spent refresh token is never presented again).
 */
export async function proxy(request: NextRequest): Promise<NextResponse> {
  const token = await readSession(request.cookies);
  if (!token?.expiresAt || Date.now() / 1000 < token.expiresAt - EARLY_SECONDS) return NextResponse.next();

  let renewed = null;
  try {
    renewed = await refreshTokens(token);
  } catch (error) {
    // Revoked, expired, or signed out at Latch: the app's session ends too (null deletes it).
    console.warn(`Latch did not renew the tokens, signing out: ${error instanceof Error ? error.message : String(error)}`);
  }
  const cookies = await sessionCookies(renewed, request.cookies);
  for (const { name, value, maxAge } of cookies) {
    if (maxAge === 0) request.cookies.delete(name);
    else request.cookies.set(name, value);
  }
  const response = NextResponse.next({ request: { headers: request.headers } });
  for (const cookie of cookies) response.cookies.set(cookie);
  return response;
}

export const config = {
  // Pages and server actions; not NextAuth's routes (/api/auth), static files, or prefetches,
  // which would renew (and so rotate) the tokens in parallel with the page they prefetch for.
  matcher: [
    {
      source: '/((?!api/|_next/static|_next/image|favicon.ico).*)',
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
};
