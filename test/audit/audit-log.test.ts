import { createAuditLog, type AuditLog } from '../../src/audit/audit-log.js';
import { createPrismaClient, type PrismaClient } from '../../src/db/prisma.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

const USER = '0190a3b4-0000-7000-8000-000000000001';
// A change of another module's, as WITH items: here, a counter row written with the event.
const change = (key: string) => ({ items: `counted AS (INSERT INTO rate_limits (key, points, expire) VALUES ($1, 1, now()))`, values: [key] });

describe('audit events recorded along another change', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let audit: AuditLog;

  beforeAll(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
    audit = createAuditLog({ prisma, logger: createLogger('silent'), now: () => new Date('2001-02-03T04:05:06.000Z') });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  it('stores the event as record does, and makes the change, in one statement', async () => {
    await audit.recordAlong(change('along-1'), 'test.happened', { userId: USER, clientId: 'app', password: 'never stored' });

    expect(await query(database.url, "SELECT key FROM rate_limits WHERE key = 'along-1'")).toEqual([{ key: 'along-1' }]);
    expect(await audit.list({ subjectId: USER, limit: 10 })).toEqual([
      expect.objectContaining({ event: 'test.happened', at: new Date('2001-02-03T04:05:06.000Z'), actor: USER, subjectId: USER, ip: null, userAgent: null, details: { clientId: 'app' } }),
    ]);
  });

  it('stores neither when the change fails', async () => {
    await query(database.url, "INSERT INTO rate_limits (key, points, expire) VALUES ('along-2', 1, now())");
    await expect(audit.recordAlong(change('along-2'), 'test.failed', { userId: USER })).rejects.toThrow();
    expect(await audit.list({ event: 'test.failed', limit: 10 })).toEqual([]);
  });
});
