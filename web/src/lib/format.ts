// Money in Gavel is an integer number of currency units. These helpers turn units into the short
// form people say ("£12.5m") and back; logic never uses floating point for amounts.

const SYMBOLS: Record<string, string> = {
  GBP: '£',
  USD: '$',
  EUR: '€',
  INR: '₹',
  JPY: '¥',
  AUD: 'A$',
  CAD: 'C$',
  NZD: 'NZ$',
  ZAR: 'R',
};

/** The symbol (or code and a thin space) to put before an amount. */
export function currencySymbol(currency: string): string {
  const code = (currency || 'GBP').toUpperCase();
  return SYMBOLS[code] ?? code + '\u2009';
}

const STEPS: Array<[bigint, string]> = [
  [1_000_000_000n, 'bn'],
  [1_000_000n, 'm'],
  [1_000n, 'k'],
];

/** Digits of n / div with at most `max` decimals: the fewest that are exact, else rounded. */
function scaled(n: bigint, div: bigint, max: number): string {
  const whole = n / div;
  const rest = n % div;
  if (rest === 0n) return whole.toString();
  for (let d = 1; d <= max; d++) {
    const p = 10n ** BigInt(d);
    if ((rest * p) % div === 0n) {
      const frac = ((rest * p) / div).toString().padStart(d, '0');
      return `${whole}.${frac}`;
    }
  }
  const p = 10n ** BigInt(max);
  let q = (n * p + div / 2n) / div; // rounded to `max` decimals
  const w = q / p;
  const f = (q % p).toString().padStart(max, '0').replace(/0+$/, '');
  return f ? `${w}.${f}` : w.toString();
}

/** "£12.5m", "£500m", "£750k", "£1.2bn", "$3m", "£950" — short form of an integer amount. */
export function formatMoney(units: number, currency: string): string {
  if (!Number.isFinite(units)) return '—';
  const sym = currencySymbol(currency);
  const neg = units < 0;
  const n = BigInt(Math.trunc(Math.abs(units)));
  let body = n.toString();
  for (const [div, suffix] of STEPS) {
    if (n >= div) {
      body = scaled(n, div, 3) + suffix;
      break;
    }
  }
  return (neg ? '-' : '') + sym + body;
}

/** The long form with thousands separators: "£12,500,000". */
export function formatMoneyLong(units: number, currency: string): string {
  const sym = currencySymbol(currency);
  const neg = units < 0;
  const s = BigInt(Math.trunc(Math.abs(units))).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + sym + s;
}

const MULT: Record<string, bigint> = {
  '': 1n,
  k: 1_000n,
  m: 1_000_000n,
  mn: 1_000_000n,
  mil: 1_000_000n,
  million: 1_000_000n,
  b: 1_000_000_000n,
  bn: 1_000_000_000n,
  billion: 1_000_000_000n,
};

/**
 * Parses what a person types: "12.5m", "12,500,000", "750k", "1.2bn", "£13m", "13 M".
 * Returns integer units, or null when the text is not a whole, non-negative, safe amount.
 */
export function parseMoney(text: string): number | null {
  if (typeof text !== 'string') return null;
  let s = text.trim().toLowerCase().replace(/[\s\u00a0\u2009_]/g, '');
  s = s.replace(/^(gbp|usd|eur|inr|aud|cad|nzd|zar|jpy)/, '').replace(/^(nz\$|a\$|c\$|[£$€₹¥r])/, '');
  const m = /^(\d[\d,]*)(?:\.(\d+))?([a-z]*)$/.exec(s) ?? /^()\.(\d+)([a-z]*)$/.exec(s);
  if (!m) return null;
  const [, intPartRaw, fracPart = '', suffix] = m;
  const mult = MULT[suffix];
  if (mult === undefined) return null;
  let intPart = intPartRaw;
  if (intPart.includes(',')) {
    if (!/^\d{1,3}(,\d{3})+$/.test(intPart)) return null;
    intPart = intPart.replace(/,/g, '');
  }
  if (intPart === '') intPart = '0';
  const fracScale = 10n ** BigInt(fracPart.length);
  const numerator = BigInt(intPart) * fracScale + (fracPart ? BigInt(fracPart) : 0n);
  const total = numerator * mult;
  if (total % fracScale !== 0n) return null; // a fraction of a unit
  const v = total / fracScale;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(v);
}

/** An exact amount for an input field: "500m", "12.345678m", "750k", or plain digits. */
export function formatMoneyInput(units: number): string {
  const n = BigInt(Math.trunc(Math.abs(units)));
  for (const [div, suffix] of STEPS) {
    if (n >= div) {
      const whole = n / div;
      const rest = n % div;
      if (rest === 0n) return `${whole}${suffix}`;
      const digits = div.toString().length - 1;
      const frac = rest.toString().padStart(digits, '0').replace(/0+$/, '');
      return `${whole}.${frac}${suffix}`;
    }
  }
  return n.toString();
}
