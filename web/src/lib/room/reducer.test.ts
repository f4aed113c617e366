import { describe, expect, it } from 'vitest';
import { applyEvent, applyEvents, applyPresence, computeMaxBid, fromSnapshot, mergeHistory, nextMinimum } from './reducer';
import type { AuctionEvent } from './types';
import { ALI, M, ME, SAM, baseState } from './fixtures.test-helpers';

const base = { auctionId: 'au_1', serverTimeMs: 1_001_000 };
const bid = (seq: number, amount: number, who = ME, name = 'Me', endsAtMs = 1_020_000, extended = false): AuctionEvent => ({
  ...base,
  type: 'bid',
  seq,
  lot: 7,
  amount,
  leaderId: who,
  leaderName: name,
  endsAtMs,
  extended,
});

describe('computeMaxBid', () => {
  it('keeps minBid for every other empty slot', () => {
    expect(computeMaxBid(200 * M, 3, 1 * M)).toBe(198 * M);
    expect(computeMaxBid(200 * M, 1, 1 * M)).toBe(200 * M);
    expect(computeMaxBid(5 * M, 10, 1 * M)).toBe(0);
    expect(computeMaxBid(50 * M, 0, 1 * M)).toBe(0);
  });
});

describe('applyEvent by seq', () => {
  it('applies the next seq and advances', () => {
    const m0 = fromSnapshot(baseState());
    const r = applyEvent(m0, bid(11, 24 * M));
    expect(r.outcome).toBe('applied');
    expect(r.model.auction.seq).toBe(11);
    expect(r.model.auction.lot!.currentBid).toBe(24 * M);
    expect(r.model.auction.lot!.leaderId).toBe(ME);
    expect(r.model.history.map((h) => h.amount)).toEqual([24 * M]);
  });

  it('ignores duplicates (seq ≤ current) without changing anything', () => {
    const m0 = fromSnapshot(baseState());
    const m1 = applyEvent(m0, bid(11, 24 * M)).model;
    const again = applyEvent(m1, bid(11, 24 * M));
    expect(again.outcome).toBe('duplicate');
    expect(again.model).toBe(m1);
    expect(applyEvent(m1, bid(5, 99 * M)).outcome).toBe('duplicate');
  });

  it('reports a gap (seq > current + 1) and leaves the model alone', () => {
    const m0 = fromSnapshot(baseState());
    const r = applyEvent(m0, bid(13, 30 * M));
    expect(r.outcome).toBe('gap');
    expect(r.model).toBe(m0);
  });

  it('applies a batch and stops at a gap', () => {
    const m0 = fromSnapshot(baseState());
    const r = applyEvents(m0, [bid(11, 24 * M), bid(11, 24 * M), bid(12, 25 * M, SAM, 'Sam'), bid(14, 27 * M)]);
    expect(r.outcome).toBe('gap');
    expect(r.model.auction.seq).toBe(12);
    expect(r.model.history.map((h) => h.seq)).toEqual([11, 12]);
  });

  it('records outbid and anti-snipe extensions', () => {
    const m1 = applyEvent(fromSnapshot(baseState()), bid(11, 24 * M)).model;
    const m2 = applyEvent(m1, bid(12, 25 * M, SAM, 'Sam', 1_025_000, true)).model;
    expect(m2.lastBid).toEqual({ seq: 12, lot: 7, extended: true, leaderId: SAM, previousLeaderId: ME });
    expect(m2.auction.lot!.endsAtMs).toBe(1_025_000);
  });
});

describe('every event type', () => {
  it('lot_opened: a fresh running lot with no bids and no history', () => {
    const m0 = applyEvent(fromSnapshot(baseState()), bid(11, 24 * M)).model;
    const ev: AuctionEvent = {
      ...base,
      type: 'lot_opened',
      seq: 12,
      lot: { number: 8, asset: { id: 'liv', name: 'Liverpool' }, retry: true, endsAtMs: 1_040_000 },
    };
    const m = applyEvent(m0, ev).model;
    expect(m.auction.lot).toEqual({
      number: 8,
      asset: { id: 'liv', name: 'Liverpool' },
      state: 'running',
      retry: true,
      currentBid: null,
      leaderId: null,
      leaderName: null,
      endsAtMs: 1_040_000,
      remainingMs: null,
    });
    expect(m.history).toEqual([]);
    expect(m.auction.progress.queued).toBe(32);
  });

  it('lot_opened keeps the asset’s next fixture (and null when it has none)', () => {
    const nf = { fixtureId: 'fx_1', startsAt: '2026-12-12T15:00:00Z', opponentId: 'ars', opponentName: 'Arsenal FC', home: false, round: '16' };
    const m0 = applyEvent(fromSnapshot(baseState()), bid(11, 24 * M)).model;
    const lot = (nextFixture: typeof nf | null) => ({ number: 8, asset: { id: 'liv', name: 'Liverpool', nextFixture }, retry: false, endsAtMs: 1_040_000 });
    expect(applyEvent(m0, { ...base, type: 'lot_opened', seq: 12, lot: lot(nf) }).model.auction.lot!.asset.nextFixture).toEqual(nf);
    expect(applyEvent(m0, { ...base, type: 'lot_opened', seq: 12, lot: lot(null) }).model.auction.lot!.asset.nextFixture).toBeNull();
  });

  it('lot_opened after begin makes a waiting auction running', () => {
    const m0 = fromSnapshot(baseState({ status: 'waiting', lot: null, seq: 1 }));
    const m = applyEvent(m0, {
      ...base,
      type: 'lot_opened',
      seq: 2,
      lot: { number: 1, asset: { id: 'a', name: 'A' }, retry: false, endsAtMs: 5 },
    }).model;
    expect(m.auction.status).toBe('running');
    expect(m.auction.lot!.number).toBe(1);
  });

  it('lot_closed sold: winner pays, gets the asset, loses a slot; maxBid follows the rule', () => {
    const m1 = applyEvent(fromSnapshot(baseState()), bid(11, 24 * M)).model;
    const m = applyEvent(m1, {
      ...base,
      type: 'lot_closed',
      seq: 12,
      lot: 7,
      result: 'sold',
      assetId: 'ars',
      winnerId: ME,
      price: 24 * M,
      winnerBudgetRemaining: 176 * M,
    }).model;
    const me = m.auction.managers.find((x) => x.userId === ME)!;
    expect(me.budgetRemaining).toBe(176 * M);
    expect(me.emptySlots).toBe(2);
    expect(me.roster).toEqual([{ assetId: 'ars', name: 'Arsenal FC', price: 24 * M, lot: 7 }]);
    expect(me.maxBid).toBe(175 * M); // 176 − 1 × (2 − 1)
    expect(m.auction.lot).toMatchObject({ state: 'sold', currentBid: null, leaderId: null, endsAtMs: null });
    expect(m.auction.progress).toEqual({ lotsTotal: 40, lotsClosed: 7, sold: 6, unsold: 1, queued: 33 });
    expect(m.lastResult).toEqual({
      lot: 7,
      assetId: 'ars',
      assetName: 'Arsenal FC',
      result: 'sold',
      winnerId: ME,
      winnerName: 'Me',
      price: 24 * M,
    });
    // nobody else changed
    expect(m.auction.managers.find((x) => x.userId === SAM)).toEqual(m1.auction.managers.find((x) => x.userId === SAM));
  });

  it('lot_closed unsold: counts as unsold, nobody pays', () => {
    const s = baseState();
    const m0 = fromSnapshot({ ...s, lot: { ...s.lot!, currentBid: null, leaderId: null, leaderName: null } });
    const m = applyEvent(m0, { ...base, type: 'lot_closed', seq: 11, lot: 7, result: 'unsold', assetId: 'ars' }).model;
    expect(m.auction.progress.unsold).toBe(2);
    expect(m.auction.progress.sold).toBe(5);
    expect(m.auction.managers).toEqual(m0.auction.managers);
    expect(m.lastResult!.result).toBe('unsold');
    expect(m.lastResult!.winnerName).toBeNull();
  });

  it('intermission: the lot waits with the next opening time; the sale stays visible', () => {
    const m1 = applyEvents(fromSnapshot(baseState()), [
      bid(11, 24 * M),
      { ...base, type: 'lot_closed', seq: 12, lot: 7, result: 'sold', assetId: 'ars', winnerId: ME, price: 24 * M, winnerBudgetRemaining: 176 * M },
      { ...base, type: 'intermission', seq: 13, nextLot: 8, endsAtMs: 1_004_000 },
    ]).model;
    expect(m1.auction.lot!.state).toBe('intermission');
    expect(m1.auction.lot!.endsAtMs).toBe(1_004_000);
    expect(m1.lastResult!.winnerName).toBe('Me');
    expect(m1.lastResult!.price).toBe(24 * M);
  });

  it('paused freezes remainingMs; resumed restores an end', () => {
    const p = applyEvent(fromSnapshot(baseState()), { ...base, type: 'paused', seq: 11, remainingMs: 7373 }).model;
    expect(p.auction.status).toBe('paused');
    expect(p.auction.lot!.endsAtMs).toBeNull();
    expect(p.auction.lot!.remainingMs).toBe(7373);
    const r = applyEvent(p, { ...base, type: 'resumed', seq: 12, endsAtMs: 1_050_000 }).model;
    expect(r.auction.status).toBe('running');
    expect(r.auction.lot!.endsAtMs).toBe(1_050_000);
    expect(r.auction.lot!.remainingMs).toBeNull();
  });

  it('lot_undone refunds the winner, returns the asset and an open lot without bids to the queue, pauses', () => {
    const s = baseState();
    // Sam won Chelsea (lot 3) for 50m; lot 7 is open with no bids.
    const m0 = fromSnapshot({ ...s, status: 'paused', lot: { ...s.lot!, currentBid: null, leaderId: null, leaderName: null } });
    const m = applyEvent(m0, { ...base, type: 'lot_undone', seq: 11, lot: 3, assetId: 'che', refundedUserId: SAM, amount: 50 * M }).model;
    const sam = m.auction.managers.find((x) => x.userId === SAM)!;
    expect(sam.budgetRemaining).toBe(200 * M);
    expect(sam.roster).toEqual([]);
    expect(sam.emptySlots).toBe(3);
    expect(sam.maxBid).toBe(198 * M);
    expect(m.auction.lot).toBeNull();
    expect(m.auction.status).toBe('paused');
    expect(m.auction.progress).toEqual({ lotsTotal: 40, lotsClosed: 6, sold: 4, unsold: 1, queued: 35 });
  });

  it('lot_undone of an unsold lot takes it off the unsold list', () => {
    const s = baseState();
    const m0 = fromSnapshot({ ...s, status: 'paused', lot: { ...s.lot!, state: 'intermission', currentBid: null, leaderId: null, leaderName: null } });
    const m = applyEvent(m0, { ...base, type: 'lot_undone', seq: 11, lot: 7, assetId: 'ars', refundedUserId: null, amount: null }).model;
    expect(m.auction.progress.unsold).toBe(0);
    expect(m.auction.progress.queued).toBe(34);
    expect(m.auction.managers).toEqual(m0.auction.managers);
  });

  it('auction_completed in an intermission leaves the last lot closed as sold', () => {
    const m = applyEvents(fromSnapshot(baseState()), [
      { ...base, type: 'lot_closed', seq: 11, lot: 7, result: 'sold', assetId: 'ars', winnerId: SAM, price: 23 * M, winnerBudgetRemaining: 127 * M },
      { ...base, type: 'intermission', seq: 12, nextLot: 8, endsAtMs: 1_004_000 },
      { ...base, type: 'auction_completed', seq: 13, reason: 'ended_by_commissioner', sold: 6, unsold: 34 },
    ]).model;
    expect(m.auction.lot!.state).toBe('sold');
    expect(m.auction.lot!.endsAtMs).toBeNull();
    expect(m.auction.status).toBe('completed');
  });

  it('auction_completed records the reason and counts', () => {
    const m = applyEvent(fromSnapshot(baseState()), {
      ...base,
      type: 'auction_completed',
      seq: 11,
      reason: 'ended_by_commissioner',
      sold: 5,
      unsold: 35,
    }).model;
    expect(m.auction.status).toBe('completed');
    expect(m.auction.completedReason).toBe('ended_by_commissioner');
    expect(m.auction.progress.sold).toBe(5);
    expect(m.auction.progress.unsold).toBe(1); // never-offered assets stay in queued, as in the state
  });

  it('auction_reset restores budgets and rosters and empties the block', () => {
    const m = applyEvent(fromSnapshot(baseState()), { ...base, type: 'auction_reset', seq: 11 }).model;
    expect(m.auction.status).toBe('waiting');
    expect(m.auction.lot).toBeNull();
    for (const x of m.auction.managers) {
      expect(x.budgetRemaining).toBe(200 * M);
      expect(x.roster).toEqual([]);
      expect(x.emptySlots).toBe(3);
      expect(x.maxBid).toBe(198 * M);
    }
    expect(m.auction.progress).toEqual({ lotsTotal: 40, lotsClosed: 0, sold: 0, unsold: 0, queued: 40 });
  });

  it('auction_deleted marks the room gone', () => {
    expect(applyEvent(fromSnapshot(baseState()), { ...base, type: 'auction_deleted', seq: 11 }).model.deleted).toBe(true);
  });

  it('presence (no seq) changes who is online only', () => {
    const m0 = fromSnapshot(baseState());
    const m = applyPresence(m0, { type: 'presence', auctionId: 'au_1', serverTimeMs: 0, online: [ALI], spectatorsOnline: 4 });
    expect(m.auction.managers.map((x) => [x.userId, x.online])).toEqual([
      [ME, false],
      [SAM, false],
      [ALI, true],
    ]);
    expect(m.auction.spectatorsOnline).toBe(4);
    expect(m.auction.seq).toBe(10);
  });
});

describe('snapshot and history', () => {
  it('derives the last sale from rosters when a snapshot arrives in an intermission', () => {
    const s = baseState();
    const m = fromSnapshot({ ...s, lot: { ...s.lot!, number: 3, asset: { id: 'che', name: 'Chelsea' }, state: 'intermission', currentBid: null, leaderId: null, leaderName: null } });
    expect(m.lastResult).toEqual({ lot: 3, assetId: 'che', assetName: 'Chelsea', result: 'sold', winnerId: SAM, winnerName: 'Sam', price: 50 * M });
  });

  it('merges REST bid rows for the lot on the block without duplicates, in seq order', () => {
    const m1 = applyEvent(fromSnapshot(baseState({ seq: 8 })), bid(9, 22 * M, ALI, 'Ali')).model;
    const rows = [
      { seq: 7, lot: 7, userId: SAM, name: 'Sam', amount: 21 * M, atMs: 1 },
      { seq: 9, lot: 7, userId: ALI, name: 'Ali', amount: 22 * M, atMs: 2 },
      { seq: 3, lot: 6, userId: SAM, name: 'Sam', amount: 5 * M, atMs: 0 },
    ];
    const m = mergeHistory(m1, rows);
    expect(m.history.map((h) => h.seq)).toEqual([7, 9]);
    expect(mergeHistory(m, rows).history).toHaveLength(2);
  });

  it('nextMinimum is minBid without a bid, else current + minIncrement', () => {
    const s = baseState();
    expect(nextMinimum(s)).toBe(24 * M);
    expect(nextMinimum({ ...s, lot: { ...s.lot!, currentBid: null } })).toBe(1 * M);
  });
});
