/**
 * The admin console's server-side render times with 10,000 users in the database (issue 14's bar:
 * every page under 50 ms). Latch runs in this process on its own database; the users are written in
 * one statement (their password hashes are never checked here), one admin signs in through the
 * real pages, and each console page is then fetched sequentially, one request at a time, over
 * loopback: what is timed is the whole answer, of which rendering is nearly all.
 *
 * Alone: `npx tsx bench/console.ts`; from `npm run bench` with BENCH_CONSOLE=1. CONSOLE_USERS
 * (10000) and CONSOLE_REQUESTS (50 per page) change the sizes.
 */
import { fileURLToPath } from 'node:url';
import { createAdmin, signInToConsole } from '../test/console/support.js';
import { Browser } from '../test/support/browser.js';
import { startLatch } from '../test/support/latch.js';
import { query } from '../test/support/sql.js';
import { startTestServer, stopTestServer } from '../test/support/test-server.js';

const USERS = Number(process.env.CONSOLE_USERS ?? 10_000);
const REQUESTS = Number(process.env.CONSOLE_REQUESTS ?? 50);
const TARGET_MS = 50;

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
    const admin = await createAdmin(running, { name: 'Bench Admin' });
    const [someone] = await query<{ id: string }>(running.databaseUrl, "SELECT id FROM users WHERE email = 'bench-5000@example.com'");
    const app = await running.latch.admin.clients.create({ name: 'Bench app', public: false, firstParty: true, redirectUris: ['https://bench.example.com/cb'], postLogoutRedirectUris: [], grants: ['authorization_code'] });

    const browser = new Browser();
    const signIn = await browser.navigate(`${running.baseUrl}/admin/users`);
    // With the second factor the console requires: without it every page would time the enrolment page instead.
    const signedIn = await signInToConsole(browser, signIn, admin);
    if (signedIn.url.pathname !== '/admin/users') throw new Error(`the sign-in ended at ${signedIn.url.href}`);

    const pages: [string, string][] = [
      ['users', '/admin/users'],
      ['users, searched', '/admin/users?q=bench-50'],
      ['users, disabled', '/admin/users?status=disabled'],
      ['user', `/admin/users/${someone?.id ?? ''}`],
      ['confirm delete', `/admin/users/${someone?.id ?? ''}/delete`],
      ['applications', '/admin/apps'],
      ['wizard', '/admin/apps/new?kind=nextjs'],
      ['application', `/admin/apps/${app.client.clientId}`],
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
        // A redirect to the sign-in pages would answer 200 too: the page must be the console's own.
        if (page.status !== 200 || !page.url.pathname.startsWith('/admin/')) throw new Error(`${path} answered ${page.status} at ${page.url.href}`);
        // The first few warm the template cache and the pool.
        if (n >= 5) samples.push(ms);
      }
      samples.sort((a, b) => a - b);
      const timing = { page: name, medianMs: percentile(samples, 50), p95Ms: percentile(samples, 95) };
      timings.push(timing);
      print(`  ${name.padEnd(18)} median ${timing.medianMs.toFixed(1)} ms, p95 ${timing.p95Ms.toFixed(1)} ms${timing.p95Ms < TARGET_MS ? '' : '   OVER TARGET'}`);
    }
    return timings;
  } finally {
    await running.stop();
    await stopTestServer();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runConsoleBench();
