import type { Invalidation } from './invalidation.js';

/**
 * Values read from the database, kept in memory while the invalidation channel listens and dropped,
 * all of them, at any notice on it. Bounded: past `maxEntries` the least recently used goes.
 */
export interface InvalidatedCache<V> {
  /** The value under `key`, from memory, or read by `load` (and kept, unless a notice came meanwhile). */
  get(key: string, load: () => Promise<V>): Promise<V>;
}

export function invalidatedCache<V>(invalidation: Invalidation, maxEntries: number): InvalidatedCache<V> {
  const entries = new Map<string, V>();
  // Bumped by every notice: a read that started before one must not keep what it read.
  let generation = 0;
  invalidation.subscribe(() => {
    generation += 1;
    entries.clear();
  });

  return {
    async get(key, load) {
      if (!invalidation.listening) return load();
      if (entries.has(key)) {
        const value = entries.get(key) as V;
        // Map keeps insertion order: moving the entry to the end makes the first the least recently used.
        entries.delete(key);
        entries.set(key, value);
        return value;
      }
      const readAt = generation;
      const value = await load();
      if (readAt === generation && invalidation.listening) {
        entries.set(key, value);
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      }
      return value;
    },
  };
}
