import { describe, expect, it } from 'vitest';
import { csvRowCount, fixtureChanges, fixtureForm, fromLocalInput, goodRowCount, groupByRound, niceMax, scoreText, tiebreakText, toLocalInput, type Fixture } from './season';

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

describe('fixture editor', () => {
  const f: Fixture = { ...fx('f1', '3', '2026-12-05T15:00:00Z'), venue: 'Emirates', status: 'scheduled' };

  it('datetime-local values round-trip to the same instant', () => {
    const local = toLocalInput(f.startsAt);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(fromLocalInput(local)).toBe('2026-12-05T15:00:00Z');
    expect(toLocalInput('not a date')).toBe('');
  });

  it('a datetime-local value is read as local time', () => {
    const d = new Date(2026, 11, 5, 17, 30);
    expect(fromLocalInput('2026-12-05T17:30')).toBe(d.toISOString().replace('.000Z', 'Z'));
    expect(fromLocalInput('2026-02-30T10:00')).toBeNull();
    expect(fromLocalInput('tomorrow')).toBeNull();
    expect(fromLocalInput('')).toBeNull();
  });

  it('sends only the fields that changed', () => {
    const form = fixtureForm(f);
    expect(form).toEqual({ startsAt: toLocalInput(f.startsAt), status: 'scheduled', venue: 'Emirates', round: '3' });
    expect(fixtureChanges(f, form)).toEqual({ body: {} });
    const later = new Date(Date.parse(f.startsAt) + 2 * 3600_000).toISOString().replace('.000Z', 'Z');
    expect(fixtureChanges(f, { ...form, startsAt: toLocalInput(later), status: 'postponed', venue: ' Emirates ' })).toEqual({
      body: { startsAt: later, status: 'postponed' },
    });
    expect(fixtureChanges(f, { ...form, round: '', venue: 'Wembley' })).toEqual({ body: { round: '', venue: 'Wembley' } });
  });

  it('names the field it refuses before asking the server', () => {
    expect(fixtureChanges(f, { ...fixtureForm(f), startsAt: '' })).toEqual({ field: 'startsAt', message: 'Enter the kick-off date and time.' });
  });
});
