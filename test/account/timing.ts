/** Median wall time of `runs` sequential calls, after one warm-up call; the median shrugs off a stray GC pause or scheduler hiccup. */
export async function medianMilliseconds(operation: () => Promise<unknown>, runs = 7): Promise<number> {
  await operation();
  const durations: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const start = performance.now();
    await operation();
    durations.push(performance.now() - start);
  }
  durations.sort((a, b) => a - b);
  return durations[Math.floor(runs / 2)] ?? Number.NaN;
}
