import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { KeySchedule, SigningAlgorithm, UnlockedSigningKey } from '../../../src/provider/keys/key-ring.js';
import { createLogger, type Logger } from '../../../src/logger.js';

/** The members that make a JWK private: none may ever leave the key ring's private side. */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const randomKeyEncryptionKey = () => randomBytes(32);

/** Time that moves only when a test moves it. */
export interface ManualClock {
  now(): Date;
  set(at: Date | number): void;
}

export function manualClock(start: Date | string): ManualClock {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (at) => {
      current = new Date(at).getTime();
    },
  };
}

const GENERATION = { RS256: { modulusLength: 2048 }, ES256: { crv: 'P-256' }, EdDSA: { crv: 'Ed25519' } } as const;

export async function generatePrivateJwk(alg: SigningAlgorithm): Promise<{ kid: string; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair(alg, { ...GENERATION[alg], extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return { kid: await calculateJwkThumbprint(privateJwk), privateJwk };
}

export async function unlockedKey(
  alg: SigningAlgorithm,
  schedule: Pick<KeySchedule, 'activatesAt'> & Partial<Pick<KeySchedule, 'retiresAt' | 'expiresAt'>>,
): Promise<UnlockedSigningKey> {
  return { alg, retiresAt: null, expiresAt: null, ...schedule, ...(await generatePrivateJwk(alg)) };
}

export function privateMembersOf(jwk: object): string[] {
  return PRIVATE_MEMBERS.filter((member) => member in jwk);
}

/** A logger whose lines the test can read back. */
export function capturingLogger(): { logger: Logger; lines: { level: number; msg: string; err?: { message: string } }[] } {
  const lines: { level: number; msg: string; err?: { message: string } }[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
  });
  return { logger: createLogger('info', stream), lines };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits, in short real steps, until `condition` holds. */
export async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}
