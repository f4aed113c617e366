// Pieces of the auction room: connection pill, lot card, price, clock ring, history, managers.

import { computed, effect, type ReadonlySignal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { formatClock, urgency } from '../lib/room/clock';
import { nextFixtureView } from '../lib/room/nextFixture';
import { lotOf } from '../lib/room/progress';
import type { Asset, BidRow, Manager } from '../lib/room/types';
import { connLabel, type RoomStore } from './store';
import { useModalDialog } from '../components/ui';

/** Crest letters: a clean short name ("ARS"), else the initials of the name ("AB"). */
export function crest(asset: Asset): string {
  const sn = (asset.shortName ?? '').trim();
  return /^[A-Za-z]{2,4}$/.test(sn) ? sn.toUpperCase() : initials(asset.name);
}

export function initials(name: string): string {
  const words = name.replace(/[^\p{L}\p{N} ]/gu, ' ').split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  if (words.length === 1) return words[0].slice(0, 3).toUpperCase();
  return words
    .slice(0, 3)
    .map((w) => w[0])
    .join('')
    .toUpperCase();
}

export function ConnPill({ store }: { store: RoomStore }) {
  const s = store.conn.value;
  return (
    <span class={`conn conn-${s}`} role="status" aria-live="polite" data-testid="conn">
      <span class="conn-dot" aria-hidden="true" />
      {connLabel(s)}
    </span>
  );
}

export function assetLine(a: Asset): string {
  return [a.team, a.country, a.role].filter((x, i, arr) => x && arr.indexOf(x) === i).join(' · ');
}

export function LotCard({ store, big = false }: { store: RoomStore; big?: boolean }) {
  const m = store.model.value!;
  const lot = m.auction.lot;
  if (!lot) {
    return (
      <section class="lot-card lot-empty" aria-label="Lot">
        <p class="muted">{m.auction.status === 'paused' ? 'The next lot opens when the commissioner resumes.' : 'Next lot coming up…'}</p>
      </section>
    );
  }
  const line = assetLine(lot.asset);
  const pos = lotOf(m.auction)!;
  return (
    <section class={`lot-card${big ? ' lot-big' : ''}`} aria-label="Lot on the block">
      <div class="crest" aria-hidden="true">
        {crest(lot.asset)}
      </div>
      <div class="lot-text">
        <p class="lot-no">
          <span class="tabular">
            Lot {pos.n} of {pos.total}
          </span>
          {lot.retry ? <span class="badge badge-warn">Re-offer</span> : null}
        </p>
        <h2 class="lot-name" data-testid="lot-name">
          {lot.asset.name}
        </h2>
        {line ? <p class="lot-sub">{line}</p> : null}
        <NextFixtureLine asset={lot.asset} />
      </div>
    </section>
  );
}

/** The asset's next fixture, small and calm; nothing when it has none. */
export function NextFixtureLine({ asset }: { asset: Asset }) {
  const v = nextFixtureView(asset.nextFixture, { nowMs: Date.now() });
  if (!v) return null;
  return (
    <p class={`lot-next${v.live ? ' is-live' : ''}`} data-testid="lot-next">
      <span aria-hidden="true">{v.text}</span>
      <span class="visually-hidden">{v.spoken}</span>
    </p>
  );
}

/** The price: bound straight to signals so a new bid updates the DOM without a re-render. */
export function Price({ store, priceText, priceAttr }: { store: RoomStore; priceText: ReadonlySignal<string>; priceAttr: ReadonlySignal<string> }) {
  const m = store.model.value!;
  const lot = m.auction.lot;
  const me = store.myId.value;
  const live = store.conn.value === 'live';
  const leading = !!lot && lot.leaderId != null && lot.leaderId === me;
  const phase = store.clockView.value.phase;
  // Pulse on a new price (no motion with prefers-reduced-motion: the CSS drops it).
  const ref = useRef<HTMLDivElement>(null);
  const seq = m.lastBid?.seq ?? 0;
  useEffect(() => {
    const el = ref.current;
    if (!el || !seq) return;
    el.classList.remove('pulse');
    void el.offsetWidth;
    el.classList.add('pulse');
  }, [seq]);
  let leaderLine: ComponentChildren;
  if (phase === 'intermission' || (lot && (lot.state === 'sold' || lot.state === 'unsold'))) {
    const lr = m.lastResult;
    leaderLine = lr ? (
      lr.result === 'sold' ? (
        <span data-testid="sold-line">
          Sold to <strong>{lr.winnerId === me ? 'you' : lr.winnerName}</strong> for <span class="tabular">{store.fmt(lr.price ?? 0)}</span>
        </span>
      ) : (
        <span data-testid="sold-line">{lr.assetName} went unsold</span>
      )
    ) : (
      'Between lots'
    );
  } else if (!lot || lot.currentBid == null) {
    leaderLine = <span>No bids yet</span>;
  } else {
    leaderLine = leading ? <strong class="lead-text">You lead</strong> : <span><strong>{lot.leaderName}</strong> leads</span>;
  }
  const inter = phase === 'intermission' || (lot && lot.state !== 'running');
  const meMgr = store.me.value;
  // Outbid: I bid on this lot and someone else leads now.
  const outbid = !inter && !leading && !!me && m.history.some((r) => r.userId === me);
  return (
    <section
      ref={ref}
      class={`price-panel${leading && !inter ? ' is-lead' : ''}${outbid ? ' is-outbid' : ''}${!live ? ' is-stale' : ''}${inter ? ' is-inter' : ''}`}
      aria-label="Current bid"
    >
      <p class="price-label">
        {inter ? 'Last lot' : lot?.currentBid == null ? 'Opening bid' : 'Current bid'}
        {outbid ? <span class="chip-outbid">Outbid</span> : null}
      </p>
      <SignalText class="price tabular" testid="price" text={priceText} attr={priceAttr} />
      <p class="leader-line" data-testid="leader-line">
        {leaderLine}
      </p>
      {meMgr && !inter ? (
        <p class="mymax tabular">
          Your max bid <strong>{meMgr.emptySlots > 0 ? store.fmt(meMgr.maxBid) : '—'}</strong>
        </p>
      ) : null}
      {!live ? <p class="stale-note">{store.conn.value === 'offline' ? 'Offline — waiting for the network' : 'Reconnecting — this price may be out of date'}</p> : null}
    </section>
  );
}

/**
 * Text and data-price written by a signal effect: the DOM changes synchronously when the event is
 * applied (no wait for a re-render), so the next frame paints the new price.
 */
export function SignalText({ text, attr, testid, class: cls }: { text: ReadonlySignal<string>; attr: ReadonlySignal<string>; testid: string; class: string }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(
    () =>
      effect(() => {
        const el = ref.current;
        if (!el) return;
        const t = text.value;
        if (el.textContent !== t) el.textContent = t;
        el.setAttribute('data-price', attr.value);
      }),
    [text, attr],
  );
  return <p ref={ref} class={cls} data-testid={testid} />;
}

export function ClockRing({ store, size = 64 }: { store: RoomStore; size?: number }) {
  const v = store.clockView.value;
  const m = store.model.value!;
  const s = m.auction.settings;
  const total = v.phase === 'intermission' ? Math.max(1, s.intermissionSeconds) * 1000 : s.lotSeconds * 1000;
  const frac = Math.max(0, Math.min(1, v.remainingMs / total));
  const u = urgency(v);
  const r = 26;
  const c = 2 * Math.PI * r;
  const lb = m.lastBid;
  const extended = !!lb?.extended && v.phase === 'running' && m.auction.lot?.number === lb.lot;
  let label: string;
  if (v.phase === 'paused') label = 'Paused';
  else if (v.phase === 'intermission') label = 'Next lot in';
  else if (v.phase === 'running') label = 'Time left';
  else label = '';
  return (
    <div class={`clock clock-${u} clock-${v.phase}${store.conn.value !== 'live' ? ' is-stale' : ''}`} data-testid="clock" data-phase={v.phase}>
      <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true" class="ring">
        <circle cx="32" cy="32" r={r} class="ring-bg" />
        <circle
          cx="32"
          cy="32"
          r={r}
          class="ring-fg"
          stroke-dasharray={c.toFixed(2)}
          stroke-dashoffset={(c * (1 - frac)).toFixed(2)}
          transform="rotate(-90 32 32)"
        />
      </svg>
      <div class="clock-text">
        <span class="clock-label">{label}</span>
        <span class="clock-digits tabular" role="timer" aria-label={`${label} ${formatClock(v.remainingMs)}`}>
          {formatClock(v.remainingMs)}
        </span>
        {extended ? (
          <span class="snipe" data-testid="antisnipe">
            +{s.antiSnipeSeconds} s anti-snipe
          </span>
        ) : null}
      </div>
    </div>
  );
}

export function History({ store, rows, limit }: { store: RoomStore; rows: BidRow[]; limit?: number }) {
  const me = store.myId.value;
  const shown = [...rows].reverse().slice(0, limit ?? rows.length);
  return (
    <section class="history" aria-label="Bids on this lot">
      <h3 class="section-title">
        Bids on this lot <span class="muted tabular">({rows.length})</span>
      </h3>
      {shown.length === 0 ? (
        <p class="muted small">No bids yet.</p>
      ) : (
        <ol class="history-list" data-testid="history">
          {shown.map((r, i) => (
            <li key={r.seq} class={i === 0 ? 'top' : ''} data-seq={r.seq}>
              <span class="h-name">{r.userId === me ? 'You' : r.name}</span>
              <span class="h-amt tabular">{store.fmt(r.amount)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function ManagersList({ store, compact = false }: { store: RoomStore; compact?: boolean }) {
  const [sort, setSort] = useState<'budget' | 'name'>('budget');
  const m = store.model.value!;
  const me = store.myId.value;
  const leader = m.auction.lot?.state === 'running' ? m.auction.lot.leaderId : null;
  const presenceKnown = store.conn.value === 'live';
  const list = [...m.auction.managers].sort((a, b) =>
    sort === 'budget' ? b.budgetRemaining - a.budgetRemaining || a.name.localeCompare(b.name) : a.name.localeCompare(b.name),
  );
  const size = m.auction.settings.rosterSize;
  return (
    <section class="managers" aria-label="Managers">
      <div class="managers-head">
        <h3 class="section-title">Managers</h3>
        <button
          type="button"
          class="btn-ghost small-btn"
          onClick={() => setSort(sort === 'budget' ? 'name' : 'budget')}
          aria-label={`Sorted by ${sort === 'budget' ? 'budget left' : 'name'}; sort by ${sort === 'budget' ? 'name' : 'budget left'}`}
        >
          Sort: {sort === 'budget' ? 'budget left' : 'name'}
        </button>
      </div>
      <table class={`mgr-table${presenceKnown ? '' : ' is-stale'}`} data-testid="managers">
        <thead>
          <tr>
            <th scope="col">Manager</th>
            <th scope="col" class="r">Left</th>
            <th scope="col" class="r">Max bid</th>
            <th scope="col" class="r">Slots</th>
          </tr>
        </thead>
        <tbody>
          {list.map((x: Manager) => (
            <tr key={x.userId} class={`${x.userId === me ? 'is-me' : ''}${x.userId === leader ? ' is-leader' : ''}`} data-user={x.userId}>
              <th scope="row">
                {/* presence is only known while our own connection is live: never a stale dot */}
                <span
                  class={`dot ${presenceKnown && x.online ? 'on' : 'off'}`}
                  role="img"
                  aria-label={!presenceKnown ? 'presence unknown while reconnecting' : x.online ? 'online' : 'offline'}
                />
                <span class="mgr-name">{x.userId === me ? `${x.name} (you)` : x.name}</span>
              </th>
              <td class="r tabular">{store.fmt(x.budgetRemaining)}</td>
              <td class="r tabular">{x.emptySlots > 0 ? store.fmt(x.maxBid) : '—'}</td>
              <td class="r tabular" data-testid="roster-count">
                {size - x.emptySlots}/{size}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!compact && m.auction.spectatorsOnline > 0 ? (
        <p class="muted small">
          {m.auction.spectatorsOnline} watching
        </p>
      ) : null}
    </section>
  );
}

export function Rosters({ store, only }: { store: RoomStore; only?: string | null }) {
  const m = store.model.value!;
  const me = store.myId.value;
  const list = only ? m.auction.managers.filter((x) => x.userId === only) : m.auction.managers;
  return (
    <div class="rosters" data-testid="rosters">
      {list.map((x) => (
        <section class="roster-card" key={x.userId} data-user={x.userId} aria-label={`Roster of ${x.name}`}>
          <h3 class="roster-title">
            <span>{x.userId === me ? (only ? 'My roster' : `${x.name} (you)`) : x.name}</span>
            <span class="muted tabular small">
              {store.fmt(x.budgetRemaining)} left
            </span>
          </h3>
          {x.roster.length === 0 ? (
            <p class="muted small">No assets yet.</p>
          ) : (
            <ul class="roster-list">
              {x.roster.map((r) => (
                <li key={r.assetId} data-asset={r.assetId}>
                  <span>{r.name}</span>
                  <span class="tabular">{store.fmt(r.price)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}

/** A bottom sheet (phone) that closes with Esc, the backdrop, or its button. */
export function Sheet({ title, open, onClose, children }: { title: string; open: boolean; onClose: () => void; children: ComponentChildren }) {
  const ref = useModalDialog(open);
  return (
    <dialog
      ref={ref}
      class="sheet"
      aria-label={title}
      onClose={onClose}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      <div class="sheet-inner">
        <div class="sheet-head">
          <h2 class="sheet-title">{title}</h2>
          <button type="button" class="btn-ghost" onClick={onClose}>
            Close
          </button>
        </div>
        {open ? children : null}
      </div>
    </dialog>
  );
}

export function Confirm({
  open,
  title,
  body,
  confirmLabel,
  danger,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useModalDialog(open);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={onCancel}>
      <h2 id="confirm-title">{title}</h2>
      <p>{body}</p>
      <div class="confirm-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class={danger ? 'btn-danger-solid' : 'btn-primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function usePriceSignals(store: RoomStore) {
  const [sigs] = useState(() => ({
    priceText: computed(() => {
      const m = store.model.value;
      const lot = m?.auction.lot;
      if (!m || !lot) return '—';
      if (lot.state !== 'running') {
        const lr = m.lastResult;
        return lr && lr.result === 'sold' && lr.price != null ? store.fmt(lr.price) : '—';
      }
      return lot.currentBid == null ? store.fmt(m.auction.settings.minBid) : store.fmt(lot.currentBid);
    }),
    priceAttr: computed(() => {
      const lot = store.model.value?.auction.lot;
      return lot && lot.state === 'running' && lot.currentBid != null ? String(lot.currentBid) : '';
    }),
  }));
  return sigs;
}
