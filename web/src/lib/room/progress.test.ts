// "Lot N of T" through whole auctions driven by events: re-offer passes and an undo. The old card
// showed min(lot number, assets) and so "Lot 3 of 3" for every re-offer; N must never repeat.
import { describe, expect, it } from 'vitest';
import { applyEvent, fromSnapshot, type RoomModel } from './reducer';
import { lotOf } from './progress';
import type { Asset, AuctionEvent, AuctionState } from './types';
import { M, ME, SAM, baseState } from './fixtures.test-helpers';

const asset = (id: string): Asset => ({ id, name: id.toUpperCase() });

/** A three-asset auction, waiting, as the server sends it before begin. */
function waiting(): AuctionState {
  const s = baseState();
  return {
    ...s,
    status: 'waiting',
    seq: 1,
    lot: null,
    progress: { lotsTotal: 3, lotsClosed: 0, sold: 0, unsold: 0, queued: 3 },
  };
}

class Run {
  m: RoomModel;
  seq: number;
  shown: string[] = [];
  constructor(a: AuctionState) {
    this.m = fromSnapshot(a);
    this.seq = a.seq;
  }
  apply(ev: Record<string, unknown>): this {
    const r = applyEvent(this.m, { auctionId: 'au_1', serverTimeMs: 1, seq: ++this.seq, ...ev } as AuctionEvent);
    expect(r.outcome).toBe('applied');
    this.m = r.model;
    return this;
  }
  open(n: number, id: string, retry = false): this {
    this.apply({ type: 'lot_opened', lot: { number: n, asset: asset(id), retry, endsAtMs: 2 } });
    const p = lotOf(this.m.auction)!;
    this.shown.push(`${p.n} of ${p.total}`);
    return this;
  }
  unsold(n: number, id: string): this {
    return this.apply({ type: 'lot_closed', lot: n, result: 'unsold', assetId: id }).apply({ type: 'intermission', nextLot: n + 1, endsAtMs: 3 });
  }
  sold(n: number, id: string, who = ME): this {
    return this.apply({ type: 'lot_closed', lot: n, result: 'sold', assetId: id, winnerId: who, price: 1 * M }).apply({ type: 'intermission', nextLot: n + 1, endsAtMs: 3 });
  }
}

describe('lotOf', () => {
  it('is null without a lot', () => {
    expect(lotOf(waiting())).toBeNull();
  });

  it('counts through a re-offer pass without repeating N, and the totals follow the server', () => {
    const r = new Run(waiting());
    r.open(1, 'a').unsold(1, 'a').open(2, 'b').sold(2, 'b').open(3, 'c').unsold(3, 'c');
    expect(r.m.auction.progress).toMatchObject({ sold: 1, unsold: 2, queued: 0 });
    // The re-offer pass: a and c again.
    r.open(4, 'a', true);
    expect(r.m.auction.progress.queued).toBe(1); // the server: the pass's queue less the lot on the block
    r.sold(4, 'a', SAM);
    expect(r.m.auction.progress).toMatchObject({ sold: 2, unsold: 1 }); // every asset not owned
    r.open(5, 'c', true).unsold(5, 'c');
    expect(r.m.auction.progress).toMatchObject({ sold: 2, unsold: 1, queued: 0, lotsClosed: 5 });
    expect(r.shown).toEqual(['1 of 3', '2 of 3', '3 of 3', '4 of 5', '5 of 5']);
    expect(new Set(r.shown.map((s) => s.split(' ')[0])).size).toBe(r.shown.length);
  });

  it('a lot opened again after an undo gets a new N and the total grows by one', () => {
    const r = new Run(waiting());
    r.open(1, 'a').sold(1, 'a').open(2, 'b').sold(2, 'b');
    r.apply({ type: 'paused', remainingMs: 3000 });
    r.apply({ type: 'lot_undone', lot: 2, assetId: 'b', refundedUserId: ME, amount: 1 * M });
    expect(lotOf(r.m.auction)).toBeNull();
    r.apply({ type: 'resumed', endsAtMs: 5 });
    r.open(3, 'b').sold(3, 'b').open(4, 'c');
    expect(r.shown).toEqual(['1 of 3', '2 of 3', '3 of 4', '4 of 4']);
  });

  it('keeps the closed lot’s position between lots and after the end', () => {
    const s = baseState(); // lot 7 running, 33 queued
    expect(lotOf(s)).toEqual({ n: 7, total: 40 });
    const r = new Run(s);
    r.apply({ type: 'lot_closed', lot: 7, result: 'unsold', assetId: 'ars' });
    expect(lotOf(r.m.auction)).toEqual({ n: 7, total: 40 });
    r.apply({ type: 'auction_completed', reason: 'ended_by_commissioner', sold: 5, unsold: 35 });
    expect(lotOf(r.m.auction)).toEqual({ n: 7, total: 40 });
  });
});
