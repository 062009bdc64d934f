/**
 * BENCH_SCALE=1: the token scenarios with 1, 2 and 3 Latch processes on one PostgreSQL, then on a
 * database grown to 1,000,000 token rows and 100,000 users, and the purge bringing the table back down.
 */
import { startChild, type Child } from './child.js';
import { closedLoop, send, type Bounds, type Operation } from './load.js';
import type { BenchDatabase } from './postgres.js';
import { freePort } from './ports.js';

export interface ScaleContext {
  database: BenchDatabase;
  latchEnvironment: Record<string, string>;
  first: Child;
  machineForm: Record<string, string>;
  appForm: Record<string, string>;
  /** Unused refresh tokens, one chain per worker at least. */
  chains: string[];
  jwtTokens: string[];
  bounds: Bounds;
  concurrency: number;
}

interface ScaleRow {
  setting: string;
  scenario: string;
  perSecond: number;
  p99: number;
  errors: number;
  cpuMsPerRequest: number;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

export async function runScale(context: ScaleContext): Promise<void> {
  const { database, latchEnvironment, first, machineForm, appForm, bounds, concurrency } = context;
  const processes: Child[] = [first];
  const live = [...context.chains];
  const rows: ScaleRow[] = [];

  const scenarios = (ports: number[]): [string, Operation][] => {
    const portOf = (worker: number) => ports[worker % ports.length] ?? 0;
    const expect200 = async (worker: number, method: string, path: string, headers: Record<string, string>, body: string) => {
      const response = await send(portOf(worker), method, path, headers, body);
      if (response.status !== 200) throw new Error(`answered ${response.status}: ${response.body.slice(0, 160)}`);
      return response;
    };
    return [
      ['client_credentials', async (worker) => Boolean(await expect200(worker, 'POST', '/token', machineForm, 'grant_type=client_credentials'))],
      ['introspection', async (worker) => Boolean(await expect200(worker, 'POST', '/token/introspection', machineForm, `token=${context.jwtTokens[worker % context.jwtTokens.length]}`))],
      [
        'refresh_token',
        async (worker) => {
          const slot = worker % concurrency;
          const response = await expect200(worker, 'POST', '/token', appForm, `grant_type=refresh_token&refresh_token=${encodeURIComponent(live[slot] ?? '')}`);
          live[slot] = (JSON.parse(response.body) as { refresh_token: string }).refresh_token;
          return true;
        },
      ],
    ];
  };

  const measureAll = async (setting: string) => {
    for (const [scenario, operation] of scenarios(processes.map((child) => child.port))) {
      const cpu = async () => (await Promise.all(processes.map((child) => child.usage()))).reduce((sum, usage) => sum + usage.cpuMicros, 0);
      const before = await cpu();
      const measured = await closedLoop(operation, bounds, concurrency);
      const after = await cpu();
      rows.push({ setting, scenario, ...measured, cpuMsPerRequest: (after - before) / 1000 / Math.max(1, measured.requests) });
    }
  };

  try {
    for (let count = 1; count <= 3; count += 1) {
      while (processes.length < count) {
        // Same issuer, keys and database; only the port differs, as replicas behind a load balancer.
        processes.push(await startChild('latch', { ...latchEnvironment, PORT: String(await freePort()) }));
      }
      await measureAll(`${count} process${count > 1 ? 'es' : ''}`);
    }
    for (const child of processes.splice(1)) await child.stop();

    const started = performance.now();
    // Half of the rows already expired, as a purge interval's worth of traffic leaves them.
    await database.query(`INSERT INTO oidc_payloads (model, id, payload, grant_id, expires_at)
      SELECT 'AccessToken', 'bulk-' || n, jsonb_build_object('jti', 'bulk-' || n, 'kind', 'AccessToken', 'clientId', 'bulk'), 'bulk-grant-' || (n % 100000),
             now() + CASE WHEN n % 2 = 0 THEN interval '-1 hour' ELSE interval '1 hour' END
        FROM generate_series(1, 1000000) AS n`);
    await database.query(`INSERT INTO users (id, email, password_hash, updated_at)
      SELECT gen_random_uuid(), 'bulk-' || n || '@example.com', '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', now()
        FROM generate_series(1, 100000) AS n`);
    await database.query('ANALYZE oidc_payloads, users');
    const count = async () => Number((await database.query<{ n: string }>('SELECT count(*) AS n FROM oidc_payloads'))[0]?.n);
    out();
    out(`Scale: 1,000,000 token rows and 100,000 users inserted in ${((performance.now() - started) / 1000).toFixed(1)} s; oidc_payloads holds ${await count()} rows`);
    await measureAll('1 process, 1M tokens, 100k users');
    const purgeStarted = performance.now();
    const purged = await first.call<number>('purge');
    out(`The purge deleted ${purged} expired rows in ${((performance.now() - purgeStarted) / 1000).toFixed(1)} s; oidc_payloads holds ${await count()} rows`);
  } finally {
    for (const child of processes.splice(1)) await child.stop();
  }

  out();
  out(`${'setting'.padEnd(36)} ${'scenario'.padEnd(20)} ${'req/s'.padStart(7)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'CPU ms'.padStart(7)}`);
  for (const row of rows) {
    out(`${row.setting.padEnd(36)} ${row.scenario.padEnd(20)} ${row.perSecond.toFixed(0).padStart(7)} ${row.p99.toFixed(1).padStart(8)} ${String(row.errors).padStart(7)} ${row.cpuMsPerRequest.toFixed(2).padStart(7)}`);
  }
  out('CPU ms is summed over every Latch process; PostgreSQL and the load generator share the same cores.');
}
