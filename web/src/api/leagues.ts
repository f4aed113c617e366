// League, membership and catalogue calls used by the league pages.
import { api } from './client';
import type { Asset, AuctionSummary, Competition, InvitePreview, League, LeagueAsset, Member, Page, Sport } from './types';

const enc = encodeURIComponent;

/** Every page of a list endpoint (the API never truncates silently; neither do we). */
export async function all<T>(path: string, max = 5000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const p: Page<T> = await api<Page<T>>('GET', `${path}${sep}limit=500${cursor ? '&cursor=' + enc(cursor) : ''}`);
    out.push(...p.items);
    cursor = p.nextCursor;
  } while (cursor && out.length < max);
  return out;
}

export const listLeagues = () => all<League>('/api/leagues');
export const getLeague = (id: string) => api<League>('GET', `/api/leagues/${enc(id)}`);
export const createLeague = (body: Record<string, unknown>) => api<League>('POST', '/api/leagues', body);
export const patchLeague = (id: string, body: Record<string, unknown>) => api<League>('PATCH', `/api/leagues/${enc(id)}`, body);
export const deleteLeague = (id: string) => api<void>('DELETE', `/api/leagues/${enc(id)}`);
export const listMembers = (id: string) => api<Page<Member>>('GET', `/api/leagues/${enc(id)}/members?role=all&limit=500`).then((p) => p.items);
export const removeMember = (id: string, userId: string) => api<void>('DELETE', `/api/leagues/${enc(id)}/members/${enc(userId)}`);
export const rotateInvite = (id: string) => api<{ inviteCode: string }>('POST', `/api/leagues/${enc(id)}/invite-code`);
export const rotateWatch = (id: string) => api<{ watchCode: string }>('POST', `/api/leagues/${enc(id)}/watch-code`);
export const leagueAssets = (id: string) => all<LeagueAsset>(`/api/leagues/${enc(id)}/assets`);
export const putLeagueAssets = (id: string, assetIds: string[]) => api<unknown>('PUT', `/api/leagues/${enc(id)}/assets`, { assetIds });
export const createAuction = (id: string) => api<AuctionSummary>('POST', `/api/leagues/${enc(id)}/auction`);
export const leagueAuction = (id: string) => api<AuctionSummary>('GET', `/api/leagues/${enc(id)}/auction`);
export const invitePreview = (code: string) => api<InvitePreview>('GET', `/api/invites/${enc(code)}`);
export const joinInvite = (code: string) => api<Member>('POST', `/api/invites/${enc(code)}/join`);
export const watchCode = (code: string) => api<Member & { leagueId?: string }>('POST', `/api/watch/${enc(code)}`);
export const listSports = () => api<Page<Sport>>('GET', '/api/sports').then((p) => p.items);
export const listCompetitions = () => all<Competition>('/api/competitions');

export function searchAssets(sport: string, competition: string, q: string, cursor: string | null) {
  const params = new URLSearchParams({ sport, limit: '50' });
  if (competition) params.set('competition', competition);
  if (q) params.set('q', q);
  if (cursor) params.set('cursor', cursor);
  return api<Page<Asset>>('GET', '/api/assets?' + params.toString());
}

/** The league's auction, whether or not the list item carries auctionId. */
export async function auctionOf(l: League): Promise<AuctionSummary | null> {
  if (l.auctionId && l.auctionStatus) return { id: l.auctionId, status: l.auctionStatus };
  if (l.status === 'setup' && !l.auctionId) return null;
  try {
    return await leagueAuction(l.id);
  } catch {
    return null;
  }
}
