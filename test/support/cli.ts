import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { RunningLatch } from './latch.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Each command is a process of its own (tsx, a pool, the schema check): seconds each on a busy machine. */
export const MANY_COMMANDS_MS = 180_000;

/**
 * `npm run latch -- ...` as its own process, on the running Latch's database, with only this
 * environment (the running Latch's key encryption key, so both read the same signing keys);
 * `env` changes it (a variable given as undefined is left out); `stdin` is a pipe, never a terminal.
 */
export function runCli(
  running: RunningLatch,
  args: string[],
  { stdin = '', env = {} }: { stdin?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  const environment = Object.fromEntries(
    Object.entries({
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: running.databaseUrl,
      ISSUER: running.baseUrl,
      LATCH_KEY_ENCRYPTION_KEY: running.config.secrets.keyEncryptionKey.toString('base64url'),
      LATCH_COOKIE_KEYS: 'a cookie key that is long enough to be accepted',
      ...env,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsxCli, '--disable-warning=ExperimentalWarning', 'src/cli.ts', ...args], { cwd: projectRoot, env: environment });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Refused as an admin's mistake: exit 1, the reason on stderr, nothing on stdout, no stack. */
export function expectRefused(run: CliRun, message: RegExp): void {
  expect(run).toMatchObject({ code: 1, stdout: '' });
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}
