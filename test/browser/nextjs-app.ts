import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * examples/nextjs as the browser tests run it: installed, built once for as long as its sources
 * stay the same (test/browser/nextjs.ts and console.ts both run it, one after the other, and CI
 * time matters), and started with `next start` on the address a test chose, with the environment
 * a user would write into its .env.local. The processes it starts are handed to the caller's
 * cleanup (`track`), which stops them whatever happens.
 */

export const appDir = fileURLToPath(new URL('../../examples/nextjs', import.meta.url));
const SECOND = 1000;

/** Registers something to stop at the end of the test. */
export type Track = (name: string, stop: () => Promise<unknown>) => void;

export const seconds = (ms: number) => `${(ms / SECOND).toFixed(1)} s`;
export const tail = (text: string, lines = 40) => text.trimEnd().split('\n').slice(-lines).join('\n');

export interface Started {
  output(): string;
  exited: Promise<number | null>;
  running(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts a command in a process group of its own, so that stopping it stops whatever it started
 * too (next start runs its server in a child). SIGTERM first, SIGKILL after ten seconds.
 */
export function start(command: string, args: string[], options: { cwd: string; env: Record<string, string | undefined> }): Started {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    output: () => output,
    exited,
    running,
    stop: async () => {
      if (!running()) return;
      signal('SIGTERM');
      const graceful = await Promise.race([exited.then(() => true), delay(10 * SECOND, false, { ref: false })]);
      if (!graceful) {
        signal('SIGKILL');
        await exited;
      }
    },
  };
}

/** Runs a command to completion (stopped at cleanup if interrupted); its output, or an error with the output's end. */
export async function run(command: string, args: string[], options: { cwd: string; env: Record<string, string | undefined>; timeoutMs: number; track: Track }): Promise<string> {
  const started = start(command, args, options);
  options.track(`${command} ${args[0] ?? ''}`, started.stop);
  const code = await Promise.race([started.exited, delay(options.timeoutMs, 'timeout' as const, { ref: false })]);
  if (code === 'timeout') {
    await started.stop();
    throw new Error(`${command} ${args.join(' ')} took over ${seconds(options.timeoutMs)}:\n${tail(started.output())}`);
  }
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail(started.output())}`);
  return started.output();
}

/** Polls until `condition` holds (an error it throws ends the wait); the error names what was awaited. */
export async function waitFor(what: string, condition: () => Promise<boolean>, { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}`);
    await delay(intervalMs);
  }
}

/** This shell's environment (the registry may need its proxy or CA settings), without telemetry. */
export const nodeEnvironment = (): Record<string, string | undefined> => ({ ...process.env, NEXT_TELEMETRY_DISABLED: '1' });

const NEXT = 'node_modules/next/dist/bin/next';
/** Written beside next build's output once it succeeds: what the build was made from. */
const BUILD_STAMP = join(appDir, '.next', 'latch-build-inputs');
/** What the example's build does not depend on: its output, its dependencies (their lock file counts), generated and local files. */
const NOT_INPUTS = /^(node_modules|\.next|next-env\.d\.ts|.*\.tsbuildinfo|\.env.*\.local)$/;

/** The example's source files, relative to appDir, in a stable order. */
async function sourceFiles(directory = ''): Promise<string[]> {
  const entries = (await readdir(join(appDir, directory), { withFileTypes: true })).filter((entry) => !NOT_INPUTS.test(entry.name));
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? sourceFiles(join(directory, entry.name)) : [join(directory, entry.name)])));
  return nested.flat().sort();
}

/** A digest of the example's sources and lock file, and of the Node running the build. */
async function buildInputs(): Promise<string> {
  const hash = createHash('sha256').update(process.version);
  for (const path of await sourceFiles()) hash.update(`\0${path}\0`).update(await readFile(join(appDir, path)));
  return hash.digest('hex');
}

/**
 * `npm ci` when node_modules is missing or older than the lock file, then `next build` unless the
 * build there was made from the same inputs (the environment is read when the app starts, not
 * built in). Returns what took time, for the test's figures.
 */
export async function prepareExampleApp({ track }: { track: Track }): Promise<string[]> {
  const figures: string[] = [];
  const installed = join(appDir, 'node_modules', '.package-lock.json');
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(join(appDir, 'package-lock.json')).mtimeMs) {
    const started = Date.now();
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: appDir, env: nodeEnvironment(), timeoutMs: 300 * SECOND, track });
    figures.push(`npm ci (examples/nextjs) ${seconds(Date.now() - started)}`);
  }
  const inputs = await buildInputs();
  const built = existsSync(join(appDir, '.next', 'BUILD_ID')) && (await readFile(BUILD_STAMP, 'utf8').catch(() => '')) === inputs;
  if (built) {
    figures.push('next build reused (its inputs are unchanged)');
    return figures;
  }
  // A build cut short must not pass for a finished one.
  await rm(BUILD_STAMP, { force: true });
  const started = Date.now();
  await run(process.execPath, [NEXT, 'build'], { cwd: appDir, env: nodeEnvironment(), timeoutMs: 600 * SECOND, track });
  await writeFile(BUILD_STAMP, inputs);
  figures.push(`next build ${seconds(Date.now() - started)}`);
  return figures;
}

/**
 * `next start` at `appUrl` (http://127.0.0.1:<port>) with `environment` (what .env.local would
 * hold), once it answers its home page.
 */
export async function startExampleApp({ appUrl, environment, track }: { appUrl: string; environment: Record<string, string>; track: Track }): Promise<Started> {
  const { hostname, port } = new URL(appUrl);
  const server = start(process.execPath, [NEXT, 'start', '--hostname', hostname, '--port', port], { cwd: appDir, env: { ...nodeEnvironment(), NODE_ENV: 'production', ...environment } });
  track('Next.js', server.stop);
  await waitFor(
    `the app to answer at ${appUrl}`,
    async () => {
      if (!server.running()) throw new Error(`next start exited:\n${tail(server.output())}`);
      return fetch(appUrl).then((response) => response.status === 200, () => false);
    },
    { timeoutMs: 60 * SECOND },
  );
  return server;
}
