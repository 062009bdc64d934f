import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { MigrationDirectory, MigrationList, SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';
import { projectRoot } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * The one module that talks to Prisma's WebAssembly schema engine (the native engine cannot be
 * downloaded where Latch is built). It reads and applies the standard `prisma/migrations` layout,
 * so a database migrated here is interchangeable with one migrated by `prisma migrate deploy`.
 *
 * The engine leaves a ~10 s timer pending after it has touched a database: processes that apply
 * migrations must exit explicitly, or do it in a child process (see run-migrations.ts).
 */

export const defaultMigrationsDir = join(projectRoot, 'prisma', 'migrations');
export const MIGRATION_SCRIPT_FILE = 'migration.sql';
export const MIGRATION_LOCK_FILE = 'migration_lock.toml';

const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };
const SCHEMA_FILE = 'schema.prisma';

/** Names of the migration directories, oldest first: their names start with a UTC timestamp. */
export async function listMigrationNames(migrationsDir: string): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch((error: unknown) => {
    if (isMissingFile(error)) return [];
    throw error;
  });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Applies the migrations not yet recorded in `_prisma_migrations`; returns their names (empty when up to date). */
export async function applyMigrations(databaseUrl: string, migrationsDir: string, logger: Logger): Promise<string[]> {
  const migrationsList = await readMigrationList(migrationsDir);
  const connections = trackConnections(new PrismaPg({ connectionString: databaseUrl }));
  try {
    const logEngine = (line: string) => logEngineLine(logger, line);
    const { appliedMigrationNames } = await withEngine(connections.factory, logEngine, (engine) =>
      engine.applyMigrations({ migrationsList, filters: NO_FILTERS }),
    );
    return appliedMigrationNames;
  } finally {
    await connections.disposeAll();
  }
}

/**
 * The SQL that turns a database shaped by datamodel `from` (or an empty one) into one shaped by
 * `to`; '' when both describe the same database.
 */
export async function diffSql(from: 'empty' | string, to: string): Promise<string> {
  const { exitCode, stdout } = await withEngine(datamodelOnlyAdapterFactory(), ignoreEngineLog, (engine) =>
    engine.diff({
      from: from === 'empty' ? { tag: 'empty' } : datamodelTarget(from),
      to: datamodelTarget(to),
      script: true,
      // Asks the engine to tell "no difference" (0) from "difference" (2) instead of us parsing its placeholder comment.
      exitCode: true,
      filters: NO_FILTERS,
    }),
  );
  return exitCode === 0 ? '' : (stdout ?? '');
}

async function readMigrationList(migrationsDir: string): Promise<MigrationList> {
  const names = await listMigrationNames(migrationsDir);
  const migrationDirectories = await Promise.all(names.map((name) => readMigrationDirectory(migrationsDir, name)));
  const lockfileContent = await readFile(join(migrationsDir, MIGRATION_LOCK_FILE), 'utf8').catch((error: unknown) => {
    if (isMissingFile(error)) return null;
    throw error;
  });
  return {
    baseDir: migrationsDir,
    lockfile: { path: MIGRATION_LOCK_FILE, content: lockfileContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

async function readMigrationDirectory(migrationsDir: string, name: string): Promise<MigrationDirectory> {
  // A missing or unreadable script is handed to the engine as such, so it reports it like prisma migrate deploy does.
  const content = await readFile(join(migrationsDir, name, MIGRATION_SCRIPT_FILE), 'utf8').then(
    (value) => ({ tag: 'ok' as const, value }),
    (error: unknown) => ({ tag: 'error' as const, value: error instanceof Error ? error.message : String(error) }),
  );
  return { path: name, migrationFile: { path: MIGRATION_SCRIPT_FILE, content } };
}

function datamodelTarget(datamodel: string) {
  return { tag: 'schemaDatamodel' as const, files: [{ path: SCHEMA_FILE, content: datamodel }] };
}

async function withEngine<T>(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  onLog: (line: string) => void,
  use: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  // Imported on first use: loading the engine instantiates a large WebAssembly module.
  const { SchemaEngine } = await import('@prisma/schema-engine-wasm');
  const engine = await SchemaEngine.new(
    { datamodels: undefined },
    onLog,
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
  try {
    return await use(engine);
  } finally {
    engine.free();
  }
}

function ignoreEngineLog(): void {}

interface EngineLogLine {
  level?: string;
  target?: string;
  fields?: { message?: string } & Record<string, unknown>;
}

function logEngineLine(logger: Logger, line: string): void {
  let parsed: EngineLogLine;
  try {
    parsed = JSON.parse(line) as EngineLogLine;
  } catch {
    logger.debug({ engine: line }, 'schema engine');
    return;
  }
  const { message = 'schema engine', ...fields } = parsed.fields ?? {};
  const context = { engine: { target: parsed.target, ...fields } };
  if (parsed.level === 'ERROR') logger.error(context, message);
  else if (parsed.level === 'WARN') logger.warn(context, message);
  else logger.debug(context, message);
}

/** The engine never disposes of the connections it opens; this remembers them so we can. */
function trackConnections(factory: SqlMigrationAwareDriverAdapterFactory) {
  const opened: SqlDriverAdapter[] = [];
  const remember = (adapter: SqlDriverAdapter) => {
    opened.push(adapter);
    return adapter;
  };
  return {
    factory: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => remember(await factory.connect()),
      connectToShadowDb: async () => remember(await factory.connectToShadowDb()),
    } satisfies SqlMigrationAwareDriverAdapterFactory,
    disposeAll: async () => {
      await Promise.all(opened.splice(0).map((adapter) => adapter.dispose()));
    },
  };
}

/**
 * The PostgreSQL major version Latch runs on (the embedded server's). A datamodel diff emits SQL
 * for this version.
 */
const TARGET_SERVER_VERSION = { text: 'PostgreSQL 18.0', number: 180_000 };

/**
 * The wasm engine opens a connection even for a datamodel-to-datamodel diff, which needs no
 * database: all it asks on start is the server version. This adapter answers that one probe with
 * TARGET_SERVER_VERSION and refuses everything else, so diffing needs no server and cannot touch one.
 * If an engine upgrade starts asking anything more, diffSql fails loudly (and its tests with it).
 */
function datamodelOnlyAdapterFactory(): SqlMigrationAwareDriverAdapterFactory {
  const refuse = (what: string) => () =>
    Promise.reject(new Error(`The schema engine tried to ${what} during a datamodel-only diff, which has no database.`));
  const adapter: SqlDriverAdapter = {
    provider: 'postgres',
    adapterName: 'latch-datamodel-only',
    queryRaw: async ({ sql }) => {
      if (!/\bversion\(\)/.test(sql)) return refuse(`run "${sql}"`)();
      return {
        columnNames: ['exists', 'version', 'numeric_version'],
        columnTypes: [ColumnTypeEnum.Boolean, ColumnTypeEnum.Text, ColumnTypeEnum.Int32],
        rows: [[true, TARGET_SERVER_VERSION.text, TARGET_SERVER_VERSION.number]],
      };
    },
    executeRaw: refuse('execute SQL'),
    executeScript: refuse('execute a script'),
    startTransaction: refuse('start a transaction'),
    dispose: () => Promise.resolve(),
  };
  return {
    provider: 'postgres',
    adapterName: adapter.adapterName,
    connect: () => Promise.resolve(adapter),
    connectToShadowDb: refuse('open a shadow database'),
  };
}

function isMissingFile(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
