// The scoring rules editor's logic: the form from a rules document, and the JSON merge patch
// (RFC 7386) of what changed — a value back at its default is sent as null (the override goes).
import type { Scoring } from './api';

export type Milestone = { enabled: boolean; threshold: number; points: number };
export type MilestoneForm = { enabled: boolean; threshold: string; points: string };

export interface ScoringForm {
  rules: Record<string, string>;
  milestones: Record<string, MilestoneForm>;
}

/** The sports' defaults (as GET /api/sports gives them), for when that list cannot be read. */
export const FALLBACK_DEFAULTS: Record<string, Scoring> = {
  football: { sport: 'football', rules: { win: 3, draw: 1, loss: 0, goal: 1 } },
  cricket: {
    sport: 'cricket',
    rules: { run: 1, wicket: 20, catch: 10, stumping: 25, runOut: 20 },
    milestones: {
      halfCentury: { enabled: false, threshold: 50, points: 10 },
      century: { enabled: false, threshold: 100, points: 25 },
      fiveWicketHaul: { enabled: false, threshold: 5, points: 25 },
    },
  },
};

export const RULE_LABEL: Record<string, string> = {
  win: 'Win',
  draw: 'Draw',
  loss: 'Loss',
  goal: 'Per goal scored',
  run: 'Per run',
  wicket: 'Per wicket',
  catch: 'Per catch',
  stumping: 'Per stumping',
  runOut: 'Per run-out',
};

export const MILESTONE_LABEL: Record<string, { name: string; unit: string }> = {
  halfCentury: { name: 'Half-century', unit: 'Runs' },
  century: { name: 'Century', unit: 'Runs' },
  fiveWicketHaul: { name: 'Five-wicket haul', unit: 'Wickets' },
};

/** A field's dotted name as the server names it (`rules.win`, `milestones.century.points`). */
export type FieldName = string;

export const MAX_RULE = 1_000_000;

export function scoringForm(s: Scoring): ScoringForm {
  const milestones: Record<string, MilestoneForm> = {};
  for (const [k, m] of Object.entries(s.milestones ?? {}))
    milestones[k] = { enabled: m.enabled, threshold: String(m.threshold), points: String(m.points) };
  return { rules: Object.fromEntries(Object.entries(s.rules).map(([k, v]) => [k, String(v)])), milestones };
}

/** The form at the defaults (the keys the league's document has). */
export function defaultsForm(current: Scoring, defaults: Scoring): ScoringForm {
  const f = scoringForm(current);
  for (const k of Object.keys(f.rules)) if (defaults.rules[k] !== undefined) f.rules[k] = String(defaults.rules[k]);
  for (const k of Object.keys(f.milestones)) {
    const d = defaults.milestones?.[k];
    if (d) f.milestones[k] = { enabled: d.enabled, threshold: String(d.threshold), points: String(d.points) };
  }
  return f;
}

type Check = { ok: true; value: number } | { ok: false; message: string };

function whole(text: string, label: string, min: number): Check {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return { ok: false, message: `${label}: enter a whole number${min > 0 ? ` of ${min} or more` : ''}.` };
  const n = Number(t);
  if (n < min) return { ok: false, message: `${label}: enter ${min} or more.` };
  if (n > MAX_RULE) return { ok: false, message: `${label}: enter at most 1,000,000.` };
  return { ok: true, value: n };
}

/** The patch value for one field: skipped when unchanged, null when back at its default. */
function entry<T>(next: T, current: T, dflt: T | undefined): { skip: true } | { skip: false; value: T | null } {
  if (next === current) return { skip: true };
  return { skip: false, value: dflt !== undefined && next === dflt ? null : next };
}

export type PatchResult = { patch: Record<string, unknown>; changes: number } | { field: FieldName; message: string };

/**
 * The merge patch from the current document to the form: only the fields that changed; a value
 * equal to the default is null (restores it); an empty rule box also restores the default.
 * A value the server would refuse names its field instead.
 */
export function scoringPatch(form: ScoringForm, current: Scoring, defaults: Scoring): PatchResult {
  const rules: Record<string, number | null> = {};
  let changes = 0;
  for (const [k, text] of Object.entries(form.rules)) {
    const dflt = defaults.rules[k];
    let next: number;
    if (text.trim() === '' && dflt !== undefined) next = dflt;
    else {
      const c = whole(text, RULE_LABEL[k] ?? k, 0);
      if (!c.ok) return { field: `rules.${k}`, message: c.message };
      next = c.value;
    }
    const e = entry(next, current.rules[k], dflt);
    if (!e.skip) {
      rules[k] = e.value;
      changes++;
    }
  }
  const milestones: Record<string, Record<string, number | boolean | null>> = {};
  for (const [k, m] of Object.entries(form.milestones)) {
    const cur = current.milestones?.[k];
    const d = defaults.milestones?.[k];
    if (!cur) continue;
    const label = MILESTONE_LABEL[k]?.name ?? k;
    const th = m.threshold.trim() === '' && d ? { ok: true as const, value: d.threshold } : whole(m.threshold, `${label} ${(MILESTONE_LABEL[k]?.unit ?? 'threshold').toLowerCase()}`, 1);
    if (!th.ok) return { field: `milestones.${k}.threshold`, message: th.message };
    const pts = m.points.trim() === '' && d ? { ok: true as const, value: d.points } : whole(m.points, `${label} points`, 0);
    if (!pts.ok) return { field: `milestones.${k}.points`, message: pts.message };
    const out: Record<string, number | boolean | null> = {};
    for (const [name, next, was, dv] of [
      ['enabled', m.enabled, cur.enabled, d?.enabled],
      ['threshold', th.value, cur.threshold, d?.threshold],
      ['points', pts.value, cur.points, d?.points],
    ] as const) {
      const e = entry<number | boolean>(next, was, dv);
      if (!e.skip) {
        out[name] = e.value;
        changes++;
      }
    }
    if (Object.keys(out).length) milestones[k] = out;
  }
  const patch: Record<string, unknown> = {};
  if (Object.keys(rules).length) patch.rules = rules;
  if (Object.keys(milestones).length) patch.milestones = milestones;
  return { patch, changes };
}

/** "Off · 50 runs · 10 points": a milestone's defaults in words. */
export function milestoneDefaultText(k: string, d: Milestone | undefined): string {
  if (!d) return '';
  const unit = (MILESTONE_LABEL[k]?.unit ?? 'threshold').toLowerCase();
  return `Default: ${d.enabled ? 'on' : 'off'}, ${d.threshold} ${unit}, ${d.points} points`;
}
