import { boundedConcurrency } from '../../src/account/bounded-concurrency.js';

describe('boundedConcurrency', () => {
  /** A task that runs until the test lets it finish. */
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, task: () => opened };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('runs no more than its limit at once, and the rest in the order they came', async () => {
    const run = boundedConcurrency(2);
    const started: number[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const done = gates.map((entry, index) =>
      run(async () => {
        started.push(index);
        await entry.task();
        return index;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    gates[1]?.open();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.open();
    gates[2]?.open();
    gates[3]?.open();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('frees the slot of a task that fails', async () => {
    const run = boundedConcurrency(1);
    await expect(run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await run(async () => 'next')).toBe('next');
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => boundedConcurrency(0)).toThrow(RangeError);
  });
});
