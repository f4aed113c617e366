import { describe, expect, it } from 'vitest';
import { bidErrorMessage, controlErrorMessage } from './messages';

const fmt = (u: number) => `£${u / 1_000_000}m`;
const M = 1_000_000;

describe('bidErrorMessage', () => {
  it('bid_too_low names who bid first and offers the next amount', () => {
    expect(bidErrorMessage('bid_too_low', { minimum: 14 * M }, { fmt, leaderName: 'Sam', minBid: M })).toBe(
      'Sam bid first — bid £14m?',
    );
    expect(bidErrorMessage('bid_too_low', { minimum: 14 * M }, { fmt, minBid: M })).toBe('Someone bid first — bid £14m?');
    expect(bidErrorMessage('bid_too_low', { minimum: M }, { fmt, minBid: M })).toBe('Bid must be at least £1m.');
  });

  it('over_max_bid explains the reserve for empty slots', () => {
    expect(bidErrorMessage('over_max_bid', { maxBid: 198 * M }, { fmt, minBid: M, emptySlots: 3 })).toBe(
      'You can bid at most £198m: keep £1m for each of your 2 other empty slots.',
    );
    expect(bidErrorMessage('over_max_bid', { maxBid: 199 * M }, { fmt, minBid: M, emptySlots: 2 })).toBe(
      'You can bid at most £199m: keep £1m for each of your 1 other empty slot.',
    );
    expect(bidErrorMessage('over_max_bid', { maxBid: 50 * M }, { fmt, minBid: M, emptySlots: 1 })).toBe('You can bid at most £50m.');
  });

  it('has a sentence for every code', () => {
    const cases: [string, string][] = [
      ['roster_full', 'Your roster is full — you cannot bid any more.'],
      ['already_leading', 'You already lead this lot.'],
      ['lot_closed', 'The lot has closed — wait for the next one.'],
      ['stale_lot', 'That lot is no longer on the block.'],
      ['not_a_manager', 'Only managers can bid — you are watching.'],
      ['rate_limited', 'Too fast — wait a moment and try again.'],
      ['network', 'No connection — your bid was not sent. It will be sent when you are back online.'],
      ['auction_not_running', 'The auction is not running.'],
      ['something_new', 'Your bid was not accepted — try again.'],
    ];
    for (const [code, text] of cases) expect(bidErrorMessage(code, {}, { fmt })).toBe(text);
    expect(bidErrorMessage('auction_not_running', {}, { fmt, status: 'paused' })).toBe(
      'The auction is paused — wait for the commissioner.',
    );
  });

  it('never shows a code or JSON', () => {
    for (const code of ['bid_too_low', 'over_max_bid', 'lot_closed', 'weird_code']) {
      const t = bidErrorMessage(code, undefined, { fmt });
      expect(t).not.toMatch(/_|\{/);
    }
  });
});

describe('controlErrorMessage', () => {
  it('explains invalid_state', () => {
    expect(controlErrorMessage('invalid_state', 'undo')).toBe(
      'Cannot undo now: the auction is not in a state that allows it.',
    );
  });
});
