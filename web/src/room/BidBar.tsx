// The thumb zone: quick bids, the primary "Bid £X", a typed amount behind a toggle, and the
// honest state of my bid (pending, accepted, refused) with the server's answer as a sentence.

import { useRef, useState } from 'preact/hooks';
import { parseMoney } from '../lib/format';
import { bidBlock, quickBids } from '../lib/room/bids';
import { nextMinimum } from '../lib/room/reducer';
import type { RoomStore } from './store';

export function BidBar({ store }: { store: RoomStore }) {
  const [typing, setTyping] = useState(false);
  const [text, setText] = useState('');
  const [typedError, setTypedError] = useState<string | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const m = store.model.value!;
  const me = store.me.value;
  if (!me) return null;
  const a = m.auction;
  const live = store.conn.value === 'live';
  const block = bidBlock(a, store.myId.value, { live, serverNowMs: store.timeUp.value ? Number.MAX_SAFE_INTEGER : 0 });
  const b = store.bid.value;
  const pending = b.kind === 'pending';
  const next = nextMinimum(a);
  const quick = quickBids(a, me.maxBid);
  const canBid = block === null && !pending;

  let primary: string;
  if (pending) primary = b.waiting ? 'Waiting for connection…' : 'Bidding…';
  else if (block === 'leading') primary = 'You lead';
  else if (block === 'paused') primary = 'Paused';
  else if (block === 'roster_full') primary = 'Your roster is full';
  else if (block === 'over_max') primary = `Max bid ${store.fmt(me.maxBid)}`;
  else if (block === 'no_lot') primary = a.lot?.state === 'intermission' ? 'Next lot soon' : 'Lot closed';
  else if (block === 'offline') primary = 'Reconnecting…';
  else if (block === 'not_running') primary = 'Waiting';
  else primary = `Bid ${store.fmt(next)}`;

  const submitTyped = (e: Event) => {
    e.preventDefault();
    const v = parseMoney(text);
    if (v == null || v <= 0) {
      setTypedError('Type an amount like 12.5m or 750k.');
      return;
    }
    if (v < next) {
      setTypedError(`The next bid must be at least ${store.fmt(next)}.`);
      return;
    }
    if (v > me.maxBid) {
      setTypedError(`You can bid at most ${store.fmt(me.maxBid)}.`);
      return;
    }
    setTypedError(null);
    setText('');
    store.placeBid(v);
  };

  let status: preact.ComponentChildren = null;
  if (b.kind === 'pending') status = <span class="bid-status pending">{b.waiting ? `Your ${store.fmt(b.amount)} bid will be sent when the connection is back.` : `Sending ${store.fmt(b.amount)}…`}</span>;
  else if (b.kind === 'accepted') status = <span class="bid-status ok">Bid {store.fmt(b.amount)} accepted.</span>;
  else if (b.kind === 'refused')
    status = (
      <span class="bid-status refused" role="alert">
        {b.message}
        {b.suggest != null && canBid ? (
          <button type="button" class="suggest" onClick={() => store.placeBid(b.suggest!)}>
            Bid {store.fmt(b.suggest)}
          </button>
        ) : null}
      </span>
    );
  else if (block === 'paused') status = <span class="bid-status">Bidding resumes when the clock does.</span>;

  return (
    <div class={`bidbar${block === 'leading' ? ' is-lead' : ''}`} data-testid="bidbar">
      <div class="bid-status-row" aria-live="polite">
        {status}
      </div>
      {typing ? (
        <form class="typed" onSubmit={submitTyped}>
          <label for="typed-amount" class="visually-hidden">
            Your bid
          </label>
          <input
            id="typed-amount"
            ref={inputRef}
            inputMode="decimal"
            autoComplete="off"
            placeholder={`e.g. ${store.fmt(next).replace(/^\D+/, '')}`}
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
            aria-invalid={typedError ? 'true' : undefined}
            aria-describedby={typedError ? 'typed-err' : undefined}
          />
          <button type="submit" class="btn-primary" disabled={!canBid}>
            Bid
          </button>
          {typedError ? (
            <p id="typed-err" class="typed-err" role="alert">
              {typedError}
            </p>
          ) : null}
        </form>
      ) : (
        <div class="quick" role="group" aria-label="Quick bids">
          {quick.map((q) => (
            <button
              type="button"
              key={q.amount}
              class="quick-btn tabular"
              disabled={!canBid || q.disabled}
              onClick={() => {
                // Recompute from the latest server price at the moment of the tap.
                const fresh = quickBids(store.model.value!.auction, store.me.value?.maxBid ?? 0);
                const idx = quick.findIndex((x) => x.amount === q.amount);
                const pick = fresh[idx] ?? q;
                if (!pick.disabled) store.placeBid(pick.amount);
              }}
            >
              {store.fmt(q.amount)}
            </button>
          ))}
        </div>
      )}
      <div class="primary-row">
        <button
          type="button"
          class={`btn-primary bid-main tabular${block === 'leading' ? ' leading' : ''}${pending ? ' pending' : ''}`}
          disabled={!canBid}
          data-testid="bid-main"
          onClick={() => store.placeBid()}
        >
          {primary}
        </button>
        <button
          type="button"
          class="more"
          aria-expanded={typing}
          aria-label={typing ? 'Show quick bids' : 'Type an amount'}
          onClick={() => {
            setTyping(!typing);
            setTypedError(null);
            if (!typing) setTimeout(() => inputRef.current?.focus(), 0);
          }}
        >
          {typing ? '×' : '…'}
        </button>
      </div>
    </div>
  );
}
