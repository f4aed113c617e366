import { describe, expect, it } from 'vitest';
import { csvRowCount, goodRowCount, groupByRound, linePoints, niceMax, scoreText, tiebreakText, type Fixture } from './season';

const fx = (id: string, round: Fixture['round'], startsAt: string): Fixture => ({
  id,
  externalMatchId: id,
  startsAt,
  homeAssetId: 'h',
  awayAssetId: 'a',
  homeName: 'H' + id,
  awayName: 'A' + id,
  round,
  status: 'scheduled',
  homeGoals: null,
  awayGoals: null,
});

describe('groupByRound', () => {
  it('orders numeric rounds numerically, kick-offs inside, no round last', () => {
    const g = groupByRound([fx('a', 10, '2026-01-02T15:00:00Z'), fx('b', '2', '2026-01-01T15:00:00Z'), fx('c', null, '2026-01-01T00:00:00Z'), fx('d', 2, '2025-12-31T15:00:00Z')]);
    expect(g.map((r) => r.label)).toEqual(['Round 2', 'Round 10', 'No round']);
    expect(g[0].fixtures.map((f) => f.id)).toEqual(['d', 'b']);
  });
  it('keeps named rounds as they are', () => {
    expect(groupByRound([fx('a', 'Final', 'x')])[0].label).toBe('Final');
  });
});

describe('chart scaling', () => {
  it('niceMax rounds up to 1, 2, 5 × 10^k', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(13)).toBe(20);
    expect(niceMax(40)).toBe(50);
    expect(niceMax(100)).toBe(100);
  });
  it('linePoints spreads x and maps 0..max to the bottom..top', () => {
    const g = { width: 110, height: 60, pad: { l: 10, r: 0, t: 10, b: 0 } };
    expect(linePoints([0, 5, 10], 3, 10, g)).toEqual([
      [10, 60],
      [60, 35],
      [110, 10],
    ]);
    expect(linePoints([4], 1, 8, g)).toEqual([[60, 35]]);
  });
});

describe('text helpers', () => {
  it('tiebreakText', () => {
    expect(tiebreakText({ goals: 5, wins: 2, note: 'x' })).toBe('Goals 5 · Wins 2');
    expect(tiebreakText(undefined)).toBe('');
  });
  it('CSV row counts', () => {
    const csv = 'a,b\n1,2\n\n3,4\r\n5,6\n';
    expect(csvRowCount(csv)).toBe(3);
    expect(goodRowCount(csv, [{ line: 3 }, { line: 3 }])).toBe(2);
  });
  it('scoreText', () => {
    expect(scoreText({ homeGoals: 2, awayGoals: 0 })).toBe('2–0');
    expect(scoreText({ homeGoals: null, awayGoals: null })).toBe('v');
  });
});
