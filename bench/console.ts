/**
 * The admin console's server-side render times with 10,000 users in the database (issue 14's bar:
 * every page under 50 ms). Latch runs in this process on its own database; the users are written in
 * one statement (their password hashes are never checked here), one in ten of them holding a role,
 * one admin signs in through the real pages (password, then an authenticator app), and each console
 * page is then fetched sequentially, one request at a time, over loopback: what is timed is the
 * whole answer, of which rendering is nearly all. Every page runs the console's guard first; "guard
 * alone" times it on its own (/admin, which only redirects), and "own" is a page's median less it.
 *
 * Alone: `npx tsx bench/console.ts`; from `npm run bench` with BENCH_CONSOLE=1. CONSOLE_USERS
 * (10000) and CONSOLE_REQUESTS (50 per page) change the sizes.
 */
import { fileURLToPath } from 'node:url';
import { Browser } from '../test/support/browser.js';
import { startLatch } from '../test/support/latch.js';
import { createUser } from '../test/support/sign-in.js';
import { query } from '../test/support/sql.js';
import { startTestServer, stopTestServer } from '../test/support/test-server.js';
import { signInToConsole } from '../test/console/support.js';

const USERS = Number(process.env.CONSOLE_USERS ?? 10_000);
const REQUESTS = Number(process.env.CONSOLE_REQUESTS ?? 50);
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
    await query(running.databaseUrl, 'ANALYZE');
    const admin = await createUser(running, { name: 'Bench Admin' });
    await running.latch.authorization.assignments.assign({ user: admin.id }, 'admin', 'admin');
    const api = await running.latch.authorization.resourceServers.show(running.config.oidc.apiResource);
    const [someone] = await query<{ id: string }>(running.databaseUrl, "SELECT id FROM users WHERE email = 'bench-5000@example.com'");
    const app = await running.latch.admin.clients.create({ name: 'Bench app', public: false, firstParty: true, redirectUris: ['https://bench.example.com/cb'], postLogoutRedirectUris: [], grants: ['authorization_code'] });

    const browser = new Browser();
    const signedIn = await signInToConsole(browser, await browser.navigate(`${running.baseUrl}/admin/users`), admin);
    if (!signedIn.html.includes('<h1>Users</h1>')) throw new Error(`the admin did not get into the console:\n${signedIn.html}`);

    const pages: [string, string][] = [
      ['guard alone', '/admin'],
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
      ['audit', '/admin/audit'],
    ];
    let guardMs = 0;
    const timings: ConsolePageTiming[] = [];
    print(`Admin console, ${USERS} users, ${REQUESTS} sequential requests per page (target: under ${TARGET_MS} ms)`);
    for (const [name, path] of pages) {
      const guardOnly = path === '/admin';
      const expected = guardOnly ? { status: 0, pathname: '/admin/users' } : { status: 200, pathname: new URL(path, running.baseUrl).pathname };
      const samples: number[] = [];
      for (let n = 0; n < REQUESTS + 5; n += 1) {
        const started = process.hrtime.bigint();
        // /admin answers with a redirect to the users, which is not followed: the guard, and nothing after it.
        const page = await browser.navigate(`${running.baseUrl}${path}`, { stopAt: (url) => guardOnly && url.pathname !== path });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // A page that sent the browser to sign in would time the sign-in page instead.
        if (page.status !== expected.status || page.url.pathname !== expected.pathname) throw new Error(`${path} answered ${page.status} at ${page.url.href}`);
        // The first few warm the template cache and the pool.
        if (n >= 5) samples.push(ms);
      }
      samples.sort((a, b) => a - b);
      const timing = { page: name, medianMs: percentile(samples, 50), p95Ms: percentile(samples, 95) };
      timings.push(timing);
      if (guardOnly) guardMs = timing.medianMs;
      const own = guardOnly ? '' : `, own ${(timing.medianMs - guardMs).toFixed(1)} ms`;
      print(`  ${name.padEnd(20)} median ${timing.medianMs.toFixed(1)} ms, p95 ${timing.p95Ms.toFixed(1)} ms${own}${timing.p95Ms < TARGET_MS ? '' : '   OVER TARGET'}`);
    }
    return timings;
  } finally {
    await running.stop();
    await stopTestServer();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runConsoleBench();
