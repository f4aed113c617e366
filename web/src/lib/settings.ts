// The league settings of PRODUCT.md: defaults, ranges, help text, and client-side validation that
// mirrors the server's (the server stays the judge; its 400 details.field lands on the same field).
import { formatMoney, formatMoneyInput, parseMoney } from './format';

export type SettingKey =
  | 'budget'
  | 'rosterSize'
  | 'minManagers'
  | 'maxManagers'
  | 'lotSeconds'
  | 'antiSnipeSeconds'
  | 'minBid'
  | 'minIncrement'
  | 'intermissionSeconds'
  | 'reofferUnsold';

export interface NumberSetting {
  key: SettingKey;
  label: string;
  money?: boolean;
  min: number;
  max: number;
  def: number;
  unit?: string;
  help: string;
}

export const NUMBER_SETTINGS: NumberSetting[] = [
  { key: 'budget', label: 'Budget per manager', money: true, min: 1, max: 1_000_000_000_000, def: 500_000_000, help: 'What each manager can spend in total.' },
  { key: 'rosterSize', label: 'Roster size', min: 1, max: 50, def: 3, help: 'How many assets each manager buys.' },
  { key: 'minManagers', label: 'Managers needed to start', min: 1, max: 64, def: 2, help: 'The auction can start once this many managers (you included) have joined.' },
  { key: 'maxManagers', label: 'Most managers', min: 1, max: 64, def: 8, help: 'Joins beyond this are refused. Spectators do not count.' },
  { key: 'lotSeconds', label: 'Clock per lot', min: 5, max: 600, def: 30, unit: 's', help: 'The clock each asset gets when it comes up.' },
  { key: 'antiSnipeSeconds', label: 'Anti-snipe', min: 0, max: 120, def: 10, unit: 's', help: 'A bid with less than this left resets the clock to it. 0 turns it off.' },
  { key: 'minBid', label: 'Opening bid', money: true, min: 1, max: 1_000_000_000_000, def: 1_000_000, help: 'The lowest first bid; also kept back for each empty slot.' },
  { key: 'minIncrement', label: 'Minimum raise', money: true, min: 1, max: 1_000_000_000_000, def: 1_000_000, help: 'A bid must beat the current one by at least this.' },
  { key: 'intermissionSeconds', label: 'Pause between lots', min: 0, max: 30, def: 3, unit: 's', help: 'Time to breathe after each hammer.' },
  { key: 'reofferUnsold', label: 'Extra passes over unsold', min: 0, max: 5, def: 1, help: 'How many more times unsold assets come back up.' },
];

export const CURRENCIES: Array<[string, string]> = [
  ['GBP', 'Pound (£)'],
  ['EUR', 'Euro (€)'],
  ['USD', 'Dollar ($)'],
  ['INR', 'Rupee (₹)'],
  ['AUD', 'Australian dollar (A$)'],
];

export const LOT_ORDERS: Array<[string, string, string]> = [
  ['random', 'Random', 'Shuffled once when the auction is created.'],
  ['fixed', 'Set order', 'Assets come up in the order the commissioner sets on the league page.'],
];

export type FormValues = Record<SettingKey, string> & { name: string; currency: string; lotOrder: string; sport: string; competition: string };

export function defaultValues(currency = 'GBP'): FormValues {
  const v: Record<string, string> = { name: '', currency, lotOrder: 'random', sport: '', competition: '' };
  for (const s of NUMBER_SETTINGS) v[s.key] = s.money ? formatMoneyInput(s.def) : String(s.def);
  return v as FormValues;
}

/** The form's values for an existing league's settings. */
export function valuesFrom(l: { name: string; sport: string; competition: string; settings: Record<string, unknown> }): FormValues {
  const v: Record<string, string> = {
    name: l.name,
    sport: l.sport,
    competition: l.competition,
    currency: String(l.settings.currency ?? 'GBP'),
    lotOrder: String(l.settings.lotOrder ?? 'random'),
  };
  for (const s of NUMBER_SETTINGS) {
    const x = Number(l.settings[s.key] ?? s.def);
    v[s.key] = s.money ? formatMoneyInput(x) : String(x);
  }
  return v as FormValues;
}

export type Errors = Partial<Record<string, string>>;

function parseWhole(text: string): number | null {
  const t = text.trim();
  return /^\d{1,7}$/.test(t) ? Number(t) : null;
}

/** Validates the form; returns the API body (flat settings) or the errors by field. */
export function buildBody(v: FormValues): { body: Record<string, unknown> | null; errors: Errors } {
  const errors: Errors = {};
  const body: Record<string, unknown> = {};
  const name = v.name.trim();
  if (name.length < 1 || name.length > 60) errors.name = 'Give the league a name of 1 to 60 characters.';
  body.name = name;
  if (!v.sport) errors.sport = 'Choose a sport.';
  if (!v.competition) errors.competition = 'Choose a competition.';
  body.sport = v.sport;
  body.competition = v.competition;
  body.currency = v.currency;
  body.lotOrder = v.lotOrder;
  const n: Partial<Record<SettingKey, number>> = {};
  for (const s of NUMBER_SETTINGS) {
    const x = s.money ? parseMoney(v[s.key]) : parseWhole(v[s.key]);
    if (x === null || x < s.min || x > s.max) {
      errors[s.key] = s.money
        ? `Enter an amount like 500m, 750k or 1.5bn (at least ${formatMoney(s.min, v.currency)}).`
        : `Enter a whole number from ${s.min} to ${s.max}.`;
      continue;
    }
    n[s.key] = x;
    body[s.key] = x;
  }
  if (n.minManagers !== undefined && n.maxManagers !== undefined && n.minManagers > n.maxManagers)
    errors.minManagers = 'Must not be more than the most managers.';
  if (n.antiSnipeSeconds !== undefined && n.lotSeconds !== undefined && n.antiSnipeSeconds >= n.lotSeconds)
    errors.antiSnipeSeconds = 'Must be shorter than the seconds per lot.';
  if (n.budget !== undefined && n.minBid !== undefined && n.rosterSize !== undefined && n.budget < n.minBid * n.rosterSize)
    errors.budget = `Too small: a full roster at the opening bid needs ${formatMoney(n.minBid * n.rosterSize, v.currency)}.`;
  return { body: Object.keys(errors).length ? null : body, errors };
}
