/** A bar chart's geometry, for the console's server-rendered SVG (views/console/bar-chart.ejs). */

export interface ChartSeries {
  /** As in "14:00, sign-ins: 3". */
  label: string;
  /** Its colour, from console.css: the page's CSP admits no style attribute. */
  className: string;
}

export interface ChartSlot {
  /** What the slot is, for its bars' tooltips and the table: "14:00", "2 Dec". */
  label: string;
  /** One value per series, in the series' order. */
  values: number[];
}

export interface ChartInput {
  /** Names the chart, for its <title> and its id. */
  id: string;
  title: string;
  series: ChartSeries[];
  slots: ChartSlot[];
  /** Every how many slots the axis names one, counting back from the last (the latest), so that labels do not overlap. */
  labelEvery: number;
}

export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  className: string;
  title: string;
}

export interface BarChart {
  id: string;
  title: string;
  width: number;
  height: number;
  series: ChartSeries[];
  slots: ChartSlot[];
  bars: ChartBar[];
  /** The top of the value axis: the largest value rounded up to 1, 2 or 5 times a power of ten. */
  max: number;
  /** The value axis' labels: 0 and max. */
  ticks: { y: number; label: string }[];
  /** The slot axis' labels, centred under their slot. */
  labels: { x: number; text: string }[];
  /** The plot's bounds (the baseline is at `bottom`). */
  plot: { left: number; right: number; top: number; bottom: number };
}

const WIDTH = 640;
const HEIGHT = 160;
// Room on the right for the latest slot's label, centred under it.
const PLOT = { left: 36, right: WIDTH - 20, top: 8, bottom: HEIGHT - 20 };
/** Of each slot's width, what is left between neighbouring slots' bars. */
const GAP = 0.25;

const round = (value: number) => Math.round(value * 100) / 100;

/** 1, 2, 5, 10, 20, 50...: the smallest at or above `value` (1 for nothing at all). */
export function niceCeiling(value: number): number {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((factor) => factor * power >= value) ?? 10;
  return step * power;
}

export function barChart({ id, title, series, slots, labelEvery }: ChartInput): BarChart {
  const max = niceCeiling(Math.max(0, ...slots.flatMap((slot) => slot.values)));
  const plotWidth = PLOT.right - PLOT.left;
  const plotHeight = PLOT.bottom - PLOT.top;
  const slotWidth = slots.length > 0 ? plotWidth / slots.length : 0;
  const barWidth = series.length > 0 ? (slotWidth * (1 - GAP)) / series.length : 0;

  const bars = slots.flatMap((slot, index) =>
    series.map((one, position) => {
      const value = slot.values[position] ?? 0;
      const height = (value / max) * plotHeight;
      return {
        x: round(PLOT.left + index * slotWidth + (slotWidth * GAP) / 2 + position * barWidth),
        y: round(PLOT.bottom - height),
        width: round(barWidth),
        height: round(height),
        className: one.className,
        title: `${slot.label}, ${one.label}: ${value}`,
      };
    }),
  );
  const labels = slots.flatMap((slot, index) => ((slots.length - 1 - index) % labelEvery === 0 ? [{ x: round(PLOT.left + (index + 0.5) * slotWidth), text: slot.label }] : []));

  return {
    id,
    title,
    width: WIDTH,
    height: HEIGHT,
    series,
    slots,
    bars,
    max,
    ticks: [
      { y: PLOT.bottom, label: '0' },
      { y: PLOT.top, label: String(max) },
    ],
    labels,
    plot: PLOT,
  };
}
