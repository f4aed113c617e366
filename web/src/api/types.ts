// Shapes of the API objects the league pages use (API.md).
export type Role = 'commissioner' | 'manager' | 'spectator';
export type AuctionStatus = 'waiting' | 'running' | 'paused' | 'completed';

export interface Settings {
  budget: number;
  currency: string;
  rosterSize: number;
  minManagers: number;
  maxManagers: number;
  lotSeconds: number;
  antiSnipeSeconds: number;
  minBid: number;
  minIncrement: number;
  intermissionSeconds: number;
  lotOrder: 'random' | 'fixed' | 'nominate';
  reofferUnsold: number;
  [k: string]: unknown;
}

export interface League {
  id: string;
  name: string;
  sport: string;
  competition: string;
  commissionerId: string;
  status: 'setup' | 'auction' | 'season';
  settings: Settings;
  memberCount: number;
  spectatorCount: number;
  createdAt: string;
  inviteCode?: string;
  watchCode?: string;
  role?: Role;
  auctionStatus?: AuctionStatus | null;
  auctionId?: string | null;
}

export interface RosterItem {
  assetId: string;
  name: string;
  price: number;
  lot: number;
}

export interface Member {
  userId: string;
  name: string;
  role: Role;
  joinedAt: string;
  budgetRemaining: number;
  roster: RosterItem[];
}

export interface Asset {
  id: string;
  sport: string;
  name: string;
  shortName: string | null;
  country: string | null;
  team: string | null;
  role: string | null;
  competitions: string[];
}

export interface LeagueAsset extends Asset {
  assetId: string;
  position: number;
  status: 'available' | 'on_block' | 'sold' | 'unsold';
  ownerId: string | null;
  price: number | null;
}

export interface Sport {
  key: string;
  name: string;
  assetLabel: string;
  assetPlural: string;
  /** The sport's default scoring rules (the season's rules editor shows them). */
  scoring?: {
    sport: string;
    rules: Record<string, number>;
    milestones?: Record<string, { enabled: boolean; threshold: number; points: number }>;
  };
}

export interface Competition {
  code: string;
  name: string;
  sport: string;
  season: string;
  assetCount: number;
}

export interface InvitePreview {
  leagueId: string;
  name: string;
  sport: string;
  competition: string;
  commissionerName: string;
  memberCount: number;
  maxManagers: number;
  joinable: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AuctionSummary {
  id: string;
  status: AuctionStatus;
}
