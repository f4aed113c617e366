// Test data builders for the room's unit tests (hand-written, independent of the code under test).
import type { AuctionState } from './types';

export const SAM = 'u_sam';
export const ME = 'u_me';
export const ALI = 'u_ali';
export const M = 1_000_000;

export function baseState(over: Partial<AuctionState> = {}): AuctionState {
  return {
    id: 'au_1',
    leagueId: 'lg_1',
    status: 'running',
    seq: 10,
    serverTimeMs: 1_000_000,
    settings: {
      budget: 200 * M,
      rosterSize: 3,
      minBid: 1 * M,
      minIncrement: 1 * M,
      lotSeconds: 30,
      antiSnipeSeconds: 10,
      intermissionSeconds: 3,
    },
    lot: {
      number: 7,
      asset: { id: 'ars', name: 'Arsenal FC', country: 'England', team: null, role: null },
      state: 'running',
      retry: false,
      currentBid: 23 * M,
      leaderId: SAM,
      leaderName: 'Sam',
      endsAtMs: 1_020_000,
      remainingMs: null,
    },
    progress: { lotsTotal: 40, lotsClosed: 6, sold: 5, unsold: 1, queued: 33 },
    spectatorsOnline: 0,
    managers: [
      { userId: ME, name: 'Me', budgetRemaining: 200 * M, maxBid: 198 * M, emptySlots: 3, roster: [], online: true },
      {
        userId: SAM,
        name: 'Sam',
        budgetRemaining: 150 * M,
        maxBid: 149 * M,
        emptySlots: 2,
        roster: [{ assetId: 'che', name: 'Chelsea', price: 50 * M, lot: 3 }],
        online: true,
      },
      { userId: ALI, name: 'Ali', budgetRemaining: 10 * M, maxBid: 8 * M, emptySlots: 3, roster: [], online: false },
    ],
    completedReason: null,
    ...over,
  };
}
