import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { findFreePort } from '../support/free-port.js';
import { spawnLatch } from '../support/process.js';

/**
 * The README's start command with no configuration: Latch starts its own PostgreSQL in a data
 * folder, migrates it, serves, and keeps the data across a restart.
 */
describe('starting Latch with no configuration', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latch-zero-config-'));
    // Run as root, PostgreSQL runs as a `postgres` user, who must be able to reach its data directory.
    await chmod(dataDir, 0o755);
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs on an embedded PostgreSQL whose data survives a restart', async () => {
    const port = await findFreePort();
    const environment = {
      LATCH_DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_POSTGRES_PORT: String(await findFreePort()),
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_ITERATIONS: '1',
    };
    const user = { email: 'restart@example.com', password: 'correct horse battery staple' };

    const first = await spawnLatch(environment);
    try {
      expect(first.stderr()).toContain('DEVELOPMENT mode on an embedded PostgreSQL');
      expect(first.stderr()).toContain(join(dataDir, 'postgres'));
      expect(first.stderr()).toContain(`http://127.0.0.1:${port}`);
      expect(first.stdout()).toContain('"applied":["');
      await supertest(`http://127.0.0.1:${port}`).post('/api/v1/users').send(user).expect(201);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    // Latch's own shutdown ran (drain, then the embedded server stopped), not the embedded server's exit hook.
    expect(first.stdout()).toMatch(/"drained":true/);
    expect((await stat(join(dataDir, 'postgres', 'PG_VERSION'))).isFile()).toBe(true);

    const second = await spawnLatch(environment);
    try {
      expect(second.stdout()).toContain('database schema is up to date');
      const response = await supertest(`http://127.0.0.1:${port}`).post('/api/v1/users').send(user);
      expect(response.status).toBe(409);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
