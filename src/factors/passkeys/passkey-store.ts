import type { Database } from '../../db/prisma.js';
import { Prisma, type Passkey as PasskeyRow } from '../../generated/prisma/client.js';
import { PasskeyAlreadyRegisteredError, PasskeyNotFoundError } from './errors.js';

export type DeviceType = 'singleDevice' | 'multiDevice';

/** A registered credential as the rest of Latch sees it. */
export interface Passkey {
  id: string;
  credentialId: string;
  userId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  deviceType: DeviceType;
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewPasskey = Omit<Passkey, 'id' | 'createdAt' | 'lastUsedAt'>;

export interface Challenge {
  challenge: string;
  userId: string | null;
  expiresAt: Date;
}

/** The only Prisma user for passkeys and their ceremony challenges. */
export interface PasskeyStore {
  /** PasskeyAlreadyRegisteredError when the credential is registered already (to anyone). */
  create(passkey: NewPasskey): Promise<Passkey>;
  findByCredentialId(credentialId: string): Promise<Passkey | null>;
  /** Oldest first. */
  listByUser(userId: string): Promise<Passkey[]>;
  /** Records a use: the counter the authenticator reported and the flags it may have changed since. */
  recordUse(id: string, use: { counter: number; backedUp: boolean; at: Date }): Promise<void>;
  /** PasskeyNotFoundError unless the user has this passkey. */
  rename(userId: string, id: string, name: string): Promise<void>;
  /** PasskeyNotFoundError unless the user has this passkey. */
  remove(userId: string, id: string): Promise<void>;
  /** Every passkey of the user (an admin's factor reset); how many there were. */
  removeAll(userId: string): Promise<number>;

  /** Starts a ceremony for `binding`, replacing any earlier one of it; drops the expired ones of abandoned ceremonies. */
  putChallenge(binding: string, challenge: Challenge, now: Date): Promise<void>;
  /** Deletes and returns the binding's challenge: a second call for the same ceremony finds nothing. */
  takeChallenge(binding: string): Promise<Challenge | null>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createPrismaPasskeyStore(prisma: Database): PasskeyStore {
  return {
    async create(passkey) {
      try {
        return toPasskey(await prisma.passkey.create({ data: { ...passkey, counter: BigInt(passkey.counter) } }));
      } catch (error) {
        if (isKnownError(error, 'P2002')) throw new PasskeyAlreadyRegisteredError({ cause: error });
        throw error;
      }
    },

    async findByCredentialId(credentialId) {
      const row = await prisma.passkey.findUnique({ where: { credentialId } });
      return row ? toPasskey(row) : null;
    },

    async listByUser(userId) {
      if (!UUID.test(userId)) return [];
      const rows = await prisma.passkey.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      return rows.map(toPasskey);
    },

    async recordUse(id, { counter, backedUp, at }) {
      await prisma.passkey.update({ where: { id }, data: { counter: BigInt(counter), backedUp, lastUsedAt: at }, select: { id: true } });
    },

    // The owner is part of each match, so another user's passkey is answered as a missing one.
    async rename(userId, id, name) {
      if (!UUID.test(id)) throw new PasskeyNotFoundError();
      const { count } = await prisma.passkey.updateMany({ where: { id, userId }, data: { name } });
      if (count === 0) throw new PasskeyNotFoundError();
    },

    async remove(userId, id) {
      if (!UUID.test(id)) throw new PasskeyNotFoundError();
      const { count } = await prisma.passkey.deleteMany({ where: { id, userId } });
      if (count === 0) throw new PasskeyNotFoundError();
    },

    async removeAll(userId) {
      if (!UUID.test(userId)) return 0;
      return (await prisma.passkey.deleteMany({ where: { userId } })).count;
    },

    async putChallenge(binding, { challenge, userId, expiresAt }, now) {
      await prisma.passkeyChallenge.deleteMany({ where: { expiresAt: { lt: now } } });
      await prisma.passkeyChallenge.upsert({
        where: { binding },
        create: { binding, challenge, userId, expiresAt },
        update: { challenge, userId, expiresAt },
        select: { binding: true },
      });
    },

    async takeChallenge(binding) {
      try {
        const row = await prisma.passkeyChallenge.delete({ where: { binding } });
        return { challenge: row.challenge, userId: row.userId, expiresAt: row.expiresAt };
      } catch (error) {
        if (isKnownError(error, 'P2025')) return null;
        throw error;
      }
    },
  };
}

function toPasskey(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    credentialId: row.credentialId,
    userId: row.userId,
    publicKey: new Uint8Array(row.publicKey),
    counter: Number(row.counter),
    transports: row.transports,
    deviceType: row.deviceType === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: row.backedUp,
    name: row.name,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
  };
}

function isKnownError(error: unknown, code: 'P2002' | 'P2025'): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === code;
}
