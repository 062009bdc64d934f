/** The browser side of Latch's sign-in: an authorization request, its login page, the form post, the code exchange. */
import { createHash, randomBytes } from 'node:crypto';
import { send, type Response } from './load.js';

export interface App {
  id: string;
  secret: string;
  redirectUri: string;
}

/** Cookies of one browser; Latch's are host-only and path-scoped, and one host is all the bench talks to. */
class Jar {
  readonly #cookies = new Map<string, string>();

  header(): Record<string, string> {
    return this.#cookies.size === 0 ? {} : { cookie: [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  store(response: Response): void {
    const setCookies = response.headers['set-cookie'] ?? [];
    for (const line of Array.isArray(setCookies) ? setCookies : [setCookies]) {
      const [pair = ''] = line.split(';');
      const separator = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
  }
}

const basic = (app: App) => `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`;

/** A login form ready to be posted: the measured step of the sign-in scenario. */
export interface PreparedSignIn {
  jar: Jar;
  action: string;
  csrf: string;
  verifier: string;
}

/** The authorization request (code + PKCE) and its login page, as a browser would fetch them. */
export async function prepareSignIn(port: number, app: App): Promise<PreparedSignIn> {
  const jar = new Jar();
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: app.id,
    response_type: 'code',
    scope: 'openid email profile offline_access',
    redirect_uri: app.redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(12).toString('base64url'),
    nonce: randomBytes(12).toString('base64url'),
  });
  const authorization = await send(port, 'GET', `/auth?${query}`);
  jar.store(authorization);
  const location = authorization.headers.location;
  if (typeof location !== 'string') throw new Error(`authorization answered ${authorization.status}`);
  const page = await send(port, 'GET', new URL(location, 'http://x').pathname, jar.header());
  jar.store(page);
  const action = /<form method="post" action="([^"]+\/login)"/.exec(page.body)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (!action || !csrf) throw new Error(`no login form (${page.status})`);
  return { jar, action, csrf, verifier };
}

/** Posts the login form; resolves with the redirect it answers (303 back to the authorization endpoint). */
export async function postSignIn(port: number, prepared: PreparedSignIn, user: { email: string; password: string }): Promise<Response> {
  const body = new URLSearchParams({ csrf: prepared.csrf, email: user.email, password: user.password }).toString();
  const response = await send(port, 'POST', prepared.action, { ...prepared.jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body);
  prepared.jar.store(response);
  return response;
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/** The whole flow: authorization request, login page, sign-in, the redirect back with the code, the code exchange. */
export async function codeFlow(port: number, app: App, user: { email: string; password: string }): Promise<Tokens> {
  const prepared = await prepareSignIn(port, app);
  let response = await postSignIn(port, prepared, user);
  for (let hops = 0; hops < 5; hops += 1) {
    const location = response.headers.location;
    if (typeof location !== 'string') throw new Error(`sign-in stopped at ${response.status}`);
    if (location.startsWith(app.redirectUri)) {
      const code = new URL(location).searchParams.get('code');
      if (!code) throw new Error(`no code in ${location}`);
      const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: app.redirectUri, code_verifier: prepared.verifier }).toString();
      const exchange = await send(port, 'POST', '/token', { authorization: basic(app), 'content-type': 'application/x-www-form-urlencoded' }, body);
      if (exchange.status !== 200) throw new Error(`code exchange answered ${exchange.status}: ${exchange.body}`);
      return JSON.parse(exchange.body) as Tokens;
    }
    const target = new URL(location, 'http://x');
    response = await send(port, 'GET', `${target.pathname}${target.search}`, prepared.jar.header());
    prepared.jar.store(response);
  }
  throw new Error('too many redirects');
}
