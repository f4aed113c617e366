// Bidding helpers: quick-bid amounts from the latest server price, and one bid per intent.

import type { AuctionState } from './types';
import { nextMinimum } from './reducer';

export interface QuickBid {
  amount: number;
  /** Above my max bid: shown but disabled. */
  disabled: boolean;
}

/**
 * Quick bids computed from the latest server state at the moment of the tap: the next minimum,
 * then next + 1 and next + 4 increments (UI.md: £24m, £25m, £28m). Disabled above maxBid.
 */
export function quickBids(a: AuctionState, myMaxBid: number, steps: number[] = [0, 1, 4]): QuickBid[] {
  const next = nextMinimum(a);
  const inc = a.settings.minIncrement;
  const seen = new Set<number>();
  const out: QuickBid[] = [];
  for (const k of steps) {
    const amount = next + k * inc;
    if (seen.has(amount)) continue;
    seen.add(amount);
    out.push({ amount, disabled: amount > myMaxBid });
  }
  return out;
}

/** Why I cannot bid now (null if I can), from the state alone. */
export type BidBlock =
  | 'not_manager'
  | 'not_running'
  | 'paused'
  | 'no_lot'
  | 'leading'
  | 'roster_full'
  | 'over_max'
  | 'offline'
  | null;

export function bidBlock(
  a: AuctionState,
  myId: string | null,
  opts: { live: boolean; serverNowMs: number },
): BidBlock {
  const me = a.managers.find((m) => m.userId === myId);
  if (!me) return 'not_manager';
  if (a.status === 'paused') return 'paused';
  if (a.status !== 'running') return 'not_running';
  if (!a.lot || a.lot.state !== 'running') return 'no_lot';
  if (a.lot.endsAtMs != null && opts.serverNowMs >= a.lot.endsAtMs) return 'no_lot';
  if (a.lot.leaderId === myId) return 'leading';
  if (me.emptySlots <= 0) return 'roster_full';
  if (nextMinimum(a) > me.maxBid) return 'over_max';
  if (!opts.live) return 'offline';
  return null;
}

let counter = 0;
/** A fresh client bid id: unique per intent. */
export function newClientBidId(now = Date.now(), rnd = Math.random): string {
  counter = (counter + 1) % 1e6;
  return `cb-${now.toString(36)}-${counter.toString(36)}-${Math.floor(rnd() * 1e9).toString(36)}`;
}

export interface BidIntent {
  clientBidId: string;
  lot: number;
  amount: number;
  /** Times it was sent (first send and resends after reconnects). */
  sends: number;
}

export type BidAnswer =
  | { clientBidId: string; accepted: true; seq?: number }
  | { clientBidId: string; accepted: false; code: string; message?: string; details?: Record<string, unknown> };

/**
 * One tap = one bid. While an intent is pending, further taps return null (no second bid); the
 * pending intent keeps its clientBidId for every resend until the server answers it.
 */
export class BidIntents {
  private pending: BidIntent | null = null;
  constructor(private readonly makeId: () => string = () => newClientBidId()) {}

  /** Starts an intent; null when one is already pending (a double tap). */
  begin(lot: number, amount: number): BidIntent | null {
    if (this.pending) return null;
    this.pending = { clientBidId: this.makeId(), lot, amount, sends: 0 };
    return this.pending;
  }

  /** Marks a send; returns the intent to send (the same id every time). */
  send(): BidIntent | null {
    if (!this.pending) return null;
    this.pending = { ...this.pending, sends: this.pending.sends + 1 };
    return this.pending;
  }

  current(): BidIntent | null {
    return this.pending;
  }

  /** The server's answer: settles the intent when the id matches; returns it or null. */
  settle(answer: BidAnswer): BidIntent | null {
    if (!this.pending || this.pending.clientBidId !== answer.clientBidId) return null;
    const done = this.pending;
    this.pending = null;
    return done;
  }

  /** Gives up on a pending intent (e.g. the lot closed while offline). */
  abandon(): BidIntent | null {
    const p = this.pending;
    this.pending = null;
    return p;
  }
}
