import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultMigrationsDir, diffSql, listMigrationNames, MIGRATION_SCRIPT_FILE } from '../../src/db/migrations.js';
import { runMigrationsInChildProcess } from '../../src/db/run-migrations.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

const logger = createLogger('silent');
const schemaPath = join(defaultMigrationsDir, '..', 'schema.prisma');
const snapshotPath = join(defaultMigrationsDir, 'schema.snapshot.prisma');

/**
 * Everything a migration can shape in the public schema, in a form that compares equal between
 * two databases built differently. Column order is left out: a column added by a later migration
 * comes last, wherever schema.prisma declares it, and Prisma does not care.
 */
const CATALOG_QUERIES = {
  tables: `select table_name from information_schema.tables
           where table_schema = 'public' and table_name <> '_prisma_migrations' order by 1`,
  columns: `select table_name, column_name, data_type, udt_name, is_nullable, column_default,
                   character_maximum_length, numeric_precision, numeric_scale, datetime_precision
            from information_schema.columns
            where table_schema = 'public' and table_name <> '_prisma_migrations' order by 1, 2`,
  indexes: `select tablename, indexname, indexdef from pg_indexes
            where schemaname = 'public' and tablename <> '_prisma_migrations' order by 1, 2`,
  constraints: `select c.conrelid::regclass::text as table_name, c.conname, c.contype, pg_get_constraintdef(c.oid) as definition
                from pg_constraint c join pg_namespace n on n.oid = c.connamespace
                where n.nspname = 'public' and c.conrelid <> coalesce(to_regclass('public._prisma_migrations'), 0)
                order by 1, 2`,
  enums: `select t.typname, string_agg(e.enumlabel, ',' order by e.enumsortorder) as labels
          from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
          where n.nspname = 'public' group by t.typname order by 1`,
  sequences: `select sequence_name, data_type, start_value, increment from information_schema.sequences
              where sequence_schema = 'public' order by 1`,
  extensions: `select extname, extversion from pg_extension order by 1`,
};

async function catalogFingerprint(databaseUrl: string): Promise<Record<string, unknown[]>> {
  const entries = await Promise.all(
    Object.entries(CATALOG_QUERIES).map(async ([part, sql]) => [part, await query(databaseUrl, sql)] as const),
  );
  return Object.fromEntries(entries);
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

describe('the migrations in prisma/migrations', () => {
  let migrated: TestDatabase;
  let fromSchema: TestDatabase;
  let migrationNames: string[];
  let applied: string[];

  beforeAll(async () => {
    [migrated, fromSchema] = await Promise.all([createTestDatabase({ empty: true }), createTestDatabase({ empty: true })]);
    migrationNames = await listMigrationNames(defaultMigrationsDir);
    // In a child process, as the service does: in-process, the schema engine keeps jest alive for ~10 s.
    applied = await runMigrationsInChildProcess(migrated.url, logger);
  });

  afterAll(async () => {
    await Promise.all([migrated?.drop(), fromSchema?.drop()]);
  });

  it('are applied in order to an empty database', () => {
    expect(migrationNames.length).toBeGreaterThan(0);
    expect(applied).toEqual(migrationNames);
  });

  it('build exactly the database schema.prisma describes', async () => {
    const schema = await readFile(schemaPath, 'utf8');
    await query(fromSchema.url, await diffSql('empty', schema));

    const [actual, expected] = await Promise.all([catalogFingerprint(migrated.url), catalogFingerprint(fromSchema.url)]);
    expect(expected.tables).toEqual(expect.arrayContaining([{ table_name: 'users' }, { table_name: 'profiles' }]));
    expect(actual).toEqual(expected);
  });

  it('end with the snapshot the next migration is diffed from, equal to schema.prisma', async () => {
    const [snapshot, schema] = await Promise.all([readFile(snapshotPath, 'utf8'), readFile(schemaPath, 'utf8')]);
    expect(await diffSql(snapshot, schema)).toBe('');
  });

  it('are recorded in _prisma_migrations as prisma migrate deploy records them', async () => {
    const rows = await query<MigrationRow>(
      migrated.url,
      'select migration_name, checksum, finished_at, rolled_back_at, logs, applied_steps_count from _prisma_migrations order by migration_name',
    );
    const expected = await Promise.all(
      migrationNames.map(async (name) => ({
        migration_name: name,
        checksum: createHash('sha256')
          .update(await readFile(join(defaultMigrationsDir, name, MIGRATION_SCRIPT_FILE)))
          .digest('hex'),
        finished_at: expect.any(Date),
        rolled_back_at: null,
        logs: null,
        applied_steps_count: 1,
      })),
    );
    expect(rows).toEqual(expected);
  });

  it('are not applied again', async () => {
    expect(await runMigrationsInChildProcess(migrated.url, logger)).toEqual([]);
    expect(await query(migrated.url, 'select count(*)::int as count from _prisma_migrations')).toEqual([{ count: migrationNames.length }]);
  });
});

describe('applying migrations to an unreachable server', () => {
  it('fails with the reason, not a stack trace', async () => {
    const unreachable = 'postgresql://latch:latch@127.0.0.1:1/latch';
    await expect(runMigrationsInChildProcess(unreachable, logger)).rejects.toThrow(/^Can't reach database server at `127\.0\.0\.1:1`/);
  });
});
