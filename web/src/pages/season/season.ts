// Pure helpers of the season page: fixtures grouped by round, tie-break labels, CSV report counts,
// the chart's axis maximum, and the fixture editor's time fields and changes.

export interface Fixture {
  id: string;
  externalMatchId: string;
  startsAt: string;
  homeAssetId: string;
  awayAssetId: string;
  homeName: string;
  awayName: string;
  venue?: string | null;
  round?: string | number | null;
  status: string;
  homeGoals: number | null;
  awayGoals: number | null;
}

export interface RoundGroup {
  key: string;
  label: string;
  fixtures: Fixture[];
}

/** Fixtures grouped by round, rounds in order (numeric when they are numbers), kick-off order inside; no round last. */
export function groupByRound(fixtures: Fixture[]): RoundGroup[] {
  const map = new Map<string, Fixture[]>();
  for (const f of fixtures) {
    const r = f.round === null || f.round === undefined ? '' : String(f.round).trim();
    const list = map.get(r);
    if (list) list.push(f);
    else map.set(r, [f]);
  }
  const keys = [...map.keys()].sort((a, b) => {
    if (a === '') return 1;
    if (b === '') return -1;
    const na = Number(a);
    const nb = Number(b);
    if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
    return a.localeCompare(b, undefined, { numeric: true });
  });
  return keys.map((k) => ({
    key: k || '-',
    label: k === '' ? 'No round' : /^\d+$/.test(k) ? `Round ${k}` : k,
    fixtures: map.get(k)!.slice().sort((x, y) => x.startsAt.localeCompare(y.startsAt) || x.homeName.localeCompare(y.homeName)),
  }));
}

const TIEBREAK_LABELS: Record<string, string> = {
  goals: 'Goals',
  goalsFor: 'GF',
  goalsAgainst: 'GA',
  goalDifference: 'GD',
  goalDiff: 'GD',
  wins: 'Wins',
  draws: 'Draws',
  losses: 'Losses',
  runs: 'Runs',
  wickets: 'Wkts',
};

/** "W 2 · GF 5" from the server's tie-break object (numbers only, in the server's order). */
export function tiebreakText(tb: Record<string, unknown> | null | undefined): string {
  if (!tb) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(tb)) {
    if (typeof v !== 'number') continue;
    parts.push(`${TIEBREAK_LABELS[k] ?? k} ${v}`);
  }
  return parts.join(' · ');
}

/** The lines of a CSV body that are rows (not the header, not blank). */
export function csvRowCount(text: string): number {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return Math.max(0, lines.length - 1);
}

/** Rows with no error: the number "Import the N good rows" names. */
export function goodRowCount(text: string, errors: Array<{ line: number }>): number {
  const bad = new Set(errors.map((e) => e.line));
  return Math.max(0, csvRowCount(text) - bad.size);
}

/** A round number at or above `max` for the chart's axis: 1, 2, 5 × 10^k. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** "3–1", or "v" when there is no result. */
export function scoreText(f: Pick<Fixture, 'homeGoals' | 'awayGoals'>): string {
  return f.homeGoals === null || f.awayGoals === null || f.homeGoals === undefined || f.awayGoals === undefined
    ? 'v'
    : `${f.homeGoals}–${f.awayGoals}`;
}

export const FIXTURE_STATUSES = ['scheduled', 'live', 'finished', 'postponed', 'cancelled'] as const;

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The value of a datetime-local input (local time, minutes) for an ISO instant; '' when invalid. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The ISO instant (UTC) of a datetime-local value read as local time; null when it is not one. */
export function fromLocalInput(v: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v.trim());
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
  if (Number.isNaN(d.getTime()) || d.getMonth() !== +m[2] - 1 || d.getDate() !== +m[3]) return null;
  return d.toISOString().replace('.000Z', 'Z');
}

export interface FixtureForm {
  startsAt: string; // datetime-local value
  status: string;
  venue: string;
  round: string;
}

export function fixtureForm(f: Fixture): FixtureForm {
  return {
    startsAt: toLocalInput(f.startsAt),
    status: f.status,
    venue: f.venue ?? '',
    round: f.round === null || f.round === undefined ? '' : String(f.round),
  };
}

/**
 * The PUT body for what the form changed (only those fields), or the field the client refuses
 * before asking the server.
 */
export function fixtureChanges(f: Fixture, form: FixtureForm): { body: Record<string, string> } | { field: keyof FixtureForm; message: string } {
  const was = fixtureForm(f);
  const body: Record<string, string> = {};
  if (form.startsAt !== was.startsAt) {
    const iso = fromLocalInput(form.startsAt);
    if (!iso) return { field: 'startsAt', message: 'Enter the kick-off date and time.' };
    body.startsAt = iso;
  }
  if (form.status !== was.status) body.status = form.status;
  if (form.venue.trim() !== was.venue.trim()) body.venue = form.venue.trim();
  if (form.round.trim() !== was.round.trim()) body.round = form.round.trim();
  return { body };
}
