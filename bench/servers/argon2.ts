/** The floor for sign-in and registration: argon2id hashes per second with Latch's parameters on every core. */
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { serveParent } from '../child.js';

serveParent(async () => ({ port: 0, stop: async () => {} }), {
  async hashRate({ seconds, parameters }: { seconds: number; parameters: { memoryCost: number; timeCost: number; parallelism: number } }) {
    const deadline = performance.now() + seconds * 1000;
    let hashes = 0;
    const begin = performance.now();
    // Enough in flight to keep every core (and libuv's thread pool, which runs them) busy.
    await Promise.all(
      Array.from({ length: Math.max(4, availableParallelism() * 2) }, async () => {
        while (performance.now() < deadline) {
          await argon2.hash('correct horse battery staple', { type: argon2.argon2id, ...parameters });
          hashes += 1;
        }
      }),
    );
    return hashes / ((performance.now() - begin) / 1000);
  },
});
