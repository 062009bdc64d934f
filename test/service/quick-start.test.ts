import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import supertest from 'supertest';
import { findFreePort } from '../support/free-port.js';
import type { RunningLatch } from '../support/latch.js';
import { spawnLatch, type LatchProcess } from '../support/process.js';
import { relyingParty, signIn } from '../support/sign-in.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const README_PORT = 3000;

/** The commands of the README's "Quick start" block, continuation lines joined, comments dropped. */
async function quickStartCommands(): Promise<string[]> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Quick start\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('the README has no sh block under "## Quick start"');
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command as the user types it in a second terminal: a shell in the checkout, the same environment. */
function inSecondTerminal(command: string, environment: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', ...environment } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/**
 * The README's quick start, literally: Latch started with no configuration but its data directory
 * and ports, then each command of the quick start in another process, while it runs.
 */
describe('the README quick start', () => {
  let dataDir: string;
  let environment: Record<string, string>;
  let port: number;
  let server: LatchProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latch-quick-start-'));
    // Run as root, PostgreSQL runs as a `postgres` user, who must be able to reach its data directory.
    await chmod(dataDir, 0o755);
    port = await findFreePort();
    environment = {
      LATCH_DATA_DIR: dataDir,
      PORT: String(port),
      METRICS_PORT: String(await findFreePort()),
      EMBEDDED_POSTGRES_PORT: String(await findFreePort()),
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_ITERATIONS: '1',
    };
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a client and a user next to a running Latch, and the user signs in to that client', async () => {
    server = await spawnLatch(environment);
    const commands = await quickStartCommands();
    expect(commands.map((command) => command.split(' ').slice(0, 3).join(' '))).toEqual(['npm run latch', 'curl -i http://localhost:3000/api/v1/users']);

    const runs: Run[] = [];
    for (const command of commands) runs.push(await inSecondTerminal(command.replaceAll(`localhost:${README_PORT}`, `localhost:${port}`), environment));
    const [created, registered] = runs as [Run, Run];
    expect(created).toMatchObject({ code: 0 });
    expect(registered.stdout).toMatch(/^HTTP\/1\.1 201 /);

    const clientId = /Client ID:\s+(\S+)/.exec(created.stdout)?.[1] as string;
    const clientSecret = /Client secret:\s+(\S+)/.exec(created.stdout)?.[1] as string;
    const issuer = `http://localhost:${port}`;
    expect(created.stdout).toContain(`AUTH_LATCH_ISSUER=${issuer}\n`);
    await supertest(issuer).get('/.well-known/openid-configuration').expect(200);

    // The client and the user work against the running Latch, which the command left running.
    const configuration = await relyingParty({ baseUrl: issuer } as RunningLatch, {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: ['http://localhost:3001/api/auth/callback/latch'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const { tokens } = await signIn(configuration, { email: 'ada@example.com', password: 'correct horse battery staple' });
    expect(tokens.claims()).toMatchObject({ iss: issuer, aud: clientId, email: 'ada@example.com', name: 'Ada Lovelace' });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    expect(await server.stop()).toBe(0);
    expect(server.stdout()).toMatch(/"drained":true/);
    server = undefined;
  });

  it('starts the embedded PostgreSQL for a command when no Latch runs, and stops it after', async () => {
    const listed = await inSecondTerminal('npm run -s latch -- clients list', environment);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).toMatch(/^CLIENT ID\s+NAME/);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    // And Latch starts afterwards on the same data directory.
    server = await spawnLatch(environment);
    expect(await server.stop()).toBe(0);
    server = undefined;
  });
});
