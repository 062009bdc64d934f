/**
 * Runs at most `limit` tasks at once; the rest wait their turn, first come first served. argon2
 * runs on libuv's thread pool, which also runs the crypto of token signing: unbounded, a burst of
 * sign-ins takes every thread and every core, and token grants wait behind them.
 */
export function boundedConcurrency(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running < limit) running += 1;
    // The slot is handed over by the task that finishes, so `running` never drops in between.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
