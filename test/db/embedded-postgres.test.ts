import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/db/embedded-postgres.js';
import { createLogger } from '../../src/logger.js';
import { findFreePort } from '../support/free-port.js';
import { query } from '../support/sql.js';

describe('the embedded PostgreSQL', () => {
  const logger = createLogger('silent');
  let directory: string;
  let port: number;
  let running: RunningPostgres | undefined;

  const start = async () => {
    running = await startEmbeddedPostgres({ dataDir: join(directory, 'postgres'), port, logger });
    return running;
  };
  const stop = async () => {
    await running?.stop();
    running = undefined;
  };

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'latch-embedded-test-'));
    // Run as root, PostgreSQL runs as a `postgres` user, who must be able to reach its data directory.
    await chmod(directory, 0o755);
    port = await findFreePort();
  });

  afterAll(async () => {
    await stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('creates the latch database on 127.0.0.1 and keeps its data across a restart', async () => {
    const { url } = await start();
    expect(new URL(url)).toMatchObject({ hostname: '127.0.0.1', port: String(port), pathname: '/latch' });
    await query(url, 'create table notes (body text not null)');
    await query(url, 'insert into notes (body) values ($1)', ['still here']);
    await stop();

    const restarted = await start();
    expect(restarted.url).toBe(url);
    expect(await query(url, 'select body from notes')).toEqual([{ body: 'still here' }]);
    await stop();
  });

  it('says so when its port is taken', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      await expect(start()).rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('names the directory that PostgreSQL cannot enter, and the fix, instead of initdb\'s "Permission denied"', async () => {
    // `mktemp -d` makes a 0700 directory: closed to the `postgres` user PostgreSQL runs as under root.
    const closed = join(directory, 'closed');
    await mkdir(closed);
    await chmod(closed, process.getuid?.() === 0 ? 0o700 : 0o000);
    try {
      const failure = startEmbeddedPostgres({ dataDir: join(closed, 'postgres'), port: await findFreePort(), logger });
      await expect(failure).rejects.toThrow(new RegExp(`cannot enter ${closed} \\(mode 0[0-7]00, owner uid \\d+\\)\\. Let it in \\(\`chmod o\\+x ${closed}\`\\) or set LATCH_DATA_DIR`));
    } finally {
      await chmod(closed, 0o755);
    }
  });
});
