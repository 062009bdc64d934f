import { Secret, TOTP } from 'otpauth';
import { Browser, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, type TestUser } from '../support/sign-in.js';
import { atRedirect, Authorization, signInForm, testClient, type TestClient } from './support.js';

const MFA = 'urn:latch:acr:mfa';
const PHR = 'urn:latch:acr:phr';

const codeFor = (secret: string, at = Date.now()) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
const secretOn = (page: Page) => {
  const secret = /<code class="setup-key">([A-Z2-7]+)<\/code>/.exec(page.html)?.[1];
  if (!secret) throw new Error(`no setup key on:\n${page.html}`);
  return secret;
};

async function passwordStep(client: TestClient, user: TestUser, params: Record<string, string> = {}, browser = new Browser()) {
  const authorization = await Authorization.start(client, params);
  const page = await signInForm(await authorization.open(browser), user.email, user.password, browser);
  return { authorization, browser, page };
}

/** The enrolment page of a sign-in: set the app up with the key shown, save the codes, go on to the client. */
async function enrolDuringSignIn(browser: Browser, page: Page): Promise<{ page: Page; secret: string }> {
  expect(page.html).toContain('<h1>Set up two-step verification</h1>');
  expect(page.html).toContain('Setup key');
  const secret = secretOn(page);
  const codes = await browser.submit(page, { code: codeFor(secret) }, { button: 'Turn on', stopAt: atRedirect });
  expect(codes.html).toContain('<h1>Your recovery codes</h1>');
  return { page: await browser.submit(codes, {}, { button: 'I have saved them: continue', stopAt: atRedirect }), secret };
}

function errorAt(page: Page) {
  expect(atRedirect(page.url)).toBe(true);
  return { error: page.url.searchParams.get('error'), description: page.url.searchParams.get('error_description') };
}

describe('with MFA_REQUIRED=off', () => {
  let running: RunningLatch;
  let client: TestClient;

  beforeAll(async () => {
    running = await startLatch();
    client = await testClient(running, { first_party: true });
  });
  afterAll(() => running.stop());

  it('publishes the acr values in discovery', async () => {
    const discovery = await running.http().get('/.well-known/openid-configuration');
    expect(discovery.body.acr_values_supported).toEqual(['urn:latch:acr:pwd', MFA, PHR]);
    expect(discovery.body.claims_supported).toEqual(expect.arrayContaining(['acr', 'amr']));
  });

  it('acr_values asking for multi-factor makes a password-only user set up a factor right there, then continues', async () => {
    const user = await createUser(running);
    const { authorization, browser, page } = await passwordStep(client, user, { acr_values: MFA });
    const enrolled = await enrolDuringSignIn(browser, page);
    const claims = (await authorization.redeem(enrolled.page.url)).claims();
    expect(claims?.acr).toBe(MFA);
    expect(claims?.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(await running.latch.factors.hasSecondFactor(user.id)).toBe(true);
  });

  it('a user who does not set one up leaves the client with unmet_authentication_requirements, never a password-only sign-in', async () => {
    const user = await createUser(running);
    const { browser, page } = await passwordStep(client, user, { acr_values: MFA });
    const answer = await browser.submit(page, {}, { button: 'Not now', stopAt: atRedirect });
    expect(errorAt(answer).error).toBe('unmet_authentication_requirements');
  });

  it('a level no factor of the user reaches (phishing-resistant), or an acr Latch does not know, is unmet_authentication_requirements', async () => {
    const user = await createUser(running);
    expect(errorAt((await passwordStep(client, user, { acr_values: PHR })).page).error).toBe('unmet_authentication_requirements');
    expect(errorAt((await passwordStep(client, user, { acr_values: 'urn:example:gold' })).page).error).toBe('unmet_authentication_requirements');
  });

  it('steps up a password-only session when a client asks for multi-factor, with max_age handled by oidc-provider', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    const first = await passwordStep(client, user, {}, browser);
    expect((await first.authorization.redeem(first.page.url)).claims()?.acr).toBe('urn:latch:acr:pwd');

    // The same browser, signed in with a password only: asked to sign in again, then to set up a factor.
    const stepUp = await Authorization.start(client, { acr_values: MFA });
    const login = await stepUp.open(browser);
    expect(login.html).toContain('name="password"');
    const enrolled = await enrolDuringSignIn(browser, await signInForm(login, user.email, user.password, browser));
    expect((await stepUp.redeem(enrolled.page.url)).claims()?.acr).toBe(MFA);

    // Now multi-factor, the session answers the same request without asking anything.
    const again = await Authorization.start(client, { acr_values: MFA });
    const answer = await again.open(browser);
    expect(atRedirect(answer.url)).toBe(true);
    expect((await again.redeem(answer.url)).claims()?.amr).toEqual(['pwd', 'otp', 'mfa']);

    // max_age=0 asks for a fresh sign-in: the password, then the factor again.
    const fresh = await Authorization.start(client, { max_age: '0' });
    const relogin = await fresh.open(browser);
    expect(relogin.html).toContain('name="password"');
    expect((await signInForm(relogin, user.email, user.password, browser)).html).toContain('Authentication code');
  });

  it('a client with latch_mfa_required makes every sign-in to it multi-factor, whatever its request says', async () => {
    const strict = await testClient(running, { first_party: true, latch_mfa_required: true } as never);
    const user = await createUser(running);
    const { browser, page, authorization } = await passwordStep(strict, user, { acr_values: 'urn:latch:acr:pwd' });
    const enrolled = await enrolDuringSignIn(browser, page);
    expect((await authorization.redeem(enrolled.page.url)).claims()?.acr).toBe(MFA);
  });
});

describe('with MFA_REQUIRED=all', () => {
  let running: RunningLatch;
  let client: TestClient;

  beforeAll(async () => {
    running = await startLatch({ MFA_REQUIRED: 'all' });
    client = await testClient(running, { first_party: true });
  });
  afterAll(() => running.stop());

  it('every user sets a factor up at their next sign-in, and gives it at the one after', async () => {
    const user = await createUser(running);
    const first = await passwordStep(client, user);
    const { page, secret } = await enrolDuringSignIn(first.browser, first.page);
    expect((await first.authorization.redeem(page.url)).claims()?.acr).toBe(MFA);

    const next = await passwordStep(client, user);
    expect(next.page.html).toContain('Authentication code');
    const answer = await next.browser.submit(next.page, { code: codeFor(secret, Date.now() + 30_000) }, { button: 'Verify', stopAt: atRedirect });
    expect((await next.authorization.redeem(answer.url)).claims()?.amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('a new account sets one up right after registering', async () => {
    const browser = new Browser();
    const authorization = await Authorization.start(client);
    const login = await authorization.open(browser);
    const form = await browser.navigate(new URL(/href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] ?? '', running.baseUrl));
    const registered = await browser.submit(form, { name: 'Ada', email: `new-${Date.now()}@example.com`, password: 'correct horse battery staple' }, { button: 'Create account', stopAt: atRedirect });
    const { page } = await enrolDuringSignIn(browser, registered);
    expect((await authorization.redeem(page.url)).claims()?.acr).toBe(MFA);
  });
});

describe('with MFA_REQUIRED=admins', () => {
  let running: RunningLatch;
  let client: TestClient;

  beforeAll(async () => {
    running = await startLatch({ MFA_REQUIRED: 'admins' });
    client = await testClient(running, { first_party: true });
  });
  afterAll(() => running.stop());

  it('users with the admin role set a factor up at sign-in; others sign in with their password', async () => {
    const user = await createUser(running);
    const plain = await passwordStep(client, user);
    expect((await plain.authorization.redeem(plain.page.url)).claims()?.acr).toBe('urn:latch:acr:pwd');

    const admin = await createUser(running);
    await running.latch.authorization.assignments.assign({ user: admin.id }, 'admin', 'test');
    const { authorization, browser, page } = await passwordStep(client, admin);
    const enrolled = await enrolDuringSignIn(browser, page);
    expect((await authorization.redeem(enrolled.page.url)).claims()?.acr).toBe(MFA);
  });
});
