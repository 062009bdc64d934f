/** The importing process of bench/import.ts: the import and export services the CLI runs, alone in a process, so its RSS is theirs. */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createUserExport } from '../../src/account/transfer/user-export.js';
import { createUserImport } from '../../src/account/transfer/user-import.js';
import { createPrismaUserRepository } from '../../src/account/user-repository.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createConnectionPool, createPrismaClient } from '../../src/db/prisma.js';
import { createLogger } from '../../src/logger.js';
import { serveParent } from '../child.js';

const logger = createLogger('silent');
// The CLI's pool size (src/cli.ts).
const pool = createConnectionPool(process.env.DATABASE_URL ?? '', { poolMax: 2, statementTimeoutMs: 60_000 });
const prisma = createPrismaClient(pool);
const audit = createAuditLog({ prisma, logger });

/** Peak RSS of this process so far (getrusage's maxrss, KiB on Linux). */
const peakRssBytes = () => process.resourceUsage().maxRSS * 1024;

serveParent(async () => ({ port: 0, stop: () => prisma.$disconnect() }), {
  async importFile({ file }: { file: string }) {
    const started = performance.now();
    const summary = await createUserImport({ pool, audit }).importUsers(createReadStream(file), { actor: 'bench' });
    const seconds = (performance.now() - started) / 1000;
    // What the import left live, as opposed to garbage V8 had not collected yet.
    globalThis.gc?.();
    return { imported: summary.imported, skipped: summary.skipped, seconds, peakRssBytes: peakRssBytes(), heapAfterBytes: process.memoryUsage().heapUsed };
  },

  async exportFile({ file }: { file: string }) {
    const started = performance.now();
    const out = createWriteStream(file);
    let lines = 0;
    for await (const line of createUserExport({ users: createPrismaUserRepository(prisma), pool, audit }).exportUsers({ withPasswordHashes: true, actor: 'bench' })) {
      lines += 1;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    return { lines, seconds: (performance.now() - started) / 1000, peakRssBytes: peakRssBytes() };
  },
});
