import type { ReadinessCheck } from '../http/health.js';
import type { PrismaClient } from './prisma.js';

/**
 * Ready when the database answers and has every migration this build ships: a replica of a newer
 * build must not take traffic before `db:migrate` ran.
 */
export function migrationsApplied(prisma: PrismaClient, expected: string[]): ReadinessCheck {
  return {
    name: 'database',
    async check() {
      let table: { name: string | null }[];
      try {
        table = await prisma.$queryRaw<{ name: string | null }[]>`SELECT to_regclass('_prisma_migrations')::text AS name`;
      } catch {
        throw new Error('unreachable');
      }
      if (!table[0]?.name) throw new Error('not migrated');
      const applied = await prisma.$queryRaw<{ migration_name: string }[]>`
        SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
      const names = new Set(applied.map((row) => row.migration_name));
      const pending = expected.filter((name) => !names.has(name));
      if (pending.length > 0) throw new Error(`migrations pending: ${pending.join(', ')}`);
    },
  };
}
