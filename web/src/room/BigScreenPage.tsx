// The big screen for a TV in the pub: the lot, the price (≥ 12vh), the clock ring, the last three
// bids and a strip of managers. No controls, no private data (no "you", no max bid of the viewer).

import { useEffect } from 'preact/hooks';
import './room.css';
import './bigscreen.css';
import { formatClock, urgency } from '../lib/room/clock';
import { lotOf } from '../lib/room/progress';
import { assetLine, crest, SignalText, usePriceSignals } from './parts';
import { useRoom } from './RoomPage';
import { connLabel, type RoomStore } from './store';

function TvClock({ store }: { store: RoomStore }) {
  const v = store.clockView.value;
  const s = store.model.value!.auction.settings;
  const total = v.phase === 'intermission' ? Math.max(1, s.intermissionSeconds) * 1000 : s.lotSeconds * 1000;
  const frac = Math.max(0, Math.min(1, v.remainingMs / total));
  const r = 44;
  const c = 2 * Math.PI * r;
  return (
    <div class={`tv-clock clock-${urgency(v)} clock-${v.phase}`} data-testid="tv-clock">
      <svg viewBox="0 0 100 100" aria-hidden="true" class="tv-ring">
        <circle cx="50" cy="50" r={r} class="ring-bg" />
        <circle cx="50" cy="50" r={r} class="ring-fg" stroke-dasharray={c.toFixed(2)} stroke-dashoffset={(c * (1 - frac)).toFixed(2)} transform="rotate(-90 50 50)" />
      </svg>
      <div class="tv-clock-text">
        <span class="tabular">{formatClock(v.remainingMs)}</span>
        <small>{v.phase === 'paused' ? 'Paused' : v.phase === 'intermission' ? 'Next lot' : v.phase === 'running' ? 'left' : ''}</small>
      </div>
    </div>
  );
}

export default function BigScreenPage({ auctionId }: { auctionId: string }) {
  const store = useRoom(auctionId);
  const sig = usePriceSignals(store);
  const m = store.model.value;
  useEffect(() => {
    document.documentElement.classList.add('tv-mode');
    return () => document.documentElement.classList.remove('tv-mode');
  }, []);
  if (store.fatal.value) return <main class="tv tv-msg"><h1>{store.fatal.value}</h1></main>;
  if (!m) return <main class="tv tv-msg" aria-busy="true"><p>Opening…</p></main>;
  const a = m.auction;
  const lot = a.lot;
  const live = store.conn.value === 'live';
  const inter = !!lot && lot.state !== 'running';
  const lr = m.lastResult;
  let headline: preact.ComponentChildren;
  if (a.status === 'waiting') headline = <p class="tv-state">Starting soon</p>;
  else if (a.status === 'completed') headline = <p class="tv-state">Auction complete</p>;
  else if (a.status === 'paused') headline = <p class="tv-state tv-paused">Paused by the commissioner</p>;
  else headline = null;
  const size = a.settings.rosterSize;
  return (
    <main class={`tv${!live ? ' tv-stale' : ''}`} data-status={a.status}>
      <header class="tv-head">
        <span class="tv-league">{store.league.value?.name ?? 'Gavel'}</span>
        {lot ? (
          <span class="tv-lotno tabular">
            Lot {lotOf(a)!.n} of {lotOf(a)!.total}
          </span>
        ) : null}
        <span class={`conn conn-${store.conn.value}`}>
          <span class="conn-dot" aria-hidden="true" />
          {connLabel(store.conn.value)}
        </span>
      </header>
      {headline}
      {lot && a.status !== 'completed' ? (
        <section class="tv-stage">
          <div class="tv-lot">
            <div class="tv-crest" aria-hidden="true">
              {crest(lot.asset)}
            </div>
            <div>
              <h1 class="tv-name">{lot.asset.name}</h1>
              <p class="tv-sub">{assetLine(lot.asset)}</p>
            </div>
          </div>
          <div class="tv-price-row">
            <div class="tv-price-box">
              <SignalText class="tv-price tabular" testid="tv-price" text={sig.priceText} attr={sig.priceAttr} />
              <p class="tv-leader">
                {inter
                  ? lr && lr.result === 'sold'
                    ? `Sold to ${lr.winnerName}`
                    : 'Unsold'
                  : lot.leaderName
                    ? `${lot.leaderName} leads`
                    : 'No bids yet'}
              </p>
            </div>
            <TvClock store={store} />
          </div>
          <ol class="tv-bids" aria-label="Last bids">
            {[...m.history].reverse().slice(0, 3).map((r) => (
              <li key={r.seq}>
                <span>{r.name}</span>
                <span class="tabular">{store.fmt(r.amount)}</span>
              </li>
            ))}
          </ol>
        </section>
      ) : a.status === 'completed' ? (
        <section class="tv-final">
          {a.managers.map((x) => (
            <div class="tv-final-card" key={x.userId}>
              <h2>{x.name}</h2>
              <ul>
                {x.roster.map((r) => (
                  <li key={r.assetId}>
                    <span>{r.name}</span>
                    <span class="tabular">{store.fmt(r.price)}</span>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </section>
      ) : (
        <section class="tv-stage tv-waiting">
          <p class="tv-sub">{a.managers.filter((x) => x.online).length} of {a.managers.length} managers here</p>
        </section>
      )}
      <footer class="tv-strip" aria-label="Managers">
        {a.managers.map((x) => (
          <div class={`tv-mgr${lot?.state === 'running' && lot.leaderId === x.userId ? ' is-leader' : ''}`} key={x.userId}>
            <span class="tv-mgr-name">
              <span class={`dot ${x.online ? 'on' : 'off'}`} aria-hidden="true" />
              {x.name}
            </span>
            <span class="tabular tv-mgr-budget">{store.fmt(x.budgetRemaining)}</span>
            <span class="tabular tv-mgr-slots">
              {size - x.emptySlots}/{size}
            </span>
          </div>
        ))}
      </footer>
    </main>
  );
}
