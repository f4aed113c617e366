// The lot card's line about the asset's next fixture: "Next: vs Arsenal (H) · Sat 14 Dec",
// "Next: @ Arsenal (A) · today 15:00", "Live now: vs Arsenal (H)"; with a sentence for screen
// readers ("@" and "(H)" are not read well).
import type { NextFixture } from './types';

export interface NextFixtureView {
  /** What the card shows. */
  text: string;
  /** What a screen reader says instead. */
  spoken: string;
  live: boolean;
}

export interface FormatOptions {
  nowMs: number;
  locale?: string;
  timeZone?: string;
}

function dayKey(d: Date, o: FormatOptions): string {
  return new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: o.timeZone }).format(d);
}

/** Null when there is nothing to show (no fixture, or no opponent named). */
export function nextFixtureView(nf: NextFixture | null | undefined, o: FormatOptions): NextFixtureView | null {
  const opp = nf?.opponentName?.trim();
  if (!nf || !opp) return null;
  const live = nf.status === 'live';
  const side = nf.home ? `vs ${opp} (H)` : `@ ${opp} (A)`;
  const spokenSide = nf.home ? `at home to ${opp}` : `away at ${opp}`;
  if (live) return { text: `Live now: ${side}`, spoken: `Playing now, ${spokenSide}`, live };
  const d = new Date(nf.startsAt);
  if (Number.isNaN(d.getTime())) return { text: `Next: ${side}`, spoken: `Next fixture: ${spokenSide}`, live };
  const tz = o.timeZone ? { timeZone: o.timeZone } : {};
  const today = dayKey(d, o) === dayKey(new Date(o.nowMs), o);
  const time = new Intl.DateTimeFormat(o.locale, { hour: '2-digit', minute: '2-digit', ...tz }).format(d);
  const short = today ? `today ${time}` : new Intl.DateTimeFormat(o.locale, { weekday: 'short', day: 'numeric', month: 'short', ...tz }).format(d);
  const long = today ? `today at ${time}` : new Intl.DateTimeFormat(o.locale, { weekday: 'long', day: 'numeric', month: 'long', ...tz }).format(d);
  return { text: `Next: ${side} · ${short}`, spoken: `Next fixture: ${spokenSide}, ${long}`, live };
}
