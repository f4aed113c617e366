import { describe, expect, it } from 'vitest';
import { nextFixtureView } from './nextFixture';
import type { NextFixture } from './types';

const o = { nowMs: Date.UTC(2026, 11, 2, 10, 0), locale: 'en-GB', timeZone: 'UTC' };
const nf = (over: Partial<NextFixture> = {}): NextFixture => ({
  fixtureId: 'fx_1',
  startsAt: '2026-12-12T15:00:00Z',
  opponentId: 'ars',
  opponentName: 'Arsenal FC',
  home: true,
  round: '16',
  status: 'scheduled',
  ...over,
});

describe('nextFixtureView', () => {
  it('home: "vs … (H)" and the day', () => {
    expect(nextFixtureView(nf(), o)).toEqual({
      text: 'Next: vs Arsenal FC (H) · Sat 12 Dec',
      spoken: 'Next fixture: at home to Arsenal FC, Saturday 12 December',
      live: false,
    });
  });
  it('away: "@ … (A)"', () => {
    expect(nextFixtureView(nf({ home: false }), o)!.text).toBe('Next: @ Arsenal FC (A) · Sat 12 Dec');
    expect(nextFixtureView(nf({ home: false }), o)!.spoken).toBe('Next fixture: away at Arsenal FC, Saturday 12 December');
  });
  it('today: the kick-off time instead of the day', () => {
    expect(nextFixtureView(nf({ startsAt: '2026-12-02T19:45:00Z' }), o)!.text).toBe('Next: vs Arsenal FC (H) · today 19:45');
  });
  it('a live fixture says so, without a date', () => {
    expect(nextFixtureView(nf({ status: 'live', startsAt: '2026-12-02T09:30:00Z' }), o)).toEqual({
      text: 'Live now: vs Arsenal FC (H)',
      spoken: 'Playing now, at home to Arsenal FC',
      live: true,
    });
  });
  it('nothing to show: absent, null, or no opponent', () => {
    expect(nextFixtureView(undefined, o)).toBeNull();
    expect(nextFixtureView(null, o)).toBeNull();
    expect(nextFixtureView(nf({ opponentName: ' ' }), o)).toBeNull();
  });
  it('an unreadable time drops the date, keeps the opponent', () => {
    expect(nextFixtureView(nf({ startsAt: 'soon' }), o)!.text).toBe('Next: vs Arsenal FC (H)');
  });
});
