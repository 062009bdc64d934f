import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createLatch } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { Browser, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';
import { atRedirect, Authorization, PASSWORD, signInForm, stable, testClient, uniqueEmail, type TestClient } from './support.js';

const ACCOUNT_LIMIT = 3;
const IP_LIMIT = 6;
const LOCKED = 'Too many attempts. Try again in 15 minutes.';

let running: RunningLatch;
let client: TestClient;
const typed = new Set<string>([PASSWORD]);

beforeAll(async () => {
  running = await startLatch({
    SIGNIN_MAX_FAILURES_PER_ACCOUNT: String(ACCOUNT_LIMIT),
    SIGNIN_MAX_FAILURES_PER_IP: String(IP_LIMIT),
    SIGNIN_LOCKOUT_SECONDS: '900',
  });
  client = await testClient(running);
});

afterAll(async () => {
  await running.stop();
});

// Every test starts with no counters: they all come from 127.0.0.1.
beforeEach(async () => {
  await query(running.databaseUrl, 'DELETE FROM rate_limits');
});

async function createUser() {
  const email = uniqueEmail();
  typed.add(email);
  const user = await running.latch.accounts.register({ email, password: PASSWORD });
  return { id: user.id, email };
}

/** One sign-in attempt in a fresh authorization: the page it answers with, or the redirect back to the client. */
async function attempt(email: string, password: string, baseUrl = running.baseUrl): Promise<Page> {
  typed.add(email);
  typed.add(password);
  const browser = new Browser();
  const authorization = await Authorization.start(client);
  const login = await browser.navigate(new URL(`${authorization.url.pathname}${authorization.url.search}`, baseUrl), { stopAt: atRedirect });
  return signInForm(login, email, password, browser);
}

const signedIn = (page: Page) => /would like to:/.test(page.html) || atRedirect(page.url);
/** The page with the typed email blanked out, to compare pages for different emails. */
const withoutEmail = (page: Page, email: string) => stable(page).replaceAll(email, 'EMAIL');

describe('wrong credentials', () => {
  it('answer an unknown email and a wrong password with the identical page and status', async () => {
    const user = await createUser();
    const unknown = uniqueEmail();

    const wrongPassword = await attempt(user.email, 'not the password at all');
    const unknownEmail = await attempt(unknown, 'not the password at all');

    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(wrongPassword.html).toContain('Email or password is incorrect.');
    expect(withoutEmail(wrongPassword, user.email)).toBe(withoutEmail(unknownEmail, unknown));
    expect(wrongPassword.headers.get('cache-control')).toBe('no-store');
  });
});

describe('lockout per account', () => {
  it.each([
    ['a known email', true],
    ['an unknown email', false],
  ])(`locks %s for the lockout time after ${ACCOUNT_LIMIT} failures, even with the right password`, async (_, known) => {
    const email = known ? (await createUser()).email : uniqueEmail();

    for (let failure = 0; failure < ACCOUNT_LIMIT; failure += 1) {
      expect((await attempt(email, 'wrong password guess')).status).toBe(401);
    }
    const locked = await attempt(email, PASSWORD);

    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(890);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    expect(locked.html).toContain(LOCKED);
    expect(locked.html).not.toContain('Email or password is incorrect');
  });

  it('shows the same lockout page whether or not the account exists', async () => {
    const known = (await createUser()).email;
    const unknown = uniqueEmail();
    for (const email of [known, unknown]) {
      for (let failure = 0; failure < ACCOUNT_LIMIT; failure += 1) await attempt(email, 'wrong password guess');
    }

    const [lockedKnown, lockedUnknown] = [await attempt(known, 'another guess'), await attempt(unknown, 'another guess')];

    expect(lockedKnown.status).toBe(lockedUnknown.status);
    expect(withoutEmail(lockedKnown, known)).toBe(withoutEmail(lockedUnknown, unknown));
  });

  it('counts the email whatever its case or surrounding spaces', async () => {
    const user = await createUser();
    await attempt(user.email, 'wrong password guess');
    await attempt(user.email.toUpperCase(), 'wrong password guess');
    await attempt(`  ${user.email}  `, 'wrong password guess');

    expect((await attempt(user.email, PASSWORD)).status).toBe(429);
  });

  it('leaves other accounts alone, and lifts the lockout when it expires', async () => {
    const locked = await createUser();
    const other = await createUser();
    for (let failure = 0; failure < ACCOUNT_LIMIT; failure += 1) await attempt(locked.email, 'wrong password guess');

    expect(signedIn(await attempt(other.email, PASSWORD))).toBe(true);
    expect((await attempt(locked.email, PASSWORD)).status).toBe(429);

    await query(running.databaseUrl, `UPDATE rate_limits SET expire = now() - interval '1 second'`);
    expect(signedIn(await attempt(locked.email, PASSWORD))).toBe(true);
  });

  it('keeps counters in PostgreSQL, keyed without the email, so that every Latch process sees them', async () => {
    const user = await createUser();
    for (let failure = 0; failure < ACCOUNT_LIMIT; failure += 1) await attempt(user.email, 'wrong password guess');

    const rows = await query<{ key: string }>(running.databaseUrl, 'SELECT key FROM rate_limits');
    expect(rows.map((row) => row.key).sort()).toEqual([expect.stringMatching(/^signin_account:[\w-]{43}$/), 'signin_ip:127.0.0.1']);
    expect(JSON.stringify(rows)).not.toContain(user.email.split('@')[0]);

    // A second Latch process on the same database refuses the same account, and (its first
    // count making the sweep due) removes counters that expired and were never counted again.
    await query(running.databaseUrl, `INSERT INTO rate_limits (key, points, expire) VALUES ('signin_ip:192.0.2.1', 1, now() - interval '1 minute')`);
    const second = await createLatch(running.config, { databaseUrl: running.databaseUrl, logger: createLogger('silent') });
    const server = createServer(second.app.callback()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const page = await attempt(user.email, PASSWORD, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      expect(page.status).toBe(429);
      expect(await query(running.databaseUrl, `SELECT 1 FROM rate_limits WHERE key = 'signin_ip:192.0.2.1'`)).toHaveLength(0);
    } finally {
      server.closeAllConnections();
      server.close();
      await second.close();
    }
  });
});

describe('lockout per IP address', () => {
  it(`locks the address after ${IP_LIMIT} failures across different emails`, async () => {
    const user = await createUser();
    for (let failure = 0; failure < IP_LIMIT; failure += 1) {
      expect((await attempt(uniqueEmail(), 'wrong password guess')).status).toBe(401);
    }

    const locked = await attempt(user.email, PASSWORD);

    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toEqual(expect.stringMatching(/^\d+$/));
    expect(locked.html).toContain(LOCKED);
  });
});

describe('successful sign-ins', () => {
  it('do not count towards the per-IP limit', async () => {
    const user = await createUser();
    for (let success = 0; success < IP_LIMIT + 2; success += 1) {
      expect(signedIn(await attempt(user.email, PASSWORD))).toBe(true);
    }
    expect((await attempt(user.email, 'wrong password guess')).status).toBe(401);
  });

  it('give the attempt back in the statement that records them', async () => {
    const user = await createUser();
    expect((await attempt(user.email, 'wrong password guess')).status).toBe(401);
    expect(signedIn(await attempt(user.email, PASSWORD))).toBe(true);

    // The account's count is cleared, the address's attempt refunded (its failure stays), the event stored.
    expect(await query(running.databaseUrl, "SELECT key LIKE 'signin_ip:%' AS network, points FROM rate_limits ORDER BY key")).toEqual([{ network: true, points: 1 }]);
    expect(await query(running.databaseUrl, "SELECT event FROM audit_events WHERE subject_id = $1 AND event LIKE 'interaction.sign%'", [user.id])).toEqual([{ event: 'interaction.signed_in' }]);
  });

  it("clear the account's failures", async () => {
    const user = await createUser();
    // Two rounds: more failures than the account allows in all, fewer than the address allows.
    for (let round = 0; round < 2; round += 1) {
      for (let failure = 0; failure < ACCOUNT_LIMIT - 1; failure += 1) {
        expect((await attempt(user.email, 'wrong password guess')).status).toBe(401);
      }
      expect(signedIn(await attempt(user.email, PASSWORD))).toBe(true);
    }
  });
});

describe('logs', () => {
  it('never contain a typed password or email', () => {
    const logs = running.logs();
    expect(logs).toContain('interaction.sign_in_locked_out');
    for (const value of typed) expect(logs).not.toContain(value.trim());
  });
});
