import { describe, expect, it } from 'vitest';
import type { Series } from './api';
import { chartColumns, chartSummary, pointLabel, totalsAt, xRange, yRange } from './chart';

const byDate: Series = {
  by: 'date',
  labels: ['2026-11-21', '2026-11-28', '2026-11-30'],
  series: [
    { userId: 'a', name: 'Alice', points: [7, 9, 9] },
    { userId: 'b', name: 'Bob', points: [1, 10, 16] },
  ],
};

describe('chartColumns', () => {
  it('dates become midnight-UTC epoch seconds on a time axis; one column per manager', () => {
    const c = chartColumns(byDate);
    expect(c.time).toBe(true);
    expect(c.xs).toEqual([Date.UTC(2026, 10, 21) / 1000, Date.UTC(2026, 10, 28) / 1000, Date.UTC(2026, 10, 30) / 1000]);
    expect(c.ys).toEqual([
      [7, 9, 9],
      [1, 10, 16],
    ]);
  });

  it('matches (cricket) are numbered 1..n; a short series is carried forward', () => {
    const c = chartColumns({ by: 'match', labels: ['m1', 'm2', 'm3'], series: [{ userId: 'a', name: 'A', points: [3, 5] }] });
    expect(c.time).toBe(false);
    expect(c.xs).toEqual([1, 2, 3]);
    expect(c.ys).toEqual([[3, 5, 5]]);
  });

  it('labels that are not increasing dates fall back to order', () => {
    expect(chartColumns({ ...byDate, labels: ['2026-11-21', 'soon', '2026-11-30'] }).time).toBe(false);
  });
});

describe('ranges', () => {
  it('y runs from 0 to a round number at or above the top total', () => {
    expect(yRange(chartColumns(byDate).ys)).toEqual([0, 20]);
    expect(yRange([[0, 0]])).toEqual([0, 1]);
  });
  it('x is the data span, widened around a single point', () => {
    const c = chartColumns(byDate);
    expect(xRange(c)).toEqual([c.xs[0], c.xs[2]]);
    const one = chartColumns({ ...byDate, labels: ['2026-11-21'], series: [{ userId: 'a', name: 'A', points: [3] }] });
    expect(xRange(one)).toEqual([one.xs[0] - 86_400, one.xs[0] + 86_400]);
  });
});

describe('words for the chart', () => {
  it('labels dates as UTC days and matches by number', () => {
    expect(pointLabel(byDate, 0, 'en-GB')).toBe('21 Nov');
    expect(pointLabel({ by: 'match', labels: ['x', 'y'], series: [] }, 1)).toBe('Match 2');
  });
  it('totals at a point, highest first', () => {
    expect(totalsAt(byDate, 0).map((t) => `${t.name} ${t.points}`)).toEqual(['Alice 7', 'Bob 1']);
    expect(totalsAt(byDate, null).map((t) => t.name)).toEqual(['Bob', 'Alice']);
  });
  it('summarises the span and the leader', () => {
    expect(chartSummary(byDate, 'en-GB')).toBe('Running points per manager over 3 match days (21 Nov to 30 Nov). Bob leads with 16; then Alice 9.');
    const tied: Series = { by: 'match', labels: ['m1'], series: [byDate.series[0], { userId: 'c', name: 'Cy', points: [7] }] };
    expect(chartSummary(tied)).toBe('Running points per manager over 1 match (Match 1). Alice and Cy share the lead with 7.');
  });
});
