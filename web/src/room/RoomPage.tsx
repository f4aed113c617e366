// The auction room: lobby while waiting, the live room while running or paused, the completion
// screen with the final rosters. Phone first (thumb zone at the bottom); two columns on desktop.

import { useEffect, useState } from 'preact/hooks';
import './room.css';
import { BidBar } from './BidBar';
import { ClockRing, ConnPill, Confirm, History, LotCard, ManagersList, Price, Rosters, Sheet, usePriceSignals } from './parts';
import { RoomStore } from './store';

type Action = 'begin' | 'pause' | 'resume' | 'close-lot' | 'undo' | 'end';

const CONFIRM: Partial<Record<Action, { title: string; body: string; label: string; danger?: boolean }>> = {
  'close-lot': {
    title: 'Close this lot now?',
    body: 'The hammer falls at once: the lot is sold to the current leader, or goes unsold if nobody bid.',
    label: 'Close lot',
  },
  undo: {
    title: 'Undo the last sale?',
    body: 'The most recently closed lot is reverted: the winner gets the money back and the asset goes up again as the next lot. The auction stays paused until you resume.',
    label: 'Undo last sale',
  },
  end: {
    title: 'End the auction now?',
    body: 'Bidding stops for good. Rosters bought so far are kept; assets not yet sold stay unowned. This cannot be undone. (This is not “Delete”: the league and its results stay.)',
    label: 'End auction',
    danger: true,
  },
};

export function useRoom(auctionId: string): RoomStore {
  const [store] = useState(() => new RoomStore(auctionId));
  useEffect(() => {
    void store.start();
    return () => store.stop();
  }, [store]);
  return store;
}

function CommissionerBar({ store }: { store: RoomStore }) {
  const [ask, setAsk] = useState<Action | null>(null);
  const a = store.model.value!.auction;
  const busy = store.controlBusy.value;
  const run = (act: Action, label: string) => {
    if (CONFIRM[act]) setAsk(act);
    else void store.control(act, label);
  };
  const btn = (act: Action, label: string, enabled: boolean, cls = '') => (
    <button type="button" class={cls} disabled={!enabled || busy !== null} onClick={() => run(act, label)}>
      {busy === act ? '…' : label}
    </button>
  );
  const running = a.status === 'running';
  const paused = a.status === 'paused';
  const c = ask ? CONFIRM[ask]! : null;
  return (
    <div class="cbar" role="toolbar" aria-label="Commissioner controls">
      {a.status === 'waiting' ? btn('begin', 'Begin auction', true, 'btn-primary') : null}
      {running ? btn('pause', 'Pause', true) : null}
      {paused ? btn('resume', 'Resume', true, 'btn-primary') : null}
      {running || paused ? btn('close-lot', 'Close lot', !!a.lot && a.lot.state === 'running') : null}
      {paused || a.status === 'completed' ? btn('undo', 'Undo last sale', a.progress.lotsClosed > 0) : null}
      {a.status !== 'completed' && a.status !== 'waiting' ? btn('end', 'End auction', true, 'btn-danger') : null}
      {store.controlError.value ? (
        <p class="cbar-err" role="alert">
          {store.controlError.value}
        </p>
      ) : null}
      <Confirm
        open={!!c}
        title={c?.title ?? ''}
        body={c?.body ?? ''}
        confirmLabel={c?.label ?? ''}
        danger={c?.danger}
        onCancel={() => setAsk(null)}
        onConfirm={() => {
          const act = ask!;
          setAsk(null);
          void store.control(act, c!.label);
        }}
      />
    </div>
  );
}

function Header({ store, onMenu }: { store: RoomStore; onMenu?: () => void }) {
  const lg = store.league.value;
  const m = store.model.value;
  return (
    <header class="room-head">
      <a class="back" href={lg ? `/leagues/${lg.id}` : '/'} aria-label="Back to the league">
        ‹
      </a>
      <div class="head-title">
        <h1>{lg?.name ?? 'Auction'}</h1>
        {m && !store.me.value ? <span class="badge badge-neutral">Watching</span> : null}
      </div>
      <ConnPill store={store} />
      {onMenu ? (
        <button type="button" class="menu-btn" onClick={onMenu} aria-label="Managers and rosters">
          ⋯
        </button>
      ) : null}
    </header>
  );
}

function Announcer({ store }: { store: RoomStore }) {
  return (
    <>
      <div class="visually-hidden" aria-live="polite" data-testid="polite">
        {store.polite.value}
      </div>
      <div class="visually-hidden" aria-live="assertive" data-testid="assertive">
        {store.alert.value}
      </div>
    </>
  );
}

function Lobby({ store }: { store: RoomStore }) {
  const a = store.model.value!.auction;
  const s = a.settings;
  const online = a.managers.filter((x) => x.online).length;
  return (
    <main class="lobby" id="main">
      <section class="lobby-hero">
        <p class="eyebrow">Auction lobby</p>
        <h2>Waiting for the commissioner to begin</h2>
        <p class="muted">
          <span class="tabular">{online}</span> of <span class="tabular">{a.managers.length}</span> managers here
          {a.spectatorsOnline > 0 ? ` · ${a.spectatorsOnline} watching` : ''}
        </p>
      </section>
      <section class="lobby-people" aria-label="Who is here">
        <ul class="people" data-testid="presence">
          {a.managers.map((x) => (
            <li key={x.userId} class={x.online ? 'on' : 'off'} data-user={x.userId}>
              <span class={`dot ${x.online ? 'on' : 'off'}`} aria-hidden="true" />
              <span>{x.userId === store.myId.value ? `${x.name} (you)` : x.name}</span>
              <span class="muted small">{x.online ? 'here' : 'not here yet'}</span>
            </li>
          ))}
        </ul>
      </section>
      <section class="lobby-rules" aria-label="Rules">
        <dl class="facts">
          <div>
            <dt>Budget</dt>
            <dd class="tabular">{store.fmt(s.budget)}</dd>
          </div>
          <div>
            <dt>Roster</dt>
            <dd class="tabular">{s.rosterSize} slots</dd>
          </div>
          <div>
            <dt>Lots</dt>
            <dd class="tabular">{a.progress.lotsTotal}</dd>
          </div>
          <div>
            <dt>Clock</dt>
            <dd class="tabular">{s.lotSeconds} s per lot</dd>
          </div>
          <div>
            <dt>Opening bid</dt>
            <dd class="tabular">{store.fmt(s.minBid)}</dd>
          </div>
          <div>
            <dt>Anti-snipe</dt>
            <dd class="tabular">{s.antiSnipeSeconds ? `${s.antiSnipeSeconds} s` : 'off'}</dd>
          </div>
        </dl>
        <p class="muted small">
          A bid in the last {s.antiSnipeSeconds} seconds puts {s.antiSnipeSeconds} seconds back on the clock. You always keep{' '}
          {store.fmt(s.minBid)} for each empty slot.
        </p>
      </section>
    </main>
  );
}

const REASONS: Record<string, string> = {
  rosters_full: 'Every roster is full.',
  no_lots_left: 'No lots are left.',
  ended_by_commissioner: 'The commissioner ended the auction.',
};

function Completion({ store }: { store: RoomStore }) {
  const a = store.model.value!.auction;
  return (
    <main class="complete" id="main">
      <section class="complete-hero">
        <p class="eyebrow">Auction complete</p>
        <h2>Final rosters</h2>
        <p class="muted">
          {REASONS[a.completedReason ?? ''] ?? ''} <span class="tabular">{a.progress.sold}</span> sold ·{' '}
          <span class="tabular">{a.progress.lotsTotal - a.progress.sold}</span> unsold.
        </p>
        <a class="btn btn-primary" href={`/auctions/${a.id}/results`}>
          Full results and CSV
        </a>
      </section>
      <Rosters store={store} />
    </main>
  );
}

function useWide(): boolean {
  const q = '(min-width: 1024px)';
  const [wide, setWide] = useState(() => typeof matchMedia !== 'undefined' && matchMedia(q).matches);
  useEffect(() => {
    const mq = matchMedia(q);
    const on = () => setWide(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return wide;
}

function Live({ store }: { store: RoomStore }) {
  const m = store.model.value!;
  const wide = useWide();
  const sig = usePriceSignals(store);
  const me = store.me.value;
  return (
    <div class="live">
      <div class="stage">
        {m.auction.status === 'paused' ? (
          <p class="banner banner-paused" role="status">
            Paused by the commissioner
          </p>
        ) : null}
        <LotCard store={store} />
        <div class="price-row">
          <Price store={store} priceText={sig.priceText} priceAttr={sig.priceAttr} />
          <ClockRing store={store} />
        </div>
        <History store={store} rows={m.history} limit={wide ? 8 : 3} />
      </div>
      {me ? <BidBar store={store} /> : <p class="spectator-note">You are watching. Only managers can bid.</p>}
    </div>
  );
}

export default function RoomPage({ auctionId }: { auctionId: string }) {
  const store = useRoom(auctionId);
  const [sheet, setSheet] = useState(false);
  const m = store.model.value;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Enter' || e.repeat || e.altKey || e.ctrlKey || e.metaKey) return;
      const t = e.target as HTMLElement | null;
      if (t && t.closest('button, a, input, select, textarea, dialog, [role="button"]')) return;
      e.preventDefault();
      store.placeBid();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [store]);

  useEffect(() => {
    const lg = store.league.value;
    if (lg) document.title = `${lg.name} · Auction · Gavel`;
  }, [store.league.value]);

  if (store.fatal.value) {
    return (
      <div class="room room-msg">
        <main id="main">
          <h1>Cannot open this auction</h1>
          <p>{store.fatal.value}</p>
          <a class="btn" href="/">
            Back to your leagues
          </a>
        </main>
      </div>
    );
  }
  if (!m) {
    return (
      <div class="room room-msg">
        <main id="main" aria-busy="true">
          <p class="muted">Opening the auction room…</p>
        </main>
      </div>
    );
  }
  if (m.deleted) {
    return (
      <div class="room room-msg">
        <main id="main">
          <h1>This auction was deleted</h1>
          <p>The commissioner deleted the auction. The league is still there.</p>
          <a class="btn" href={store.league.value ? `/leagues/${store.league.value.id}` : '/'}>
            Back to the league
          </a>
        </main>
      </div>
    );
  }
  const st = m.auction.status;
  const me = store.me.value;
  return (
    <div class={`room room-${st}`} data-status={st}>
      <Header store={store} onMenu={() => setSheet(true)} />
      {store.isCommissioner.value ? <CommissionerBar store={store} /> : null}
      <div class="room-grid">
        <div class="room-main">
          {st === 'waiting' ? <Lobby store={store} /> : st === 'completed' ? <Completion store={store} /> : (
            <main id="main" class="room-live-main">
              <Live store={store} />
            </main>
          )}
        </div>
        <aside class="room-side" aria-label="Managers and rosters">
          <ManagersList store={store} />
          {me ? <Rosters store={store} only={me.userId} /> : null}
        </aside>
      </div>
      <Sheet title="Managers and rosters" open={sheet} onClose={() => setSheet(false)}>
        <ManagersList store={store} compact />
        {me ? <Rosters store={store} only={me.userId} /> : null}
      </Sheet>
      <Announcer store={store} />
    </div>
  );
}
