// Pure helpers of the season page: fixtures grouped by round, tie-break labels, CSV report counts,
// and the scaling of the small points-over-time chart (inline SVG, no chart library).

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

export interface ChartGeom {
  width: number;
  height: number;
  pad: { l: number; r: number; t: number; b: number };
}

/** SVG polyline points for running totals, x spread evenly over labels, y from 0 to yMax. */
export function linePoints(values: number[], n: number, yMax: number, g: ChartGeom): Array<[number, number]> {
  const w = g.width - g.pad.l - g.pad.r;
  const h = g.height - g.pad.t - g.pad.b;
  const step = n > 1 ? w / (n - 1) : 0;
  return values.map((v, i) => {
    const x = g.pad.l + (n > 1 ? i * step : w / 2);
    const y = g.pad.t + h - (Math.max(0, v) / (yMax || 1)) * h;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  });
}

/** "3–1", or "v" when there is no result. */
export function scoreText(f: Pick<Fixture, 'homeGoals' | 'awayGoals'>): string {
  return f.homeGoals === null || f.awayGoals === null || f.homeGoals === undefined || f.awayGoals === undefined
    ? 'v'
    : `${f.homeGoals}–${f.awayGoals}`;
}
