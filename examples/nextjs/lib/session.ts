import { decode, encode, type JWT } from 'next-auth/jwt';

/**
 * NextAuth's session cookie, read and written as NextAuth does it (same name, encryption and
 * attributes), for where NextAuth cannot write it in the App Router: proxy.ts, which renews the
 * tokens, and the server actions.
 */

const secure = process.env.NEXTAUTH_URL?.startsWith('https://') ?? false;
const NAME = `${secure ? '__Secure-' : ''}next-auth.session-token`;
/** NextAuth's default session.maxAge (30 days), which auth.ts keeps. */
const MAX_AGE = 30 * 24 * 60 * 60;
/** NextAuth splits a longer value over NAME.0, NAME.1, …: a browser keeps 4 KB per cookie. */
const CHUNK = 4096 - 163;

interface Cookie {
  name: string;
  value: string;
}

/** A cookie to send: `await cookies()` and NextResponse's `cookies` both `set` it as it is. */
export interface SessionCookie extends Cookie {
  httpOnly: true;
  sameSite: 'lax';
  path: '/';
  secure: boolean;
  /** 0 deletes it. */
  maxAge: number;
}

const secret = () => process.env.AUTH_SECRET ?? '';
const chunkIndex = (name: string) => Number(name.slice(NAME.length + 1)); // NAME → 0, NAME.1 → 1
const sessionParts = (cookies: { getAll(): Cookie[] }) =>
  cookies
    .getAll()
    .filter(({ name }) => name === NAME || name.startsWith(`${NAME}.`))
    .sort((a, b) => chunkIndex(a.name) - chunkIndex(b.name));

/** The signed-in user's token, Latch's tokens included, or null. */
export async function readSession(cookies: { getAll(): Cookie[] }): Promise<JWT | null> {
  const value = sessionParts(cookies)
    .map((part) => part.value)
    .join('');
  return value ? decode({ token: value, secret: secret() }).catch(() => null) : null;
}

/** The cookies to set so that the session `current` holds becomes `token`; null deletes it. */
export async function sessionCookies(token: JWT | null, current: { getAll(): Cookie[] }): Promise<SessionCookie[]> {
  const cookie = (name: string, value: string, maxAge = MAX_AGE): SessionCookie => ({ name, value, httpOnly: true, sameSite: 'lax', path: '/', secure, maxAge });
  const value = token ? await encode({ token, secret: secret(), maxAge: MAX_AGE }) : '';
  const written: SessionCookie[] = [];
  if (value.length > CHUNK) {
    for (let i = 0; i * CHUNK < value.length; i += 1) written.push(cookie(`${NAME}.${i}`, value.slice(i * CHUNK, (i + 1) * CHUNK)));
  } else if (value) {
    written.push(cookie(NAME, value));
  }
  const stale = sessionParts(current).filter(({ name }) => !written.some((part) => part.name === name));
  return [...stale.map(({ name }) => cookie(name, '', 0)), ...written];
}
