import type { JWK } from 'jose';
import type { Prisma, PrismaClient, SigningKey as SigningKeyRow } from '../../generated/prisma/client.js';

/** One row of signing_keys. The private half only ever travels encrypted. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: JWK;
  encryptedPrivateJwk: string;
  createdAt: Date;
  activatesAt: Date;
  retiresAt: Date | null;
  expiresAt: Date | null;
}

/** Reads and writes of signing_keys, only ever handed out inside SigningKeyRepository.exclusively. */
export interface SigningKeyWriter {
  findAll(): Promise<SigningKeyRecord[]>;
  insert(keys: SigningKeyRecord[]): Promise<void>;
  /** Sets when the keys stop signing and when they leave the JWKS. */
  retire(kids: string[], dates: { retiresAt: Date; expiresAt: Date }): Promise<void>;
  delete(kids: string[]): Promise<void>;
}

export interface SigningKeyRepository {
  findAll(): Promise<SigningKeyRecord[]>;
  /**
   * Runs `work` in one transaction holding a PostgreSQL advisory lock, so that writers in every
   * Latch process sharing the database take turns: what `work` reads stays true until it commits.
   */
  exclusively<T>(work: (keys: SigningKeyWriter) => Promise<T>): Promise<T>;
}

// One lock for the whole table, named rather than numbered so that it cannot collide by accident.
const LOCK_NAME = 'latch:signing_keys';
// Covers waiting for another process's turn as well as our own writes; key generation happens before.
const TRANSACTION_TIMEOUT_MS = 15_000;

export function createPrismaSigningKeyRepository(prisma: PrismaClient): SigningKeyRepository {
  return {
    findAll: () => findAll(prisma),

    exclusively: (work) =>
      prisma.$transaction(
        async (tx) => {
          // Released by the commit or rollback, so a crashed holder never leaves it behind.
          // $executeRaw rather than $queryRaw: the function returns void, which Prisma cannot read back.
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${LOCK_NAME}, 0))`;
          return work(writer(tx));
        },
        { timeout: TRANSACTION_TIMEOUT_MS, maxWait: TRANSACTION_TIMEOUT_MS },
      ),
  };
}

function writer(tx: Prisma.TransactionClient): SigningKeyWriter {
  return {
    findAll: () => findAll(tx),

    async insert(keys) {
      await tx.signingKey.createMany({ data: keys.map((key) => ({ ...key, publicJwk: key.publicJwk as Prisma.InputJsonObject })) });
    },

    async retire(kids, { retiresAt, expiresAt }) {
      await tx.signingKey.updateMany({ where: { kid: { in: kids } }, data: { retiresAt, expiresAt } });
    },

    async delete(kids) {
      await tx.signingKey.deleteMany({ where: { kid: { in: kids } } });
    },
  };
}

async function findAll(prisma: Prisma.TransactionClient): Promise<SigningKeyRecord[]> {
  const rows = await prisma.signingKey.findMany({ orderBy: [{ activatesAt: 'asc' }, { kid: 'asc' }] });
  return rows.map(toRecord);
}

function toRecord(row: SigningKeyRow): SigningKeyRecord {
  // Written by insert() from a JWK, and JSONB keeps objects as they are.
  return { ...row, publicJwk: row.publicJwk as JWK };
}
