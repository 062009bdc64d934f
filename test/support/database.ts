import { randomUUID } from 'node:crypto';
import { query } from './sql.js';

/** Created and migrated once per run by global-setup.ts; every test database is a copy of it. */
export const TEMPLATE_DATABASE = 'latch_template';
/** Set by global-setup.ts, inherited by the jest workers: a URL allowed to CREATE DATABASE. */
export const ADMIN_URL_VARIABLE = 'LATCH_TEST_ADMIN_URL';

export interface TestDatabase {
  url: string;
  /** Disconnects whoever is still connected, then drops the database. */
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file: a copy of the migrated template (a file copy, far
 * faster than migrating), or an empty one with `{ empty: true }`. Names are random, so parallel
 * jest workers never collide.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = process.env[ADMIN_URL_VARIABLE];
  if (!adminUrl) throw new Error(`${ADMIN_URL_VARIABLE} is not set: run the tests through jest, whose global setup sets it.`);
  const name = `latch_test_${randomUUID().replaceAll('-', '')}`;
  const template = options.empty ? 'template0' : TEMPLATE_DATABASE;
  await query(adminUrl, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  return {
    url: databaseUrl(adminUrl, name),
    drop: async () => {
      await query(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** The same server and credentials as `url`, another database. */
export function databaseUrl(url: string, database: string): string {
  const target = new URL(url);
  target.pathname = `/${database}`;
  return target.href;
}
