// The season page (issue 11): the league table with each manager's assets and an asset's match
// history, the points-over-time chart (uPlot, loaded on demand), the asset leaderboard, fixtures
// by round with results; for the commissioner also CSV import with the per-row report, result
// entry, fixture editing and the scoring rules. Live: the league room's `standings_updated`
// reloads it (a burst makes one reload); a slow poll only while the socket is down.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, session } from '../../api/client';
import { getLeague } from '../../api/leagues';
import type { League } from '../../api/types';
import { GonePage, LoadError, Spinner, errorText, useLoad } from '../../components/ui';
import type { LeagueConn } from '../../realtime/leagueSocket';
import { useLeagueLive } from '../../realtime/useLeagueLive';
import { seasonApi, type AssetPoints, type BoardItem, type Series, type Standing } from './api';
import { FixturesCard } from './Fixtures';
import { ImportCard } from './ImportCard';
import { ChartCard } from './SeasonChart';
import { ScoringCard } from './ScoringCard';
import { tiebreakText, type Fixture } from './season';
import './season.css';

interface Data {
  league: League;
  standings: Standing[];
  series: Series | null;
  board: BoardItem[];
  fixtures: Fixture[];
  /** Which load this is (in the order they were asked for): the newest wins; open match
   * histories reload with it. */
  rev: number;
}

let loads = 0;
async function loadAll(id: string): Promise<Data> {
  const rev = ++loads;
  const [league, st, series, board, fixtures] = await Promise.all([
    getLeague(id),
    seasonApi.standings(id),
    seasonApi.series(id).catch(() => null),
    seasonApi.leaderboard(id).catch(() => ({ items: [] as BoardItem[] })),
    seasonApi.fixtures(id),
  ]);
  return { league, standings: st.items, series, board: board.items, fixtures, rev };
}

/** The events of the league room that change what this page shows. */
const SEASON_EVENTS = new Set(['standings_updated', 'member_joined', 'member_left', 'league_updated']);
/** While the socket is down. */
const POLL_MS = 30_000;

const dayFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export default function SeasonPage({ id }: { id: string }) {
  const res = useLoad(() => loadAll(id), [id]);
  const [data, setData] = useState<Data | null>(null);
  const [gone, setGone] = useState<string | null>(null);
  // The first load and the live reloads may answer out of order: an older answer never wins.
  const take = (next: Data) => setData((cur) => (cur && cur.rev > next.rev ? cur : next));
  useEffect(() => {
    if (res.data) take(res.data);
  }, [res.data]);
  const live = useLeagueLive(id, {
    reload: async () => {
      try {
        take(await loadAll(id));
      } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setGone('You are not a member of this league any more.');
        else throw e;
      }
    },
    relevant: (ev) => SEASON_EVENTS.has(ev.type),
    onEvent: (ev) => {
      if (ev.type === 'league_deleted') setGone('The commissioner deleted this league.');
    },
    // Only once the page has shown the season: one that never loaded is the load's 404.
    onRefused: () => {
      if (data ?? res.data) setGone('You are not a member of this league any more.');
    },
    pollMs: POLL_MS,
  });

  const d = data ?? res.data;
  if (gone) return <GonePage title="This season is closed" why={gone} />;
  if (!d && res.loading) return <Spinner label="Loading the season" />;
  if (!d) return <LoadError error={res.error} onRetry={res.reload} />;
  const me = session.value.user;
  const isComm = d.league.commissionerId === me?.id;
  const owners = new Map(d.standings.map((s) => [s.userId, s.name]));
  const refresh = live.refresh;

  return (
    <div class="page wide season">
      <div class="page-head">
        <div>
          <p class="small muted">
            <a href={`/leagues/${encodeURIComponent(id)}`}>{d.league.name}</a>
          </p>
          <h1>Season</h1>
        </div>
        <LivePill status={live.status} />
      </div>
      <div class="season-grid">
        <div class="season-main">
          <TableCard id={id} standings={d.standings} rev={d.rev} />
          <ChartCard series={d.series} meId={me?.id ?? null} />
          <FixturesCard id={id} fixtures={d.fixtures} isComm={isComm} onSaved={refresh} />
        </div>
        <div class="season-side">
          <BoardCard board={d.board} owners={owners} />
          {isComm && <ImportCard id={id} what={d.league.sport === 'cricket' ? 'stats' : 'fixtures'} onDone={refresh} />}
          {isComm && <ScoringCard id={id} sport={d.league.sport} onSaved={refresh} />}
        </div>
      </div>
    </div>
  );
}

/** Whether the table updates by itself: "Live", or "Reconnecting" while it polls instead. */
function LivePill({ status }: { status: LeagueConn }) {
  if (status === 'connecting' || status === 'refused') return null;
  const on = status === 'live';
  return (
    <span class={`s-live ${on ? 'on' : 'off'}`} role="status" data-testid="season-live" data-status={status}>
      <span class="s-live-dot" aria-hidden="true" />
      {on ? 'Live' : 'Reconnecting…'}
    </span>
  );
}

// ---- league table --------------------------------------------------------------------------

function TableCard({ id, standings, rev }: { id: string; standings: Standing[]; rev: number }) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section class="card" aria-labelledby="table-h">
      <h2 id="table-h">League table</h2>
      {standings.length === 0 ? (
        <p class="muted small">No managers yet.</p>
      ) : (
        <table class="s-table" data-testid="league-table">
          <thead>
            <tr>
              <th scope="col" class="num">
                <abbr title="Rank">#</abbr>
              </th>
              <th scope="col">Manager</th>
              <th scope="col" class="num">
                Points
              </th>
            </tr>
          </thead>
          <tbody>
            {standings.map((s) => {
              const isOpen = open === s.userId;
              const tb = tiebreakText(s.tiebreak);
              return (
                <Fragment key={s.userId}>
                  <tr class={isOpen ? 'open' : undefined}>
                    <td class="num rank">{s.rank}</td>
                    <td>
                      <button
                        class="linkish"
                        aria-expanded={isOpen}
                        aria-controls={`assets-${s.userId}`}
                        onClick={() => setOpen(isOpen ? null : s.userId)}
                      >
                        <span class="chev" aria-hidden="true">
                          {isOpen ? '▾' : '▸'}
                        </span>
                        {s.name}
                      </button>
                      {tb && <div class="tb small muted">{tb}</div>}
                    </td>
                    <td class="num pts" data-testid={`points-${s.name}`}>
                      {s.points}
                    </td>
                  </tr>
                  {isOpen && (
                    <tr class="sub">
                      <td />
                      <td colSpan={2} id={`assets-${s.userId}`}>
                        <AssetList id={id} assets={s.assets} rev={rev} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function AssetList({ id, assets, rev }: { id: string; assets: Standing['assets']; rev: number }) {
  const [open, setOpen] = useState<string | null>(null);
  if (!assets.length) return <p class="small muted">No assets won.</p>;
  return (
    <ul class="s-assets">
      {assets.map((a) => (
        <li key={a.assetId}>
          <div class="s-asset-row">
            <button class="linkish" aria-expanded={open === a.assetId} onClick={() => setOpen(open === a.assetId ? null : a.assetId)}>
              {a.name}
            </button>
            <span class="num">{a.points}</span>
          </div>
          {open === a.assetId && <History id={id} assetId={a.assetId} rev={rev} />}
        </li>
      ))}
    </ul>
  );
}

function History({ id, assetId, rev }: { id: string; assetId: string; rev: number }) {
  // Reloaded with the page's data (rev), showing the last answer meanwhile.
  const r = useLoad<AssetPoints>(() => seasonApi.assetPoints(id, assetId), [id, assetId, rev]);
  if (r.loading && !r.data) return <p class="small muted">Loading matches…</p>;
  if (r.error || !r.data) return <p class="small">{errorText(r.error)}</p>;
  if (!r.data.items.length) return <p class="small muted">No matches yet.</p>;
  return (
    <table class="s-history small">
      <caption class="visually-hidden">Matches of {r.data.name}</caption>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Opponent</th>
          <th scope="col" class="num">
            Score
          </th>
          <th scope="col" class="num">
            Pts
          </th>
        </tr>
      </thead>
      <tbody>
        {r.data.items.map((m, i) => (
          <tr key={m.fixtureId ?? m.externalMatchId + i}>
            <td class="nowrap">{m.startsAt ? dayFmt.format(new Date(m.startsAt)) : m.externalMatchId}</td>
            <td>
              {m.opponent ?? '—'}
              {m.home !== undefined && <span class="muted"> ({m.home ? 'H' : 'A'})</span>}
            </td>
            <td class="num">
              {m.goalsFor !== undefined && m.goalsFor !== null ? `${m.goalsFor}–${m.goalsAgainst ?? 0}` : m.runs !== undefined ? `${m.runs} r` : '—'}
            </td>
            <td class="num">{typeof m.points === 'number' && (m.status === undefined || m.status === 'finished') ? m.points : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ---- leaderboard ---------------------------------------------------------------------------

function BoardCard({ board, owners }: { board: BoardItem[]; owners: Map<string, string> }) {
  const [all, setAll] = useState(false);
  const shown = all ? board : board.slice(0, 10);
  return (
    <section class="card" aria-labelledby="board-h">
      <h2 id="board-h">Asset leaderboard</h2>
      {board.length === 0 ? (
        <p class="muted small">No assets yet.</p>
      ) : (
        <>
          <table class="s-table small">
            <thead>
              <tr>
                <th scope="col" class="num">
                  <abbr title="Rank">#</abbr>
                </th>
                <th scope="col">Asset</th>
                <th scope="col">Owner</th>
                <th scope="col" class="num">
                  Pts
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((b) => (
                <tr key={b.assetId}>
                  <td class="num rank">{b.rank}</td>
                  <td>{b.name}</td>
                  <td class={b.ownerId ? undefined : 'muted'}>{b.ownerId ? owners.get(b.ownerId) ?? '—' : 'Unowned'}</td>
                  <td class="num pts">{b.points}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {board.length > 10 && (
            <button class="btn-small s-more" onClick={() => setAll(!all)}>
              {all ? 'Show the top 10' : `Show all ${board.length}`}
            </button>
          )}
        </>
      )}
    </section>
  );
}

