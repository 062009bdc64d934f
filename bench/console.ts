/**
 * The admin console's server-side render times with 10,000 users in the database (issue 14's bar:
 * every page under 50 ms). Latch runs in this process on its own database; the users are written in
 * one statement (their password hashes are never checked here), one in ten of them holding a role,
 * one admin signs in through the real pages (password, then an authenticator app), and each console
 * page is then fetched sequentially, one request at a time, over loopback: what is timed is the
 * whole answer, of which rendering is nearly all.
 *
 * The overview reads the audit trail and the token counts: CONSOLE_AUDIT_EVENTS (50,000) events are
 * spread over 30 days, a fifth of them sign-ins and a tenth failures, and 30 days of hourly token
 * counts for three grant types. Its own work (the figures' statements, without the console's guard
 * in front) is timed apart, called in-process as the page calls it.
 *
 * Alone: `npx tsx bench/console.ts`; from `npm run bench` with BENCH_CONSOLE=1. CONSOLE_USERS
 * (10000) and CONSOLE_REQUESTS (50 per page) change the sizes.
 */
import { fileURLToPath } from 'node:url';
import { signInToConsole } from '../test/console/support.js';
import { Browser } from '../test/support/browser.js';
import { startLatch } from '../test/support/latch.js';
import { createUser } from '../test/support/sign-in.js';
import { query } from '../test/support/sql.js';
import { startTestServer, stopTestServer } from '../test/support/test-server.js';

const USERS = Number(process.env.CONSOLE_USERS ?? 10_000);
const REQUESTS = Number(process.env.CONSOLE_REQUESTS ?? 50);
const AUDIT_EVENTS = Number(process.env.CONSOLE_AUDIT_EVENTS ?? 50_000);
const TARGET_MS = 50;
/** Held by one user in ten: the users list filtered by a common role. */
const ROLE = 'bench-support';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export interface ConsolePageTiming {
  page: string;
  medianMs: number;
  p95Ms: number;
}

export async function runConsoleBench(print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<ConsolePageTiming[]> {
  await startTestServer();
  const running = await startLatch({ LOG_LEVEL: 'warn' });
  try {
    await query(
      running.databaseUrl,
      `WITH made AS (
         INSERT INTO users (id, email, password_hash, updated_at)
         SELECT gen_random_uuid(), 'bench-' || n || '@example.com', 'not-a-hash', now() FROM generate_series(1, $1::int) AS n
         RETURNING id, email)
       INSERT INTO profiles (user_id, name, updated_at) SELECT id, 'Bench ' || split_part(email, '@', 1), now() FROM made`,
      [USERS],
    );
    await running.latch.authorization.roles.create({ name: ROLE, description: 'Answers the users' }, 'admin');
    await query(running.databaseUrl, "INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM users u, roles r WHERE r.name = $1 AND u.email LIKE 'bench-%0@example.com'", [ROLE]);
    await query(
      running.databaseUrl,
      `INSERT INTO audit_events (at, event, actor, details)
       SELECT now() - random() * interval '30 days',
              CASE WHEN n % 10 = 0 THEN 'account.sign_in_refused' WHEN n % 5 = 0 THEN 'interaction.signed_in' ELSE 'account.profile_updated' END,
              NULL, '{}'::jsonb
       FROM generate_series(1, $1::int) AS n`,
      [AUDIT_EVENTS],
    );
    await query(
      running.databaseUrl,
      `INSERT INTO token_issuance (hour, grant_type, count)
       SELECT date_trunc('hour', now()) - h * interval '1 hour', g, 1 + (random() * 100)::int
       FROM generate_series(0, 30 * 24 - 1) AS h, unnest(ARRAY['authorization_code', 'refresh_token', 'client_credentials']) AS g`,
    );
    // As autovacuum leaves the tables shortly after a bulk insert: statistics, and the trigram indexes'
    // pending lists merged. Unmerged (GIN's fastupdate keeps the 10,000 new rows in a list every
    // search reads through), the planner rightly avoids them and a search reads every row instead:
    // 3 ms became 15, until autovacuum's next round.
    await query(running.databaseUrl, 'VACUUM ANALYZE');
    const admin = await createUser(running, { name: 'Bench Admin' });
    await running.latch.authorization.assignments.assign({ user: admin.id }, 'admin', 'admin');
    const api = await running.latch.authorization.resourceServers.show(running.config.oidc.apiResource);
    const [someone] = await query<{ id: string }>(running.databaseUrl, "SELECT id FROM users WHERE email = 'bench-5000@example.com'");
    const app = await running.latch.admin.clients.create({ name: 'Bench app', public: false, firstParty: true, redirectUris: ['https://bench.example.com/cb'], postLogoutRedirectUris: [], grants: ['authorization_code'] });

    const browser = new Browser();
    // The console requires a second factor: the admin sets up an authenticator app on the way in.
    const signedIn = await signInToConsole(browser, await browser.navigate(`${running.baseUrl}/admin/users`), admin);
    if (!signedIn.html.includes('<h1>Users</h1>')) throw new Error(`the bench admin did not reach the console:\n${signedIn.html}`);

    const pages: [string, string][] = [
      ['overview', '/admin'],
      ['users', '/admin/users'],
      ['users, searched', '/admin/users?q=bench-50'],
      ['users, disabled', '/admin/users?status=disabled'],
      ['users, role 1 in 10', `/admin/users?role=${ROLE}`],
      ['users, role admin', '/admin/users?role=admin'],
      ['users, searched+role', `/admin/users?q=bench-50&role=${ROLE}`],
      ['user', `/admin/users/${someone?.id ?? ''}`],
      ['confirm delete', `/admin/users/${someone?.id ?? ''}/delete`],
      ['applications', '/admin/apps'],
      ['wizard', '/admin/apps/new?kind=nextjs'],
      ['application', `/admin/apps/${app.client.clientId}`],
      ['roles and APIs', '/admin/roles'],
      ['role', `/admin/roles/${ROLE}`],
      ['confirm delete role', `/admin/roles/${ROLE}/delete`],
      ['API', `/admin/apis/${api.id}`],
      ['signing keys', '/admin/keys'],
      ['audit', '/admin/audit'],
    ];
    const timings: ConsolePageTiming[] = [];
    print(`Admin console, ${USERS} users, ${REQUESTS} sequential requests per page (target: under ${TARGET_MS} ms)`);
    for (const [name, path] of pages) {
      const samples: number[] = [];
      for (let n = 0; n < REQUESTS + 5; n += 1) {
        const started = process.hrtime.bigint();
        const page = await browser.navigate(`${running.baseUrl}${path}`);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // A sign-in page answers 200 too: only a console page, with its navigation, counts.
        if (page.status !== 200 || !page.html.includes('aria-label="Console"')) throw new Error(`${path} answered ${page.status} without the console`);
        // The first few warm the template cache and the pool.
        if (n >= 5) samples.push(ms);
      }
      samples.sort((a, b) => a - b);
      const timing = { page: name, medianMs: percentile(samples, 50), p95Ms: percentile(samples, 95) };
      timings.push(timing);
      print(`  ${name.padEnd(22)} median ${timing.medianMs.toFixed(1)} ms, p95 ${timing.p95Ms.toFixed(1)} ms${timing.p95Ms < TARGET_MS ? '' : '   OVER TARGET'}`);
    }
    // The overview's and the keys page's own reads, without the guard and the render around them.
    for (const [name, read] of [
      ['overview figures', () => running.latch.admin.overview.figures()],
      ['keys list', () => running.latch.admin.keys.list()],
    ] as const) {
      const samples: number[] = [];
      for (let n = 0; n < REQUESTS + 5; n += 1) {
        const started = process.hrtime.bigint();
        await read();
        if (n >= 5) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      samples.sort((a, b) => a - b);
      print(`  ${`(${name})`.padEnd(22)} median ${percentile(samples, 50).toFixed(1)} ms, p95 ${percentile(samples, 95).toFixed(1)} ms`);
    }
    return timings;
  } finally {
    await running.stop();
    await stopTestServer();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runConsoleBench();
