import { describe, expect, it } from 'vitest';
import type { Scoring } from './api';
import { FALLBACK_DEFAULTS, defaultsForm, milestoneDefaultText, scoringForm, scoringPatch } from './scoring';

const cricketDefaults = FALLBACK_DEFAULTS.cricket;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe('scoringPatch', () => {
  it('nothing changed: an empty patch', () => {
    const r = scoringPatch(scoringForm(cricketDefaults), cricketDefaults, cricketDefaults);
    expect(r).toEqual({ patch: {}, changes: 0 });
  });

  it('only the changed milestone fields, nested as the document is', () => {
    const f = scoringForm(cricketDefaults);
    f.milestones.century = { enabled: true, threshold: '100', points: '40' };
    f.rules.wicket = '25';
    expect(scoringPatch(f, cricketDefaults, cricketDefaults)).toEqual({
      patch: { rules: { wicket: 25 }, milestones: { century: { enabled: true, points: 40 } } },
      changes: 3,
    });
  });

  it('a value back at its default is null (restores it); an empty box too', () => {
    const current: Scoring = clone(cricketDefaults);
    current.rules.run = 2;
    current.milestones!.halfCentury = { enabled: true, threshold: 40, points: 15 };
    const f = scoringForm(current);
    f.rules.run = '';
    f.milestones.halfCentury = { enabled: false, threshold: '50', points: '15' };
    expect(scoringPatch(f, current, cricketDefaults)).toEqual({
      patch: { rules: { run: null }, milestones: { halfCentury: { enabled: null, threshold: null } } },
      changes: 3,
    });
  });

  it('"back to defaults" then save restores every override with nulls', () => {
    const current: Scoring = clone(cricketDefaults);
    current.rules.catch = 12;
    current.milestones!.fiveWicketHaul = { enabled: true, threshold: 4, points: 30 };
    const r = scoringPatch(defaultsForm(current, cricketDefaults), current, cricketDefaults);
    expect(r).toEqual({ patch: { rules: { catch: null }, milestones: { fiveWicketHaul: { enabled: null, threshold: null, points: null } } }, changes: 4 });
  });

  it('names the field of a value the server would refuse', () => {
    const f = scoringForm(cricketDefaults);
    f.milestones.century.threshold = '0';
    expect(scoringPatch(f, cricketDefaults, cricketDefaults)).toEqual({ field: 'milestones.century.threshold', message: 'Century runs: enter 1 or more.' });
    const g = scoringForm(FALLBACK_DEFAULTS.football);
    g.rules.win = '2.5';
    expect(scoringPatch(g, FALLBACK_DEFAULTS.football, FALLBACK_DEFAULTS.football)).toEqual({ field: 'rules.win', message: 'Win: enter a whole number.' });
    g.rules.win = '1000001';
    expect(scoringPatch(g, FALLBACK_DEFAULTS.football, FALLBACK_DEFAULTS.football)).toEqual({ field: 'rules.win', message: 'Win: enter at most 1,000,000.' });
  });

  it('football has no milestones', () => {
    const f = scoringForm(FALLBACK_DEFAULTS.football);
    expect(f.milestones).toEqual({});
    f.rules.goal = '2';
    expect(scoringPatch(f, FALLBACK_DEFAULTS.football, FALLBACK_DEFAULTS.football)).toEqual({ patch: { rules: { goal: 2 } }, changes: 1 });
  });
});

describe('milestoneDefaultText', () => {
  it('says the defaults in words', () => {
    expect(milestoneDefaultText('century', cricketDefaults.milestones!.century)).toBe('Default: off, 100 runs, 25 points');
    expect(milestoneDefaultText('fiveWicketHaul', cricketDefaults.milestones!.fiveWicketHaul)).toBe('Default: off, 5 wickets, 25 points');
  });
});
