import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../support/free-port.js';
import { spawnLatch } from '../support/process.js';

/** A port another program already listens on: Latch says which variable chose it and what to do. */
describe('starting Latch on a taken port', () => {
  let dataDir: string;
  let squatter: Server | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latch-port-in-use-'));
    // Run as root, PostgreSQL runs as a `postgres` user, who must be able to reach its data directory.
    await chmod(dataDir, 0o755);
  });

  afterEach(async () => {
    await new Promise((resolve) => (squatter ? squatter.close(resolve) : resolve(undefined)));
    squatter = undefined;
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const occupy = async () => {
    const port = await findFreePort();
    // It hangs up at once, so that waiting for Latch's /healthz on that port does not hang.
    squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter?.listen(port, '127.0.0.1', resolve));
    return port;
  };

  it.each(['PORT', 'ADMIN_PORT', 'METRICS_PORT'])('names %s, and stops the embedded PostgreSQL it started', async (variable) => {
    const taken = await occupy();
    const environment: Record<string, string> = {
      LATCH_DATA_DIR: dataDir,
      PORT: String(await findFreePort()),
      METRICS_PORT: String(await findFreePort()),
      ADMIN_PORT: String(await findFreePort()),
      EMBEDDED_POSTGRES_PORT: String(await findFreePort()),
      [variable]: String(taken),
    };
    const failure = await spawnLatch(environment).then(
      async (started) => {
        await started.stop();
        return 'it started';
      },
      (error: Error) => error.message,
    );
    expect(failure).toContain(`Latch failed to start: ${variable}: port ${taken} on 127.0.0.1 is already in use (is Latch already running?). Stop what listens there, or set ${variable} to a free port.`);
    expect(failure).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });
});
