/**
 * npm run bench: the benchmark of record. Latch on PostgreSQL and its floors, measured in the same
 * run on the same machine, each in a process of its own, over loopback. Ratios to the floors are
 * what to compare across runs and machines; absolute numbers move with whatever else the machine does.
 *
 * BENCH_SECONDS (default 5) bounds each measurement, BENCH_REQUESTS caps it in requests (CI's short
 * mode), BENCH_CONCURRENCY (16) is the closed loop's workers, BENCH_PROFILE=1 profiles Latch per
 * scenario, BENCH_SCALE=1 adds the scale runs (bench/scale.ts), BENCH_CONSOLE=1 the admin console's pages (bench/console.ts),
 * BENCH_IMPORT_USERS sizes the user import (bench/import.ts;
 * 100,000, or 5,000 in the short mode). DATABASE_URL: bench against that server instead.
 */
import { mkdir } from 'node:fs/promises';
import { cpus, availableParallelism } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startChild, type Child } from './child.js';
import { runConsoleBench } from './console.js';
import { codeFlow, postSignIn, prepareSignIn, type App, type PreparedSignIn, type Tokens } from './flows.js';
import { measureColdStart, type ColdStart, type Start } from './cold-start.js';
import { closedLoop, openLoop, send, type Bounds, type Measurement, type Operation } from './load.js';
import { openBenchDatabase, type BenchDatabase } from './postgres.js';
import { freePort } from './ports.js';
import type { ProfileSummary } from './profile.js';
import { runImportBench } from './import.js';
import { runScale } from './scale.js';

const environment = process.env;
const SECONDS = Number(environment.BENCH_SECONDS ?? 5);
const MAX_REQUESTS = Number(environment.BENCH_REQUESTS ?? Number.POSITIVE_INFINITY);
const CONCURRENCY = Number(environment.BENCH_CONCURRENCY ?? 16);
const PROFILE = environment.BENCH_PROFILE === '1';
const SCALE = environment.BENCH_SCALE === '1';
const PROFILE_DIR = 'bench/profiles';
const REDIRECT_URI = 'http://127.0.0.1:1/callback';
const PASSWORD = 'correct horse battery staple';
/** What the Dockerfile and `npm start` put in NODE_OPTIONS. */
const LATCH_NODE_OPTIONS = '--max-semi-space-size=4';

const bounds: Bounds = { seconds: SECONDS, maxRequests: MAX_REQUESTS };
const warmup: Bounds = { seconds: Math.min(1, SECONDS / 4), maxRequests: Math.min(100, MAX_REQUESTS / 4) };
const form = (authorization: string) => ({ authorization, 'content-type': 'application/x-www-form-urlencoded' });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
/** True for the expected status; anything else throws, so that the load generator reports what failed. */
function ok({ status, body }: { status: number; body: string }, expected?: number): boolean {
  if (expected === undefined ? status >= 200 && status < 300 : status === expected) return true;
  throw new Error(`answered ${status}: ${body.slice(0, 160)}`);
}

export interface Sample extends Measurement {
  cpuMsPerRequest: number;
  statementsPerRequest: number | undefined;
  /** The server's RSS right after the measurement: which scenario grows it. */
  rssBytes: number;
}

/** Measures one operation against one server: throughput, latency, the server's CPU and the statements it ran. */
export async function measure(server: Child, operation: Operation, options: { database?: BenchDatabase; warm?: boolean; bounds?: Bounds; concurrency?: number } = {}): Promise<Sample> {
  if (options.warm !== false) await closedLoop(operation, warmup, options.concurrency ?? CONCURRENCY);
  const before = await server.usage();
  const statementsBefore = await options.database?.statements();
  const measured = await closedLoop(operation, options.bounds ?? bounds, options.concurrency ?? CONCURRENCY);
  return withUsage(measured, server, before.cpuMicros, options.database, statementsBefore);
}

async function withUsage(measured: Measurement, server: Child, cpuBefore: number, database: BenchDatabase | undefined, statementsBefore: number | undefined): Promise<Sample> {
  const after = await server.usage();
  const statementsAfter = await database?.statements();
  const perRequest = (value: number) => value / Math.max(1, measured.requests);
  return {
    ...measured,
    rssBytes: after.rssBytes,
    cpuMsPerRequest: perRequest((after.cpuMicros - cpuBefore) / 1000),
    statementsPerRequest: statementsBefore === undefined || statementsAfter === undefined ? undefined : perRequest(statementsAfter - statementsBefore),
  };
}

interface Row {
  scenario: string;
  latch: Sample;
  floorName: string;
  floor?: Sample | { perSecond: number; p99?: number };
  /** The ratio the issue asks for, when it sets one. */
  target?: number;
  /** Compare p99 instead of throughput (the open-loop row). */
  latency?: { limitMs: number };
}

const rss = { idle: 0, during: 0, after: 0, settled: 0, heapIdle: 0, heapSettled: 0, externalIdle: 0, externalSettled: 0 };
/** Per profiled scenario: its CPU profile and the statements it ran, with their call counts. */
const profiles: [string, ProfileSummary, [string, number][]][] = [];

const logger = createLogger('silent');
const database = await openBenchDatabase(environment.DATABASE_URL, logger);
const children: Child[] = [];
try {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const latchEnvironment = {
    NODE_ENV: 'production',
    ISSUER: issuer,
    PORT: String(port),
    DATABASE_URL: database.url,
    LATCH_COOKIE_KEYS: 'bench-cookie-key-0123456789-0123456789',
    LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64url'),
    LOG_LEVEL: 'info',
    // The bench registers and signs in from one address, far more often than a person would.
    REGISTRATIONS_PER_IP_PER_MINUTE: '100000',
    // Production requires a verified address before sign-in; the bench's accounts come from the REST API,
    // unverified, and what it times is the sign-in itself, not the mail round trip.
    REQUIRE_EMAIL_VERIFICATION: 'false',
    ...mallocEnvironment(environment.BENCH_MALLOC),
    // V8's young generation bounded as the image and `npm start` bound it (bench/README.md, Memory); BENCH_NODE_OPTIONS overrides.
    NODE_OPTIONS: environment.BENCH_NODE_OPTIONS ?? LATCH_NODE_OPTIONS,
  };
  const config = loadConfig(latchEnvironment);
  const spawned = performance.now();
  const latch = await startChild('latch', latchEnvironment);
  // From spawn to listening on a migrated database, under tsx (which compiles the TypeScript as it loads).
  const tsxStartMs = performance.now() - spawned;
  children.push(latch);
  await latch.call('gc');
  const idle = await latch.usage();
  rss.idle = idle.rssBytes;
  rss.heapIdle = idle.heapUsedBytes;
  rss.externalIdle = idle.externalBytes;

  const { machine, app: appClient } = await latch.call<{ machine: { id: string; secret: string }; app: { id: string; secret: string } }>('seed', { redirectUri: REDIRECT_URI });
  const app: App = { ...appClient, redirectUri: REDIRECT_URI };
  const jwks = await latch.call<unknown>('jwks');
  const discoveryDocument = (await send(port, 'GET', '/.well-known/openid-configuration')).body;

  const bareIssuer = `http://127.0.0.1:${await freePort()}`;
  const bare = await startChild('bare-provider', {
    PORT: new URL(bareIssuer).port,
    BENCH_ISSUER: bareIssuer,
    BENCH_JWKS: JSON.stringify(jwks),
    BENCH_CLIENTS: JSON.stringify([
      { client_id: machine.id, client_secret: machine.secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      { client_id: app.id, client_secret: app.secret, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI] },
    ]),
  });
  const koa = await startChild('bare-koa', { DATABASE_URL: database.url, BENCH_DOCUMENT: discoveryDocument });
  const argon2 = await startChild('argon2', {});
  children.push(bare, koa, argon2);

  const latchOp = (method: string, path: string, headers?: Record<string, string>, body?: () => string): Operation => async () => ok(await send(port, method, path, headers, body?.()));
  const bareOp = (method: string, path: string, headers?: Record<string, string>, body?: () => string): Operation => async () => ok(await send(bare.port, method, path, headers, body?.()));
  const profiled = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    if (!PROFILE) return run();
    const statementsBefore = await database.statementsByQuery();
    await latch.call('profileStart');
    const result = await run();
    const summary = await latch.call<ProfileSummary>('profileStop', { directory: PROFILE_DIR, name: name.replace(/[^a-z0-9]+/gi, '-') });
    const statements = [...(await database.statementsByQuery())]
      .map(([query, calls]): [string, number] => [query, calls - (statementsBefore.get(query) ?? 0)])
      .filter(([, calls]) => calls > 0)
      .sort((a, b) => b[1] - a[1]);
    profiles.push([name, summary, statements]);
    return result;
  };
  const onLatch = (name: string, operation: Operation, options: Parameters<typeof measure>[2] = {}) => profiled(name, () => measure(latch, operation, { database, ...options }));
  if (PROFILE) await mkdir(PROFILE_DIR, { recursive: true });

  const rows: Row[] = [];
  const machineForm = form(basic(machine.id, machine.secret));
  const appForm = form(basic(app.id, app.secret));

  // Reads that touch no database.
  const discovery = await onLatch('discovery', latchOp('GET', '/.well-known/openid-configuration'));
  rows.push({ scenario: 'discovery', latch: discovery, floorName: 'bare oidc-provider', floor: await measure(bare, bareOp('GET', '/.well-known/openid-configuration')), target: 0.8 });
  rows.push({ scenario: 'discovery', latch: discovery, floorName: 'bare Koa JSON route', floor: await measure(koa, async () => ok(await send(koa.port, 'GET', '/document'))) });
  rows.push({ scenario: 'JWKS', latch: await onLatch('jwks', latchOp('GET', '/jwks')), floorName: 'bare oidc-provider', floor: await measure(bare, bareOp('GET', '/jwks')), target: 0.8 });

  // Machine-to-machine tokens.
  const clientCredentials = await onLatch('client-credentials', latchOp('POST', '/token', machineForm, () => 'grant_type=client_credentials'));
  const bareClientCredentials = await measure(bare, bareOp('POST', '/token', machineForm, () => 'grant_type=client_credentials'));
  rows.push({ scenario: 'client_credentials (JWT)', latch: clientCredentials, floorName: 'bare oidc-provider', floor: bareClientCredentials, target: 0.7 });

  // A token per worker, as many resource servers introspect many tokens: the same one 16 times at once would share its lookups.
  const mint = async (target: number, body: string) => Promise.all(Array.from({ length: CONCURRENCY }, async () => (JSON.parse((await send(target, 'POST', '/token', machineForm, body)).body) as Tokens).access_token));
  const jwtTokens = await mint(port, 'grant_type=client_credentials');
  const opaqueTokens = await mint(bare.port, 'grant_type=client_credentials&resource=urn%3Abench%3Aopaque');
  rows.push({
    scenario: 'introspection (JWT)',
    latch: await onLatch('introspection', async (worker) => ok(await send(port, 'POST', '/token/introspection', machineForm, `token=${jwtTokens[worker % CONCURRENCY]}`))),
    floorName: 'bare oidc-provider (opaque, memory)',
    floor: await measure(bare, async (worker) => ok(await send(bare.port, 'POST', '/token/introspection', machineForm, `token=${opaqueTokens[worker % CONCURRENCY]}`))),
    target: 0.5,
  });

  // People: argon2id bounds these.
  const argon2Rate = await argon2.call<number>('hashRate', { seconds: Math.min(SECONDS, 5), parameters: config.argon2 });
  const argon2Floor = { perSecond: argon2Rate };
  const users: { email: string; password: string }[] = [];
  const register = async () => {
    const email = `bench-${randomUUID()}@example.com`;
    ok(await send(port, 'POST', '/api/v1/users', { 'content-type': 'application/json' }, JSON.stringify({ email, password: PASSWORD, name: 'Bench User' })), 201);
    users.push({ email, password: PASSWORD });
    return true;
  };
  const registration = await onLatch('registration', register);
  rows.push({ scenario: 'registration (REST)', latch: registration, floorName: 'argon2id hashes/s, all cores', floor: argon2Floor });

  // One account per worker: the sign-in throttle counts each attempt against its account until it succeeds.
  while (users.length < CONCURRENCY) await register();
  const userOf = (worker: number) => users[worker % CONCURRENCY] ?? { email: '', password: '' };
  // Each post needs a login page of its own, fetched beforehand so that only the post is timed.
  const prepared: PreparedSignIn[] = [];
  const preparedCount = Math.ceil(Math.min(MAX_REQUESTS + warmup.maxRequests, (SECONDS + warmup.seconds) * Math.max(40, argon2Rate * 1.5)));
  for (let batch = 0; prepared.length < preparedCount; batch += 1) {
    prepared.push(...(await Promise.all(Array.from({ length: Math.min(16, preparedCount - prepared.length) }, () => prepareSignIn(port, app)))));
  }
  const signIn = await onLatch('sign-in', async (worker) => {
    const next = prepared.pop();
    if (!next) throw new Error('no login page prepared');
    return ok(await postSignIn(port, next, userOf(worker)), 303);
  });
  rows.push({ scenario: 'password sign-in (form post)', latch: signIn, floorName: 'argon2id hashes/s, all cores', floor: argon2Floor, target: 0.8 });

  const tokens: Tokens[] = [];
  const flow = await onLatch('code-flow', async (worker) => {
    tokens.push(await codeFlow(port, app, userOf(worker)));
    return true;
  });
  rows.push({ scenario: 'code + PKCE flow (5 requests)', latch: flow, floorName: 'argon2id hashes/s, all cores', floor: argon2Floor });
  while (tokens.length < CONCURRENCY * 2) tokens.push(await codeFlow(port, app, userOf(tokens.length)));

  // What a signed-in app does next.
  const seeded = await bare.call<{ refreshTokens: string[]; accessTokens: string[] }>('seed', { clientId: app.id, count: CONCURRENCY * 2 });
  const bearer = (values: string[], worker: number) => ({ authorization: `Bearer ${values[worker % CONCURRENCY] ?? ''}` });
  const accessTokens = tokens.map((token) => token.access_token);
  rows.push({
    scenario: 'userinfo',
    latch: await onLatch('userinfo', async (worker) => ok(await send(port, 'GET', '/me', bearer(accessTokens, worker)))),
    floorName: 'bare oidc-provider (opaque, memory)',
    floor: await measure(bare, async (worker) => ok(await send(bare.port, 'GET', '/me', bearer(seeded.accessTokens, worker)))),
  });
  rows.push({
    scenario: 'GET /api/v1/users/me',
    latch: await onLatch('users-me', async (worker) => ok(await send(port, 'GET', '/api/v1/users/me', bearer(accessTokens, worker)))),
    floorName: 'bare Koa, one INSERT + SELECT',
    floor: await measure(koa, async () => ok(await send(koa.port, 'GET', '/db')), { database }),
  });

  /** Each worker rotates a chain of its own; a chain that breaks is replaced from the spares. */
  const rotating = (target: number, chains: string[]): Operation => {
    const live = [...chains];
    return async (worker) => {
      const token = live[worker % live.length] ?? '';
      const response = await send(target, 'POST', '/token', appForm, `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}`);
      ok(response, 200);
      live[worker % live.length] = (JSON.parse(response.body) as Tokens).refresh_token ?? token;
      return true;
    };
  };
  const latchChains = tokens.map((token) => token.refresh_token ?? '').slice(0, CONCURRENCY);
  rows.push({
    scenario: 'refresh_token with rotation',
    latch: await onLatch('refresh', rotating(port, latchChains)),
    floorName: 'bare oidc-provider',
    floor: await measure(bare, rotating(bare.port, seeded.refreshTokens.slice(0, CONCURRENCY))),
    target: 0.7,
  });

  // The latency users feel: a fixed rate at half of Latch's peak, Latch and its floor at the same rate.
  const rate = Math.max(1, Math.round(clientCredentials.perSecond / 2));
  const openBounds: Bounds = { seconds: SECONDS * 2, maxRequests: MAX_REQUESTS };
  const latchCpu = (await latch.usage()).cpuMicros;
  const latchStatements = await database.statements();
  const openLatch = await withUsage(await openLoop(latchOp('POST', '/token', machineForm, () => 'grant_type=client_credentials'), rate, openBounds), latch, latchCpu, database, latchStatements);
  const bareCpu = (await bare.usage()).cpuMicros;
  const openBare = await withUsage(await openLoop(bareOp('POST', '/token', machineForm, () => 'grant_type=client_credentials'), rate, openBounds), bare, bareCpu, undefined, undefined);
  rows.push({ scenario: `client_credentials at ${rate}/s (open loop)`, latch: openLatch, floorName: 'bare oidc-provider, same rate', floor: openBare, latency: { limitMs: 20 } });

  rss.during = Math.max(...rows.map((row) => row.latch.rssBytes));
  rss.after = (await latch.usage()).rssBytes;
  await latch.call('gc');
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  await latch.call('gc');
  const settled = await latch.usage();
  rss.settled = settled.rssBytes;
  rss.heapSettled = settled.heapUsedBytes;
  rss.externalSettled = settled.externalBytes;

  const coldStart = await measureColdStart(database, latchEnvironment);
  printReport(rows, { database: database.description, argon2: config.argon2, coldStart, tsxStartMs });
  if (SCALE) {
    await runScale({ database, latchEnvironment, first: latch, machineForm, appForm, chains: tokens.slice(CONCURRENCY).map((token) => token.refresh_token ?? ''), jwtTokens, bounds, concurrency: CONCURRENCY });
  }
  await runImportBench({ database, users: Number(environment.BENCH_IMPORT_USERS ?? (Number.isFinite(MAX_REQUESTS) ? 5_000 : 100_000)) });
} finally {
  for (const child of children.reverse()) await child.stop().catch(() => undefined);
  await database.stop();
}
// The console's render times (bench/console.ts), on a database of their own.
if (environment.BENCH_CONSOLE === '1') await runConsoleBench();
process.exit(0);

function printReport(rows: Row[], context: { database: string; argon2: { memoryCost: number; timeCost: number; parallelism: number }; coldStart: ColdStart; tsxStartMs: number }): void {
  const require = createRequire(import.meta.url);
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`Latch bench, ${new Date().toISOString()}: node ${process.version}, oidc-provider ${version('oidc-provider')}, ${context.database}`);
  out(`${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores; argon2id m=${context.argon2.memoryCost} t=${context.argon2.timeCost} p=${context.argon2.parallelism}`);
  out(`${SECONDS} s per measurement${Number.isFinite(MAX_REQUESTS) ? ` or ${MAX_REQUESTS} requests` : ''}, ${CONCURRENCY} concurrent, loopback; CPU is the server process's; statements from pg_stat_statements; RSS (MiB) is Latch's after the scenario`);
  out();
  const columns: [string, number][] = [['scenario', 40], ['req/s', 8], ['p50 ms', 8], ['p99 ms', 8], ['errors', 7], ['CPU ms', 7], ['stmts', 6], ['RSS', 5], ['floor', 37], ['floor/s', 8], ['fl p99', 7], ['fl CPU', 7], ['ratio', 6], ['target', 8], ['', 4]];
  const line = (cells: string[]) => out(cells.map((cell, index) => (index === 0 || index === 8 ? cell.padEnd(columns[index]?.[1] ?? 0) : cell.padStart(columns[index]?.[1] ?? 0))).join(' '));
  line(columns.map(([name]) => name));
  for (const row of rows) {
    const { latch, floor } = row;
    const ratio = row.latency ? (floor?.p99 ? latch.p99 / floor.p99 : undefined) : floor ? latch.perSecond / floor.perSecond : undefined;
    const target = row.latency ? `<${row.latency.limitMs}ms` : row.target !== undefined ? `≥${row.target}` : '';
    const met = row.latency ? latch.p99 < row.latency.limitMs : row.target !== undefined && ratio !== undefined ? ratio >= row.target : undefined;
    line([
      row.scenario,
      latch.perSecond.toFixed(0),
      latch.p50.toFixed(1),
      latch.p99.toFixed(1),
      String(latch.errors),
      latch.cpuMsPerRequest.toFixed(2),
      latch.statementsPerRequest === undefined ? '–' : latch.statementsPerRequest.toFixed(1),
      (latch.rssBytes / 1024 / 1024).toFixed(0),
      row.floorName,
      floor ? floor.perSecond.toFixed(0) : '–',
      floor?.p99 === undefined ? '–' : floor.p99.toFixed(1),
      floor && 'cpuMsPerRequest' in floor ? floor.cpuMsPerRequest.toFixed(2) : '–',
      ratio === undefined ? '–' : row.latency ? `${ratio.toFixed(1)}×` : ratio.toFixed(2),
      target,
      met === undefined ? '' : met ? 'ok' : 'MISS',
    ]);
  }
  out();
  const { coldStart } = context;
  const start = ({ ms, cpuMs }: Start) => `${ms.toFixed(0)} ms (CPU ${cpuMs.toFixed(0)} ms)`;
  out(
    `Latch cold start, spawn to listening: node dist/main.js ${start(coldStart.restart)} (target: under 1 s; with the compile cache, as the image), without the compile cache ${start(coldStart.restartWithoutCompileCache)}, with MIGRATE_ON_START ${start(coldStart.restartCheckingMigrations)}; ` +
      `first run on an empty database (migrations, keys) ${start(coldStart.firstRun)}; under tsx ${context.tsxStartMs.toFixed(0)} ms${coldStart.built ? ' (dist was built first)' : ''}`,
  );
  out(`glibc malloc: ${describeMalloc(mallocEnvironment(environment.BENCH_MALLOC))}; Latch's NODE_OPTIONS: ${environment.BENCH_NODE_OPTIONS ?? LATCH_NODE_OPTIONS}`);
  out(`Latch RSS: idle ${mib(rss.idle)}, peak during load ${mib(rss.during)}, right after ${mib(rss.after)}, 5 s later ${mib(rss.settled)} (target: under 200 MiB, back near idle); V8 heap after GC: idle ${mib(rss.heapIdle)}, after the bench ${mib(rss.heapSettled)}; outside the heap (buffers, WebAssembly): idle ${mib(rss.externalIdle)}, after ${mib(rss.externalSettled)}`);
  for (const [name, summary, statements] of profiles) {
    out();
    out(`profile ${name} (${summary.file}):`);
    out(`  by area: ${summary.areas.map(([area, share]) => `${area} ${(share * 100).toFixed(1)}%`).join(', ')}`);
    for (const [frame, share] of summary.top) out(`  ${(share * 100).toFixed(1).padStart(5)}%  ${frame}`);
    if (statements.length > 0) out('  statements (calls):');
    for (const [query, calls] of statements.slice(0, 12)) out(`  ${String(calls).padStart(7)}  ${query.replace(/\s+/g, ' ').slice(0, 150)}`);
  }
}

/**
 * glibc's allocator settings for the Latch process (see bench/README.md, *Memory*): `off` none of them,
 * `arena` MALLOC_ARENA_MAX=2 alone, `mmap` (or `1`) a fixed mmap threshold alone, `both`; unset or `arena`
 * is what `npm start` and the Docker image run with.
 */
function mallocEnvironment(setting: string | undefined): Record<string, string> {
  const arena = { MALLOC_ARENA_MAX: '2' };
  const mmap = { MALLOC_MMAP_THRESHOLD_: '131072' };
  // Children inherit this process's environment: only the chosen settings may reach Latch.
  delete process.env.MALLOC_ARENA_MAX;
  delete process.env.MALLOC_MMAP_THRESHOLD_;
  switch (setting ?? 'arena') {
    case 'off':
      return {};
    case 'arena':
      return arena;
    case '1':
    case 'mmap':
      return mmap;
    case 'both':
      return { ...arena, ...mmap };
    default:
      throw new Error(`BENCH_MALLOC is off, arena, mmap or both, not ${setting}`);
  }
}

function describeMalloc(env: Record<string, string>): string {
  const set = Object.entries(env).filter(([name]) => name.startsWith('MALLOC_'));
  return set.length === 0 ? 'glibc defaults' : set.map(([name, value]) => `${name}=${value}`).join(' ');
}
