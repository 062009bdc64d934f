import { barChart, niceCeiling } from '../../src/console/bar-chart.js';

const series = [
  { label: 'sign-ins', className: 'bar-sign-ins' },
  { label: 'failed', className: 'bar-failures' },
];
const chart = (values: number[][], labelEvery = 1) => barChart({ id: 'c', title: 'Chart', series, slots: values.map((pair, index) => ({ label: `s${index}`, values: pair })), labelEvery });

describe('niceCeiling', () => {
  it('rounds up to 1, 2 or 5 times a power of ten, and nothing to 1', () => {
    expect([0, 0.5, 1, 2, 3, 5, 6, 10, 11, 20, 21, 99, 100, 101, 4999].map(niceCeiling)).toEqual([1, 1, 1, 2, 5, 5, 10, 10, 20, 20, 50, 100, 100, 200, 5000]);
  });
});

describe('barChart', () => {
  it('scales every bar to the rounded-up maximum, from one baseline', () => {
    const { bars, max, plot, ticks } = chart([
      [8, 2],
      [0, 5],
    ]);
    expect(max).toBe(10);
    const full = plot.bottom - plot.top;
    expect(bars.map((bar) => bar.height)).toEqual([0.8, 0.2, 0, 0.5].map((share) => Math.round(share * full * 100) / 100));
    for (const bar of bars) expect(bar.y + bar.height).toBeCloseTo(plot.bottom, 1);
    expect(ticks).toEqual([
      { y: plot.bottom, label: '0' },
      { y: plot.top, label: '10' },
    ]);
  });

  it('puts each slot’s bars side by side, left to right, inside the plot and apart from the next slot’s', () => {
    const { bars, plot } = chart([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(bars.map((bar) => bar.className)).toEqual(['bar-sign-ins', 'bar-failures', 'bar-sign-ins', 'bar-failures', 'bar-sign-ins', 'bar-failures']);
    for (let index = 1; index < bars.length; index += 1) {
      const [before, after] = [bars[index - 1]!, bars[index]!];
      expect(after.x).toBeGreaterThanOrEqual(before.x + before.width - 0.02);
      // Within a slot the bars touch; between slots there is a gap.
      if (index % 2 === 1) expect(after.x).toBeCloseTo(before.x + before.width, 1);
      else expect(after.x).toBeGreaterThan(before.x + before.width + 1);
    }
    expect(bars[0]!.x).toBeGreaterThan(plot.left);
    expect(bars.at(-1)!.x + bars.at(-1)!.width).toBeLessThan(plot.right);
  });

  it('titles every bar with its slot, value and series, zeros included', () => {
    expect(chart([[3, 0]]).bars.map((bar) => bar.title)).toEqual(['s0, sign-ins: 3', 's0, failed: 0']);
  });

  it('draws an empty chart flat rather than dividing by zero', () => {
    const { bars, max } = chart([
      [0, 0],
      [0, 0],
    ]);
    expect(max).toBe(1);
    expect(bars.every((bar) => bar.height === 0 && Number.isFinite(bar.y))).toBe(true);
  });

  it('labels every n-th slot counting back from the latest, centred under it', () => {
    const { labels, bars } = chart(Array.from({ length: 10 }, () => [1, 1]), 4);
    expect(labels.map((label) => label.text)).toEqual(['s1', 's5', 's9']);
    const [first, second] = [bars[2]!, bars[3]!];
    expect(labels[0]!.x).toBeCloseTo((first.x + second.x + second.width) / 2, 0);
  });
});
