import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { ClientMetadata } from 'oidc-provider';
import type { Browser, Page } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import type { RunningLatch } from '../support/latch.js';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const PASSWORD = 'correct horse battery staple';
export const atRedirect = (url: URL) => url.href.startsWith(REDIRECT_URI);

export const uniqueEmail = () => `user-${randomUUID()}@example.com`;

export interface TestClient {
  metadata: ClientMetadata & { client_id: string };
  configuration: oidc.Configuration;
}

/** A confidential client of Latch, as a relying party sees it through discovery. */
export async function testClient(running: RunningLatch, metadata: Parameters<typeof registerClient>[1] = {}): Promise<TestClient> {
  const client = await registerClient(running.latch, {
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    client_name: 'Test App',
    ...metadata,
  });
  const configuration = await oidc.discovery(new URL(running.baseUrl), client.client_id, { redirect_uris: [REDIRECT_URI] }, oidc.ClientSecretBasic(client.client_secret as string), {
    execute: [oidc.allowInsecureRequests],
  });
  return { metadata: client, configuration };
}

/** One authorization request with PKCE, state and nonce, and what is needed to redeem its code. */
export class Authorization {
  private constructor(
    readonly client: TestClient,
    readonly url: URL,
    private readonly verifier: string,
    readonly state: string,
    private readonly nonce: string,
  ) {}

  static async start(client: TestClient, params: Record<string, string> = {}): Promise<Authorization> {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(client.configuration, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    });
    return new Authorization(client, url, verifier, state, nonce);
  }

  /** Opens the authorization URL: the first page shown, or the redirect URI if none is. */
  open(browser: Browser): Promise<Page> {
    return browser.navigate(this.url, { stopAt: atRedirect });
  }

  /** Exchanges the code in the redirect (openid-client validates the ID token). */
  redeem(callback: URL) {
    return oidc.authorizationCodeGrant(this.client.configuration, callback, {
      pkceCodeVerifier: this.verifier,
      expectedState: this.state,
      expectedNonce: this.nonce,
      idTokenExpected: true,
    });
  }
}

export function signInForm(page: Page, email: string, password: string, browser: Browser): Promise<Page> {
  return browser.submit(page, { email, password }, { button: 'Sign in', stopAt: atRedirect });
}

/** The page with what differs on every response (the CSP nonce, the form tokens, the interaction id) blanked out. */
export function stable(page: Page): string {
  return page.html
    .replace(/nonce="[^"]*"/g, 'nonce=""')
    .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value=""')
    .replace(/\/interaction\/[^/"]+/g, '/interaction/UID')
    .replace(/interaction=[^"&]+/g, 'interaction=UID');
}
