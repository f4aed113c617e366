// How a league's auction status reads at a glance, and which action it offers.
import type { AuctionStatus, League, Role } from '../api/types';

export interface StatusView {
  label: string;
  tone: 'neutral' | 'live' | 'lead' | 'warn' | 'accent';
  action: string;
  href: string;
  rank: number;
}

export function statusView(l: League, auction: { id: string; status: AuctionStatus } | null): StatusView {
  const leagueHref = `/leagues/${encodeURIComponent(l.id)}`;
  if (!auction) return { label: 'Setting up', tone: 'neutral', action: 'Open league', href: leagueHref, rank: 3 };
  const room = `/auctions/${encodeURIComponent(auction.id)}`;
  switch (auction.status) {
    case 'running':
      return { label: 'Live now', tone: 'live', action: 'Enter the room', href: room, rank: 0 };
    case 'paused':
      return { label: 'Paused', tone: 'warn', action: 'Enter the room', href: room, rank: 1 };
    case 'waiting':
      return { label: 'Lobby open', tone: 'accent', action: 'Enter the lobby', href: room, rank: 2 };
    case 'completed':
      return { label: 'Auction finished', tone: 'neutral', action: 'See results', href: room + '/results', rank: 4 };
  }
  return { label: 'Setting up', tone: 'neutral', action: 'Open league', href: leagueHref, rank: 3 };
}

export function roleLabel(r: Role | undefined): string {
  return r === 'commissioner' ? 'Commissioner' : r === 'spectator' ? 'Spectator' : 'Manager';
}
