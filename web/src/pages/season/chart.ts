// Pure helpers of the points-over-time chart: the series as uPlot's aligned columns, the axis
// range, the labels, and the words that stand in for the chart (its accessible description).
import type { Series } from './api';
import { niceMax } from './season';

/** Line colours (the app's tokens, read at draw time) and dash patterns, by manager order. */
export const LINE_TOKENS = ['--accent', '--lead', '--warn', '--danger', '--muted', '--text'];
export const DASHES: number[][] = [[], [6, 4], [2, 4], [10, 3, 2, 3], [1, 3], [8, 2]];

/** x values: epoch seconds (midnight UTC, where the axis puts its day ticks) per date, or 1..n per match; y: one column per manager. */
export interface ChartColumns {
  time: boolean;
  xs: number[];
  ys: number[][];
}

function dateSeconds(label: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(label) ? label + 'T00:00:00Z' : label);
  return Number.isNaN(ms) ? NaN : Math.round(ms / 1000);
}

/** The series as columns; dates that do not parse fall back to match order. */
export function chartColumns(s: Series): ChartColumns {
  const secs = s.by === 'date' ? s.labels.map(dateSeconds) : [];
  const time = s.by === 'date' && secs.every((x) => Number.isFinite(x)) && secs.every((x, i) => i === 0 || x > secs[i - 1]);
  const xs = time ? secs : s.labels.map((_, i) => i + 1);
  const ys = s.series.map((m) => s.labels.map((_, i) => m.points[i] ?? m.points[m.points.length - 1] ?? 0));
  return { time, xs, ys };
}

/** The y axis: 0 to a round number at or above the highest total. */
export function yRange(ys: number[][]): [number, number] {
  return [0, niceMax(Math.max(1, ...ys.flat()))];
}

/** The x axis: the data's span, widened when there is a single point so it sits in the middle. */
export function xRange(c: ChartColumns): [number, number] {
  const lo = c.xs[0] ?? 0;
  const hi = c.xs[c.xs.length - 1] ?? 1;
  if (hi > lo) return [lo, hi];
  const pad = c.time ? 86_400 : 1;
  return [lo - pad, hi + pad];
}

const dayFmtUtc = (locale?: string) => new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' });

/** "21 Nov" for a date label (in UTC: the server's dates are UTC dates), else the label. */
export function pointLabel(s: Series, i: number, locale?: string): string {
  const l = s.labels[i] ?? '';
  if (s.by !== 'date') return `Match ${i + 1}`;
  const secs = dateSeconds(l);
  return Number.isNaN(secs) ? l : dayFmtUtc(locale).format(new Date(secs * 1000));
}

/** The totals at point i (the last point when i is null), highest first, ties by name. */
export function totalsAt(s: Series, i: number | null): Array<{ userId: string; name: string; points: number }> {
  const at = i ?? s.labels.length - 1;
  return s.series
    .map((m) => ({ userId: m.userId, name: m.name, points: m.points[at] ?? m.points[m.points.length - 1] ?? 0 }))
    .sort((a, b) => b.points - a.points || a.name.localeCompare(b.name));
}

/** One sentence that says what the chart shows, for screen readers (and no-canvas browsers). */
export function chartSummary(s: Series, locale?: string): string {
  const n = s.labels.length;
  if (n === 0 || s.series.length === 0) return 'No results yet.';
  const unit = s.by === 'date' ? (n === 1 ? 'match day' : 'match days') : n === 1 ? 'match' : 'matches';
  const span = n === 1 ? pointLabel(s, 0, locale) : `${pointLabel(s, 0, locale)} to ${pointLabel(s, n - 1, locale)}`;
  const t = totalsAt(s, null);
  const lead = t.length > 1 && t[0].points === t[1].points ? `${t[0].name} and ${t[1].name} share the lead with ${t[0].points}` : `${t[0].name} leads with ${t[0].points}`;
  const rest = t.slice(t.length > 1 && t[0].points === t[1].points ? 2 : 1).map((x) => `${x.name} ${x.points}`);
  return `Running points per manager over ${n} ${unit} (${span}). ${lead}${rest.length ? `; then ${rest.join(', ')}` : ''}.`;
}
