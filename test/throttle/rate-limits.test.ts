import pg from 'pg';
import { createLogger } from '../../src/logger.js';
import { createRateLimits, type Limit } from '../../src/throttle/rate-limits.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

let database: TestDatabase;
let pool: pg.Pool;
let statements = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  // Counts what reaches PostgreSQL: every round trip the limiter makes goes through pool.query.
  const send = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  pool.query = ((...args: unknown[]) => {
    statements += 1;
    return send(...args);
  }) as typeof pool.query;
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

beforeEach(async () => {
  await query(database.url, 'DELETE FROM rate_limits');
});

const limits = () => createRateLimits(pool, { logger: createLogger('silent') });
const perIp: Limit = { keyPrefix: 'ip', points: 5, durationSeconds: 60 };
const perAccount: Limit = { keyPrefix: 'account', points: 2, durationSeconds: 60, blockSeconds: 600 };

async function counted<T>(operation: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = statements;
  const result = await operation();
  return { result, statements: statements - before };
}

describe('rate limits', () => {
  it('count every key of an attempt in one statement, and settle in one', async () => {
    const rateLimits = limits();
    await rateLimits.consume([{ limit: perIp, key: 'warm-up' }]); // the first count also sweeps

    const attempt = [
      { limit: perIp, key: '192.0.2.1' },
      { limit: perAccount, key: 'someone' },
    ];
    expect(await counted(() => rateLimits.consume(attempt))).toEqual({ result: null, statements: 1 });
    expect(await counted(() => rateLimits.settle({ refund: [attempt[0]!], clear: [attempt[1]!] }))).toEqual({ result: undefined, statements: 1 });

    const rows = await query<{ key: string; points: number }>(database.url, 'SELECT key, points FROM rate_limits ORDER BY key');
    expect(rows).toEqual([
      { key: 'ip:192.0.2.1', points: 0 },
      { key: 'ip:warm-up', points: 1 },
    ]);
  });

  it('refuse past the limit until the window ends, then count afresh', async () => {
    const rateLimits = limits();
    const key = [{ limit: perIp, key: '192.0.2.2' }];
    for (let attempt = 0; attempt < perIp.points; attempt += 1) expect(await rateLimits.consume(key)).toBeNull();

    const wait = await rateLimits.consume(key);
    expect(wait).toBeGreaterThan(55);
    expect(wait).toBeLessThanOrEqual(60);

    await query(database.url, `UPDATE rate_limits SET expire = now() - interval '1 second'`);
    expect(await rateLimits.consume(key)).toBeNull();
    expect(await query(database.url, 'SELECT points FROM rate_limits')).toEqual([{ points: 1 }]);
  });

  it('block for the block time from the first refusal, and answer the longest wait of all keys', async () => {
    const rateLimits = limits();
    const attempt = [
      { limit: perIp, key: '192.0.2.3' },
      { limit: perAccount, key: 'someone' },
    ];
    expect(await rateLimits.consume(attempt)).toBeNull();
    expect(await rateLimits.consume(attempt)).toBeNull();

    const wait = await rateLimits.consume(attempt);
    expect(wait).toBeGreaterThan(595);
    expect(wait).toBeLessThanOrEqual(600);
    // Later refusals do not push the block further out.
    const [before] = await query<{ expire: Date }>(database.url, "SELECT expire FROM rate_limits WHERE key = 'account:someone'");
    await rateLimits.consume(attempt);
    expect(await query(database.url, "SELECT expire FROM rate_limits WHERE key = 'account:someone'")).toEqual([before]);
  });
});
