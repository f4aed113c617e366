// Results of an auction: every lot (winner, price), every manager's roster with spent and
// remaining, and the CSV download (fetched with the bearer token, saved as a Blob).

import { useEffect, useState } from 'preact/hooks';
import './results.css';
import { api, ApiError } from '../api/client';
import { formatMoney } from '../lib/format';
import type { AuctionState, RosterItem } from '../lib/room/types';

interface Results {
  auctionId: string;
  status: string;
  lots: { lot: number; assetId: string; assetName: string; result: 'sold' | 'unsold'; winnerId: string | null; winnerName: string | null; price: number | null }[];
  managers: { userId: string; name: string; roster: RosterItem[]; spent: number; remaining: number }[];
}

interface League {
  id: string;
  name: string;
  settings: { currency?: string };
}

export default function ResultsPage({ auctionId }: { auctionId: string }) {
  const [data, setData] = useState<{ r: Results; league: League | null; a: AuctionState } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [csvState, setCsvState] = useState<'idle' | 'busy' | 'done' | 'failed'>('idle');
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const id = encodeURIComponent(auctionId);
        const [r, a] = await Promise.all([api<Results>('GET', `/api/auctions/${id}/results`), api<AuctionState>('GET', `/api/auctions/${id}`)]);
        let league: League | null = null;
        try {
          league = await api<League>('GET', `/api/leagues/${encodeURIComponent(a.leagueId)}`);
        } catch {
          /* currency falls back to GBP */
        }
        if (live) setData({ r, league, a });
      } catch (e) {
        if (live) setError(e instanceof ApiError ? (e.status === 404 ? 'This auction does not exist.' : e.message) : 'Could not load the results.');
      }
    })();
    return () => {
      live = false;
    };
  }, [auctionId]);

  if (error)
    return (
      <main id="main" class="results">
        <h1>Results</h1>
        <p role="alert">{error}</p>
      </main>
    );
  if (!data)
    return (
      <main id="main" class="results" aria-busy="true">
        <h1>Results</h1>
        <p class="muted">Loading…</p>
      </main>
    );
  const { r, league, a } = data;
  const cur = league?.settings?.currency ?? 'GBP';
  const fmt = (u: number) => formatMoney(u, cur);

  const downloadCsv = async () => {
    setCsvState('busy');
    try {
      const res = await api<Response>('GET', `/api/auctions/${encodeURIComponent(auctionId)}/results?format=csv`, undefined, { raw: true });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      const safe = (league?.name ?? 'auction').replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '').toLowerCase() || 'auction';
      link.download = `${safe}-results.csv`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setCsvState('done');
    } catch {
      setCsvState('failed');
    }
  };

  const statusText =
    r.status === 'completed' ? 'Final results' : r.status === 'waiting' ? 'The auction has not started' : 'Results so far — the auction is still on';
  return (
    <main id="main" class="results">
      <header class="results-head">
        <div>
          <p class="eyebrow">{league?.name ?? 'Auction'}</p>
          <h1>Results</h1>
          <p class="muted">
            {statusText} · <span class="tabular">{a.progress.sold}</span> sold · <span class="tabular">{r.status === 'completed' ? a.progress.lotsTotal - a.progress.sold : a.progress.unsold}</span> unsold
          </p>
        </div>
        <div class="results-actions">
          <button type="button" class="btn-primary" onClick={downloadCsv} disabled={csvState === 'busy'}>
            {csvState === 'busy' ? 'Preparing CSV…' : 'Download CSV'}
          </button>
          {r.status !== 'completed' ? (
            <a class="btn" href={`/auctions/${encodeURIComponent(auctionId)}`}>
              Back to the room
            </a>
          ) : league ? (
            <a class="btn" href={`/leagues/${league.id}`}>
              League page
            </a>
          ) : null}
          <p class="csv-msg" role="status">
            {csvState === 'done' ? 'CSV downloaded.' : csvState === 'failed' ? 'The download failed — try again.' : ''}
          </p>
        </div>
      </header>

      <section aria-labelledby="rosters-h">
        <h2 id="rosters-h">Rosters</h2>
        <div class="results-rosters" data-testid="results-rosters">
          {r.managers.map((m) => (
            <section class="res-card" key={m.userId} data-user={m.userId}>
              <h3>{m.name}</h3>
              <p class="res-money tabular">
                <span>Spent {fmt(m.spent)}</span>
                <span>Left {fmt(m.remaining)}</span>
              </p>
              {m.roster.length ? (
                <ul>
                  {m.roster.map((x) => (
                    <li key={x.assetId} data-asset={x.assetId}>
                      <span>{x.name}</span>
                      <span class="tabular">{fmt(x.price)}</span>
                    </li>
                  ))}
                </ul>
              ) : (
                <p class="muted">No assets.</p>
              )}
            </section>
          ))}
        </div>
      </section>

      <section aria-labelledby="lots-h">
        <h2 id="lots-h">Every lot</h2>
        {r.lots.length === 0 ? (
          <p class="muted">No lot has closed yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="lots-table" data-testid="results-lots">
              <thead>
                <tr>
                  <th scope="col" class="r">Lot</th>
                  <th scope="col">Asset</th>
                  <th scope="col">Winner</th>
                  <th scope="col" class="r">Price</th>
                </tr>
              </thead>
              <tbody>
                {r.lots.map((l) => (
                  <tr key={l.lot}>
                    <td class="r tabular">{l.lot}</td>
                    <th scope="row">{l.assetName}</th>
                    <td>{l.result === 'sold' ? l.winnerName : <span class="muted">Unsold</span>}</td>
                    <td class="r tabular">{l.price != null && l.result === 'sold' ? fmt(l.price) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </main>
  );
}
