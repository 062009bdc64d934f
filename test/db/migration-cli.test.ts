import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectRoot } from '../../src/config.js';

const cliPath = fileURLToPath(new URL('../../src/db/migration-cli.ts', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs `npm run db:migration` as a developer would, on a copy of prisma/. */
function runMigrationCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', tsxLoader, '--experimental-wasm-modules', '--disable-warning=ExperimentalWarning', cliPath, ...args],
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('npm run db:migration', () => {
  let prismaDir: string;
  const migrationsDir = () => join(prismaDir, 'migrations');
  const listEntries = () => readdir(migrationsDir());

  beforeEach(async () => {
    prismaDir = await mkdtemp(join(tmpdir(), 'latch-migration-cli-'));
    await cp(join(projectRoot, 'prisma'), prismaDir, { recursive: true });
  });

  afterEach(async () => {
    await rm(prismaDir, { recursive: true, force: true });
  });

  it('writes nothing when schema.prisma has not changed since the latest migration', async () => {
    const before = await listEntries();

    const result = await runMigrationCli(['nothing_new', '--prisma-dir', prismaDir]);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('No changes');
    expect(await listEntries()).toEqual(before);
  });

  it('writes the migration for a new field, and moves the snapshot to the new schema', async () => {
    const before = await listEntries();
    const schemaPath = join(prismaDir, 'schema.prisma');
    const schema = (await readFile(schemaPath, 'utf8')).replace(
      /^(\s*)status(\s+)UserStatus/m,
      '$1lastLoginAt DateTime? @map("last_login_at") @db.Timestamptz(3)\n$1status$2UserStatus',
    );
    await writeFile(schemaPath, schema);

    const result = await runMigrationCli(['add_last_login', '--prisma-dir', prismaDir]);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    const created = (await listEntries()).filter((entry) => !before.includes(entry));
    expect(created).toEqual([expect.stringMatching(/^\d{14}_add_last_login$/)]);
    const sql = await readFile(join(migrationsDir(), created[0] ?? '', 'migration.sql'), 'utf8');
    expect(sql).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"last_login_at" TIMESTAMPTZ\(3\);/);
    expect(await readFile(join(migrationsDir(), 'schema.snapshot.prisma'), 'utf8')).toContain(schema);

    expect((await runMigrationCli(['again', '--prisma-dir', prismaDir])).stdout).toContain('No changes');
  });

  it('refuses a name that is not snake_case', async () => {
    const result = await runMigrationCli(['Add-Field', '--prisma-dir', prismaDir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"Add-Field" is not a valid migration name');
  });
});
