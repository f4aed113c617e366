// The season endpoints (issue 11), typed for the season page.
import { api } from '../../api/client';
import type { Fixture } from './season';

const enc = encodeURIComponent;

export interface StandingAsset {
  assetId: string;
  name: string;
  points: number;
}
export interface Standing {
  rank: number;
  userId: string;
  name: string;
  points: number;
  tiebreak?: Record<string, unknown>;
  assets: StandingAsset[];
}
export interface Series {
  by: 'date' | 'match';
  labels: string[];
  series: Array<{ userId: string; name: string; points: number[] }>;
}
export interface BoardItem {
  rank: number;
  assetId: string;
  name: string;
  points: number;
  ownerId: string | null;
}
export interface HistoryLine {
  fixtureId?: string;
  externalMatchId: string;
  startsAt?: string;
  opponent?: string;
  home?: boolean;
  status?: string;
  goalsFor?: number | null;
  goalsAgainst?: number | null;
  points: number;
  runs?: number;
  wickets?: number;
}
export interface AssetPoints {
  assetId: string;
  name: string;
  points: number;
  items: HistoryLine[];
}
export interface ImportReport {
  created: number;
  updated: number;
  skipped: number;
  errors: Array<{ line: number; code: string; message: string }>;
  errorCount?: number;
}
export interface Scoring {
  sport: string;
  rules: Record<string, number>;
  milestones?: Record<string, { enabled: boolean; threshold: number; points: number }>;
}

async function allFixtures(id: string): Promise<Fixture[]> {
  const out: Fixture[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const q: string = cursor ? `?limit=200&cursor=${enc(cursor)}` : '?limit=200';
    const page: { items: Fixture[]; nextCursor?: string | null } = await api('GET', `/api/leagues/${enc(id)}/fixtures${q}`);
    out.push(...page.items);
    cursor = page.nextCursor ?? null;
    if (!cursor) break;
  }
  return out;
}

export const seasonApi = {
  fixtures: allFixtures,
  standings: (id: string) => api<{ items: Standing[]; computedAt?: string }>('GET', `/api/leagues/${enc(id)}/standings`),
  series: (id: string) => api<Series>('GET', `/api/leagues/${enc(id)}/standings/series`),
  leaderboard: (id: string) => api<{ items: BoardItem[] }>('GET', `/api/leagues/${enc(id)}/leaderboard`),
  assetPoints: (id: string, assetId: string) => api<AssetPoints>('GET', `/api/leagues/${enc(id)}/assets/${enc(assetId)}/points`),
  /** A fixtures CSV, or for a cricket league (what = 'stats') the players' match stats CSV. */
  importCsv: (id: string, what: 'fixtures' | 'stats', csv: string, partial: boolean) =>
    api<ImportReport>('POST', `/api/leagues/${enc(id)}/${what}/import${partial ? '?partial=true' : ''}`, csv),
  saveFixture: (id: string, fixtureId: string, body: Record<string, unknown>) =>
    api<Fixture>('PUT', `/api/leagues/${enc(id)}/fixtures/${enc(fixtureId)}`, body),
  deleteFixture: (id: string, fixtureId: string) => api<void>('DELETE', `/api/leagues/${enc(id)}/fixtures/${enc(fixtureId)}`),
  scoring: (id: string) => api<Scoring>('GET', `/api/leagues/${enc(id)}/scoring`),
  saveScoring: (id: string, patch: unknown) => api<Scoring>('PUT', `/api/leagues/${enc(id)}/scoring`, patch),
};
