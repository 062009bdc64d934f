/**
 * The user import of record: a JSON lines file of `users` generated users imported into the bench's
 * database by the import service the CLI runs, in a process of its own, then exported back; time,
 * users per second and that process's peak RSS. Hashes are real PBKDF2 PHC strings, a few computed
 * once and reused: an import stores hashes, it never verifies them.
 */
import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from './child.js';
import type { BenchDatabase } from './postgres.js';

const out = (line = '') => process.stdout.write(`${line}\n`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function writeUsers(file: string, users: number): Promise<void> {
  const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
  const hashes = Array.from({ length: 16 }, () => {
    const salt = randomBytes(16);
    return `$pbkdf2-sha256$i=1000$${b64(salt)}$${b64(pbkdf2Sync(randomBytes(12).toString('hex'), salt, 1000, 32, 'sha256'))}`;
  });
  const run = randomUUID().slice(0, 8);
  const stream = createWriteStream(file);
  for (let index = 0; index < users; index += 1) {
    const line = {
      email: `import-${run}-${index}@example.com`,
      email_verified: index % 2 === 0,
      name: `Imported User ${index}`,
      given_name: 'Imported',
      family_name: `User ${index}`,
      locale: 'en-GB',
      ...(index % 3 === 0 ? { phone_number: `+44 20 7946 ${String(index % 10_000).padStart(4, '0')}`, phone_number_verified: true } : {}),
      password_hash: hashes[index % hashes.length],
    };
    if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

export async function runImportBench({ database, users }: { database: BenchDatabase; users: number }): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'latch-bench-import-'));
  // A small heap on purpose: an import that held its users (or their emails) would run out of it.
  const importer = await startChild('importer', { DATABASE_URL: database.url }, { execArgv: ['--max-old-space-size=128'] });
  try {
    const file = join(directory, 'users.jsonl');
    await writeUsers(file, users);
    const size = (await stat(file)).size;
    const idle = (await importer.usage()).rssBytes;
    const imported = await importer.call<{ imported: number; skipped: number; seconds: number; peakRssBytes: number; heapAfterBytes: number }>('importFile', { file });
    const exported = await importer.call<{ lines: number; seconds: number; peakRssBytes: number }>('exportFile', { file: join(directory, 'export.jsonl') });

    out();
    out(`user import: ${users.toLocaleString('en')} users, ${mib(size)} of JSON lines, into a database of ${exported.lines.toLocaleString('en')} users after it`);
    out(
      `  import: ${imported.seconds.toFixed(1)} s, ${Math.round(imported.imported / imported.seconds).toLocaleString('en')} users/s (${imported.imported} imported, ${imported.skipped} skipped); ` +
        `1,000,000 users at this rate: ${((1_000_000 / (imported.imported / imported.seconds)) / 60).toFixed(1)} min`,
    );
    out(`  export (with hashes): ${exported.seconds.toFixed(1)} s, ${Math.round(exported.lines / exported.seconds).toLocaleString('en')} users/s`);
    out(
      `  importing process (V8 heap capped at 128 MiB): RSS ${mib(idle)} before, peak ${mib(imported.peakRssBytes)} through the import, ${mib(exported.peakRssBytes)} through the export too; ` +
        `V8 heap after the import, collected: ${mib(imported.heapAfterBytes)}`,
    );
    if (imported.imported !== users) throw new Error(`the import bench imported ${imported.imported} of ${users} users`);
  } finally {
    await importer.stop().catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
  }
}
