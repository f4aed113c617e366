// My leagues: each league's auction status at a glance, one tap into a live room.
import { useEffect } from 'preact/hooks';
import { auctionOf, listLeagues } from '../api/leagues';
import type { AuctionSummary, League } from '../api/types';
import { Badge, LoadError, Notice, Spinner, useLoad } from '../components/ui';
import { loc } from '../router';
import { roleLabel, statusView } from '../lib/leagueStatus';

interface Row {
  league: League;
  auction: AuctionSummary | null;
}

async function loadRows(): Promise<Row[]> {
  const leagues = await listLeagues();
  return Promise.all(leagues.map(async (league) => ({ league, auction: await auctionOf(league) })));
}

export default function Leagues() {
  const res = useLoad(loadRows, []);
  // Keep the statuses fresh while the page is open and when the user comes back to it.
  useEffect(() => {
    const refresh = () => {
      if (document.visibilityState === 'visible') loadRows().then(res.set, () => undefined);
    };
    const t = setInterval(refresh, 20_000);
    document.addEventListener('visibilitychange', refresh);
    return () => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', refresh);
    };
  }, []);

  if (res.loading && !res.data) return <Spinner label="Loading your leagues" />;
  if (res.error) return <LoadError error={res.error} onRetry={res.reload} />;
  const rows = [...(res.data ?? [])].sort((a, b) => statusView(a.league, a.auction).rank - statusView(b.league, b.auction).rank);

  return (
    <div class="page">
      <div class="page-head">
        <h1>Your leagues</h1>
        <a class="btn btn-primary" href="/leagues/new">
          New league
        </a>
      </div>
      {loc.value.query.get('following') === '1' && (
        <Notice kind="info">You already follow that league: it is in your list below.</Notice>
      )}
      {rows.length === 0 ? (
        <div class="empty">
          <h2>No leagues yet</h2>
          <p class="muted">Start one and invite your friends, or open the invite link a friend sent you.</p>
          <a class="btn btn-primary" href="/leagues/new">
            Create a league
          </a>
        </div>
      ) : (
        <ul class="league-list">
          {rows.map(({ league, auction }) => {
            const v = statusView(league, auction);
            return (
              <li class={'league-item' + (v.tone === 'live' ? ' live' : '')} key={league.id}>
                <div class="grow">
                  <a href={`/leagues/${encodeURIComponent(league.id)}`}>{league.name}</a>
                  <div class="league-meta">
                    <Badge tone={v.tone}>{v.label}</Badge>
                    <span>{roleLabel(league.role)}</span>
                    <span aria-hidden="true">·</span>
                    <span>{league.competition}</span>
                    <span aria-hidden="true">·</span>
                    <span class="tabular">
                      {league.memberCount} of {league.settings.maxManagers} managers
                    </span>
                  </div>
                </div>
                <a class={'btn' + (v.rank <= 2 ? ' btn-primary' : '')} href={v.href} aria-label={`${v.action}: ${league.name}`}>
                  {v.action}
                </a>
              </li>
            );
          })}
        </ul>
      )}
      {rows.length > 0 && <h2 class="section-title">Season</h2>}
      {rows.map(({ league }) => (
        <p class="small" key={league.id}>
          <a href={`/leagues/${encodeURIComponent(league.id)}/season`} aria-label={`Season: table and fixtures of ${league.name}`}>
            Season: table and fixtures
          </a>{' '}
          <span class="muted">· {league.name}</span>
        </p>
      ))}
    </div>
  );
}
