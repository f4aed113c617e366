// The points-over-time chart drawn with uPlot (canvas). Loaded with a dynamic import from the
// season page, so uPlot and its CSS are a chunk of their own that only this chart pulls in.
// Colours come from the app's tokens (read at draw time: the chart is redrawn when the colour
// scheme changes); lines differ by dash as well as colour.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Series } from './api';
import { DASHES, LINE_TOKENS, chartColumns, xRange, yRange } from './chart';

export interface ChartHandle {
  setData(s: Series): void;
  setSize(width: number, height: number): void;
  destroy(): void;
}

export interface ChartOptions {
  width: number;
  height: number;
  /** The signed-in user: their line is drawn thicker. */
  meId?: string | null;
  /** The hovered point (index into the labels), null when the pointer leaves. */
  onHover?(i: number | null): void;
}

const DAY = 86_400;
const utcDay = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });

function token(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function options(s: Series, o: ChartOptions): uPlot.Options {
  const cols = chartColumns(s);
  const muted = token('--muted', '#585c63');
  const grid = token('--border', '#d9d6cd');
  const font = `12px ${token('--font', 'system-ui, sans-serif')}`;
  const axis = { stroke: muted, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1, size: 4 } };
  const few = s.labels.length <= 24;
  return {
    width: o.width,
    height: o.height,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, y: false, points: { size: 8 } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      x: { time: cols.time, range: () => xRange(cols) },
      y: { range: () => yRange(cols.ys) },
    },
    axes: [
      {
        ...axis,
        size: 32,
        space: 56,
        incrs: cols.time ? [1, 2, 3, 7, 14, 28, 56, 91, 182, 364].map((d) => d * DAY) : [1, 2, 5, 10, 20, 50, 100],
        values: (_u, splits) => splits.map((v) => (cols.time ? utcDay.format(new Date(v * 1000)) : String(v))),
      },
      { ...axis, size: 40, space: 32, incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000], values: (_u, splits) => splits.map((v) => String(v)) },
    ],
    series: [
      {},
      ...s.series.map((m, k) => {
        const colour = token(LINE_TOKENS[k % LINE_TOKENS.length], '#2747c9');
        return {
          label: m.name,
          stroke: colour,
          width: m.userId === o.meId ? 3.5 : 2.25,
          dash: DASHES[k % DASHES.length],
          points: { show: few, size: 6, fill: colour, stroke: colour },
        };
      }),
    ],
    hooks: {
      setCursor: [(u) => o.onHover?.(u.cursor.idx ?? null)],
    },
  };
}

function columns(s: Series): uPlot.AlignedData {
  const c = chartColumns(s);
  return [c.xs, ...c.ys];
}

/** Draws the chart into el; the caller sizes it and destroys it. */
export function drawChart(el: HTMLElement, s: Series, o: ChartOptions): ChartHandle {
  let cur = s;
  let u = new uPlot(options(s, o), columns(s), el);
  const rebuild = () => {
    const { width, height } = u;
    u.destroy();
    u = new uPlot(options(cur, { ...o, width, height }), columns(cur), el);
  };
  // Canvas colours are fixed when drawn: draw again in the other scheme.
  const mq = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  mq?.addEventListener('change', rebuild);
  return {
    setData(next) {
      // Drawn anew: the ranges, labels and lines follow the data (a few hundred points at most).
      cur = next;
      rebuild();
    },
    setSize(width, height) {
      if (width !== u.width || height !== u.height) u.setSize({ width, height });
    },
    destroy() {
      mq?.removeEventListener('change', rebuild);
      u.destroy();
    },
  };
}
