// Types of the auction room: AuctionState and the WebSocket events of API.md.

export interface Asset {
  id: string;
  sport?: string;
  name: string;
  shortName?: string | null;
  country?: string | null;
  team?: string | null;
  role?: string | null;
  /** On the lot on the block only (AuctionState and lot_opened): its next fixture in the league. */
  nextFixture?: NextFixture | null;
}

/** The asset's live fixture, else its first scheduled one from now (docs/season.md). */
export interface NextFixture {
  fixtureId: string;
  startsAt: string;
  opponentId: string;
  opponentName: string;
  home: boolean;
  round?: string | null;
  status?: string;
}

export interface RosterItem {
  assetId: string;
  name: string;
  price: number;
  lot: number;
}

export interface Manager {
  userId: string;
  name: string;
  budgetRemaining: number;
  maxBid: number;
  emptySlots: number;
  roster: RosterItem[];
  online: boolean;
}

export type LotState = 'running' | 'intermission' | 'sold' | 'unsold';

export interface Lot {
  number: number;
  asset: Asset;
  state: LotState;
  retry: boolean;
  currentBid: number | null;
  leaderId: string | null;
  leaderName: string | null;
  endsAtMs: number | null;
  remainingMs: number | null;
}

export interface AuctionSettings {
  budget: number;
  rosterSize: number;
  minBid: number;
  minIncrement: number;
  lotSeconds: number;
  antiSnipeSeconds: number;
  intermissionSeconds: number;
}

export interface Progress {
  lotsTotal: number;
  lotsClosed: number;
  sold: number;
  unsold: number;
  queued: number;
}

export type AuctionStatus = 'waiting' | 'running' | 'paused' | 'completed';

export interface AuctionState {
  id: string;
  leagueId: string;
  status: AuctionStatus;
  seq: number;
  serverTimeMs: number;
  settings: AuctionSettings;
  lot: Lot | null;
  progress: Progress;
  spectatorsOnline: number;
  managers: Manager[];
  completedReason: null | 'rosters_full' | 'no_lots_left' | 'ended_by_commissioner';
}

/** One accepted bid of the lot on the block, as shown in its history. */
export interface BidRow {
  seq: number;
  lot: number;
  userId: string;
  name: string;
  amount: number;
  atMs: number;
}

/** The outcome of the last closed lot ("Sold to Sam for £23m"). */
export interface LastResult {
  lot: number;
  assetId: string;
  assetName: string;
  result: 'sold' | 'unsold';
  winnerId: string | null;
  winnerName: string | null;
  price: number | null;
}

interface EventBase {
  auctionId: string;
  seq: number;
  serverTimeMs: number;
}

export type AuctionEvent =
  | (EventBase & { type: 'auction_created'; status: 'waiting' })
  | (EventBase & { type: 'lot_opened'; lot: { number: number; asset: Asset; retry: boolean; endsAtMs: number } })
  | (EventBase & {
      type: 'bid';
      lot: number;
      amount: number;
      leaderId: string;
      leaderName: string;
      endsAtMs: number;
      extended: boolean;
    })
  | (EventBase & {
      type: 'lot_closed';
      lot: number;
      result: 'sold' | 'unsold';
      assetId: string;
      winnerId?: string | null;
      price?: number | null;
      winnerBudgetRemaining?: number | null;
    })
  | (EventBase & { type: 'intermission'; nextLot: number | null; endsAtMs: number })
  | (EventBase & { type: 'paused'; remainingMs: number })
  | (EventBase & { type: 'resumed'; endsAtMs: number })
  | (EventBase & { type: 'lot_undone'; lot: number; assetId: string; refundedUserId?: string | null; amount?: number | null })
  | (EventBase & { type: 'auction_completed'; reason: AuctionState['completedReason']; sold: number; unsold: number })
  | (EventBase & { type: 'auction_reset' })
  | (EventBase & { type: 'auction_deleted' });

export interface PresenceEvent {
  type: 'presence';
  auctionId: string;
  serverTimeMs: number;
  online: string[];
  spectatorsOnline: number;
}
