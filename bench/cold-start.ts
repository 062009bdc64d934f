/**
 * Cold start as the image runs it: `node dist/main.js`, the compiled build (built first when src is
 * newer), with Node's compile cache filled beforehand as the image's build fills it, from spawn to
 * its "Latch is listening" line. Measured on the bench's database, which by then is migrated and
 * holds keys (what every restart meets), and once on a fresh database with migrations at start
 * (the first run: migrating, then generating keys), apart. One start without the cache shows what it saves.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import type { BenchDatabase } from './postgres.js';

const RESTARTS = 3;
const ENTRY = 'dist/main.js';
/** Linux's clock ticks per second, in which /proc/<pid>/stat counts CPU time. */
const CLOCK_TICKS = 100;

/** Spawn to listening: wall time, and the process's own CPU time (what a busy machine moves least). */
export interface Start {
  ms: number;
  cpuMs: number;
}

export interface ColdStart {
  /** Median over a few restarts on a migrated database with keys. */
  restart: Start;
  /** One such restart without Node's compile cache. */
  restartWithoutCompileCache: Start;
  /** One restart with MIGRATE_ON_START=true (development's default): what checking migrations adds. */
  restartCheckingMigrations: Start;
  /** A first run: an empty database migrated at start, then keys generated. */
  firstRun: Start;
  /** Whether the bench had to build dist first. */
  built: boolean;
}

export async function measureColdStart(database: BenchDatabase, environment: Record<string, string>): Promise<ColdStart> {
  const built = await buildIfStale();
  const compileCache = await mkdtemp(join(tmpdir(), 'latch-compile-cache-'));
  const cached = { ...environment, NODE_COMPILE_CACHE: compileCache };
  const restart = async (extra: Record<string, string> = {}, times = RESTARTS) => {
    const starts: Start[] = [];
    for (let run = 0; run < times; run += 1) starts.push(await startOnce({ ...cached, ...extra }));
    return { ms: median(starts.map(({ ms }) => ms)), cpuMs: median(starts.map(({ cpuMs }) => cpuMs)) };
  };
  const fresh = `latch_cold_${Date.now()}`;
  try {
    const restartWithoutCompileCache = await startOnce(environment);
    // What the image's build does: one start fills the cache (not measured).
    await startOnce(cached);
    const restartStart = await restart();
    const restartCheckingMigrations = await restart({ MIGRATE_ON_START: 'true' }, 1);
    await database.query(`CREATE DATABASE ${fresh}`);
    const url = new URL(environment.DATABASE_URL ?? '');
    url.pathname = `/${fresh}`;
    const firstRun = await startOnce({ ...cached, DATABASE_URL: url.toString(), MIGRATE_ON_START: 'true' });
    return { restart: restartStart, restartWithoutCompileCache, restartCheckingMigrations, firstRun, built };
  } finally {
    await database.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
    await rm(compileCache, { recursive: true, force: true });
  }
}

/** One start: spawn, wait for the listening line, stop it with SIGTERM as an orchestrator would. */
async function startOnce(environment: Record<string, string>): Promise<Start> {
  const env = { PATH: process.env.PATH ?? '', ...environment, PORT: String(await freePort()), METRICS_PORT: String(await freePort()) };
  const started = performance.now();
  const child = spawn(process.execPath, [ENTRY], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const ms = await new Promise<number>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        if (buffered.includes('"msg":"Latch is listening"')) resolve(performance.now() - started);
      });
      void exited.then(() => reject(new Error(`${ENTRY} exited before listening`)));
    });
    return { ms, cpuMs: await cpuMsOf(child.pid) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** User + system CPU of the process so far (fields 14 and 15 of /proc/<pid>/stat, after the parenthesised name). */
async function cpuMsOf(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
}

async function buildIfStale(): Promise<boolean> {
  const builtAt = await stat(ENTRY).then(
    (entry) => entry.mtimeMs,
    () => 0,
  );
  if (builtAt > (await newestSource('src'))) return false;
  await promisify(execFile)('npm', ['run', 'build'], { env: process.env });
  return true;
}

async function newestSource(directory: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
