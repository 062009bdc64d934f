import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

/** A Prisma client over node-postgres with a bounded pool; the only way Latch opens database connections. */
export function createPrismaClient(databaseUrl: string, poolMax: number): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: poolMax });
  return new PrismaClient({ adapter });
}
