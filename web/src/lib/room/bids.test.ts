import { describe, expect, it } from 'vitest';
import { BidIntents, bidBlock, newClientBidId, quickBids } from './bids';
import { M, ME, SAM, baseState } from './fixtures.test-helpers';

describe('quickBids', () => {
  it('offers next minimum, +1 and +4 increments from the current price', () => {
    // current 23m, increment 1m → 24, 25, 28 (UI.md sketch)
    expect(quickBids(baseState(), 198 * M)).toEqual([
      { amount: 24 * M, disabled: false },
      { amount: 25 * M, disabled: false },
      { amount: 28 * M, disabled: false },
    ]);
  });

  it('starts at minBid on a lot with no bid', () => {
    const s = baseState();
    const a = { ...s, lot: { ...s.lot!, currentBid: null, leaderId: null, leaderName: null } };
    expect(quickBids(a, 198 * M).map((q) => q.amount)).toEqual([1 * M, 2 * M, 5 * M]);
  });

  it('disables anything above my max bid', () => {
    expect(quickBids(baseState(), 25 * M)).toEqual([
      { amount: 24 * M, disabled: false },
      { amount: 25 * M, disabled: false },
      { amount: 28 * M, disabled: true },
    ]);
  });

  it('uses the increment of the league', () => {
    const s = baseState();
    const a = { ...s, settings: { ...s.settings, minIncrement: 500_000 } };
    expect(quickBids(a, 198 * M).map((q) => q.amount)).toEqual([23_500_000, 24_000_000, 25_500_000]);
  });
});

describe('bidBlock', () => {
  const opts = { live: true, serverNowMs: 1_010_000 };
  it('lets a manager bid on a running lot', () => {
    expect(bidBlock(baseState(), ME, opts)).toBeNull();
  });
  it('explains why not', () => {
    const s = baseState();
    expect(bidBlock(s, 'someone', opts)).toBe('not_manager');
    expect(bidBlock(s, SAM, opts)).toBe('leading');
    expect(bidBlock({ ...s, status: 'paused' }, ME, opts)).toBe('paused');
    expect(bidBlock({ ...s, status: 'waiting' }, ME, opts)).toBe('not_running');
    expect(bidBlock({ ...s, lot: { ...s.lot!, state: 'intermission' } }, ME, opts)).toBe('no_lot');
    expect(bidBlock(s, ME, { live: true, serverNowMs: 1_020_000 })).toBe('no_lot');
    expect(bidBlock(s, ME, { live: false, serverNowMs: 1_010_000 })).toBe('offline');
    const full = { ...s, managers: s.managers.map((m) => (m.userId === ME ? { ...m, emptySlots: 0, maxBid: 0 } : m)) };
    expect(bidBlock(full, ME, opts)).toBe('roster_full');
    const poor = { ...s, managers: s.managers.map((m) => (m.userId === ME ? { ...m, maxBid: 23 * M } : m)) };
    expect(bidBlock(poor, ME, opts)).toBe('over_max');
  });
});

describe('BidIntents: one tap = one bid', () => {
  it('a double tap starts one intent only', () => {
    let n = 0;
    const b = new BidIntents(() => `id${++n}`);
    const first = b.begin(7, 24 * M);
    expect(first).not.toBeNull();
    expect(b.begin(7, 24 * M)).toBeNull();
    expect(b.begin(7, 25 * M)).toBeNull();
    expect(n).toBe(1);
  });

  it('every resend uses the same clientBidId until answered', () => {
    let n = 0;
    const b = new BidIntents(() => `id${++n}`);
    b.begin(7, 24 * M);
    const s1 = b.send()!;
    const s2 = b.send()!; // reconnect resend
    expect(s1.clientBidId).toBe('id1');
    expect(s2.clientBidId).toBe('id1');
    expect(s2.sends).toBe(2);
    expect(b.settle({ clientBidId: 'other', accepted: true })).toBeNull();
    expect(b.current()!.clientBidId).toBe('id1');
    expect(b.settle({ clientBidId: 'id1', accepted: false, code: 'bid_too_low' })!.amount).toBe(24 * M);
    expect(b.current()).toBeNull();
    expect(b.begin(7, 25 * M)!.clientBidId).toBe('id2');
  });

  it('abandon clears a pending intent', () => {
    const b = new BidIntents(() => 'x');
    b.begin(1, 1);
    expect(b.abandon()!.clientBidId).toBe('x');
    expect(b.current()).toBeNull();
    expect(b.send()).toBeNull();
  });

  it('client bid ids are unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newClientBidId()));
    expect(ids.size).toBe(1000);
  });
});
