// The room's live state: the model (snapshot + events), the connection, the server clock, my bid
// intent and its answer. One store per mounted room; the views read its signals.

import { batch, computed, signal } from '@preact/signals';
import { api, ApiError, getAccessToken, reportClientError, session } from '../api/client';
import { formatMoney } from '../lib/format';
import { ServerClock, clockView } from '../lib/room/clock';
import { applyEvent, applyPresence, fromSnapshot, mergeHistory, nextMinimum, type RoomModel } from '../lib/room/reducer';
import { BidIntents, bidBlock, type BidAnswer } from '../lib/room/bids';
import { bidErrorMessage, controlErrorMessage } from '../lib/room/messages';
import type { AuctionEvent, AuctionState, BidRow, Manager } from '../lib/room/types';
import { RoomSocket, type ConnStatus } from '../realtime/socket';

export interface LeagueInfo {
  id: string;
  name: string;
  commissionerId: string;
  settings: { currency?: string; [k: string]: unknown };
  competition?: string;
}

export type BidUi =
  | { kind: 'idle' }
  | { kind: 'pending'; amount: number; waiting: boolean }
  | { kind: 'accepted'; amount: number }
  | { kind: 'refused'; amount: number; message: string; suggest: number | null };

declare global {
  interface Window {
    __gavelPaint?: { dom: number[]; frame: number[] };
  }
}

export class RoomStore {
  readonly model = signal<RoomModel | null>(null);
  readonly league = signal<LeagueInfo | null>(null);
  readonly fatal = signal<string | null>(null);
  readonly bid = signal<BidUi>({ kind: 'idle' });
  /** Assertive announcements (my outbid) and polite ones (price changes). */
  readonly alert = signal<string>('');
  readonly polite = signal<string>('');
  readonly controlError = signal<string | null>(null);
  readonly controlBusy = signal<string | null>(null);
  /** Ticks every 100 ms: the countdown reads it. */
  readonly now = signal<number>(Date.now());
  readonly clock = new ServerClock();
  readonly socket: RoomSocket;
  readonly conn;
  private intents = new BidIntents();
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private pendingTimer: ReturnType<typeof setTimeout> | null = null;
  private historyLot = -1;

  readonly myId = computed(() => session.value.user?.id ?? null);
  readonly currency = computed(() => String(this.league.value?.settings?.currency ?? 'GBP'));
  readonly me = computed<Manager | null>(
    () => this.model.value?.auction.managers.find((m) => m.userId === this.myId.value) ?? null,
  );
  readonly isCommissioner = computed(() => !!this.league.value && this.league.value.commissionerId === this.myId.value);
  readonly serverNow = computed(() => this.now.value + this.clock.offsetMs());
  readonly clockView = computed(() => {
    const m = this.model.value;
    return m ? clockView(m.auction, this.serverNow.value) : { phase: 'idle' as const, remainingMs: 0 };
  });
  /** The running lot's time is up on the server clock (changes once, unlike the 10 Hz tick). */
  readonly timeUp = computed(() => {
    const v = this.clockView.value;
    return v.phase === 'running' && v.remainingMs <= 0;
  });

  constructor(readonly auctionId: string, opts: { spectate?: boolean } = {}) {
    this.socket = new RoomSocket({
      auctionId,
      getToken: getAccessToken,
      clock: this.clock,
      report: (k, m) => reportClientError(k, m),
      handlers: {
        onSnapshot: (a, t0) => this.onSnapshot(a, t0),
        onEvent: (ev, t0) => this.onEvent(ev, t0),
        onPresence: (ev) => {
          const m = this.model.value;
          if (m) this.model.value = applyPresence(m, ev);
        },
        onBidResult: (r) => this.onBidResult(r),
        onLive: () => this.resend(),
        onFatal: (code) => {
          this.fatal.value = code === 'forbidden' ? 'You are not a member of this league.' : 'This auction does not exist.';
        },
        sinceSeq: () => this.model.value?.auction.seq ?? null,
      },
    });
    this.conn = this.socket.status;
    void opts;
    // For the end-to-end tests and support: the room's state is what the page shows anyway.
    if (typeof window !== 'undefined') (window as unknown as { __gavelRoom?: RoomStore }).__gavelRoom = this;
  }

  fmt = (units: number): string => formatMoney(units, this.currency.value);

  async start(): Promise<void> {
    this.tickTimer = setInterval(() => (this.now.value = Date.now()), 100);
    this.socket.start();
    try {
      const a = await api<AuctionState>('GET', `/api/auctions/${encodeURIComponent(this.auctionId)}`);
      if (!this.model.value) this.onSnapshot(a, performance.now());
      await this.loadLeague(a.leagueId);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403))
        this.fatal.value = e.status === 404 ? 'This auction does not exist (it may have been deleted).' : 'You are not a member of this league.';
    }
  }

  private leagueLoading = false;
  /** The league (name, currency, commissioner); retried on the next snapshot if it failed. */
  private async loadLeague(leagueId: string): Promise<void> {
    if (this.league.value || this.leagueLoading) return;
    this.leagueLoading = true;
    try {
      this.league.value = await api<LeagueInfo>('GET', `/api/leagues/${encodeURIComponent(leagueId)}`);
    } finally {
      this.leagueLoading = false;
    }
  }

  stop(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    this.socket.stop();
  }

  private onSnapshot(a: AuctionState, _t0: number): void {
    const cur = this.model.value;
    // A REST read older than what the socket gave us never wins.
    if (cur && cur.auction.seq > a.seq) return;
    this.model.value = fromSnapshot(a, cur && cur.auction.lot?.number === a.lot?.number ? cur.history : []);
    this.historyLot = -1; // a snapshot may skip bids: fetch the lot's rows again (merged by seq)
    this.loadHistory();
    if (!this.league.value) this.loadLeague(a.leagueId).catch(() => undefined);
  }

  /** Fills the lot's bid history from the API (rows are keyed by seq: never twice). */
  private loadHistory(): void {
    const lot = this.model.value?.auction.lot;
    if (!lot || lot.state !== 'running' || this.historyLot === lot.number) return;
    const n = lot.number;
    this.historyLot = n;
    api<{ items: BidRow[] }>('GET', `/api/auctions/${encodeURIComponent(this.auctionId)}/bids?lot=${n}&limit=500`)
      .then((r) => {
        const m = this.model.value;
        if (m && m.auction.lot?.number === n) this.model.value = mergeHistory(m, r.items);
      })
      .catch(() => {
        this.historyLot = -1;
      });
  }

  private onEvent(ev: AuctionEvent, t0: number): 'applied' | 'duplicate' | 'gap' {
    const m = this.model.value;
    if (!m) return 'gap';
    const r = applyEvent(m, ev);
    if (r.outcome !== 'applied') return r.outcome;
    const me = this.myId.value;
    batch(() => {
      this.model.value = r.model;
      if (ev.type === 'bid') {
        const lb = r.model.lastBid;
        this.polite.value = `${ev.leaderName} ${ev.leaderId === me ? '(you) ' : ''}leads at ${this.fmt(ev.amount)}`;
        if (lb && lb.previousLeaderId === me && ev.leaderId !== me) {
          this.alert.value = `Outbid: ${ev.leaderName} bid ${this.fmt(ev.amount)}`;
          try {
            if (navigator.userActivation?.hasBeenActive) navigator.vibrate?.(120);
          } catch {
            /* not allowed */
          }
        }
        const b = this.bid.value;
        if (b.kind === 'accepted' || b.kind === 'refused') this.bid.value = { kind: 'idle' };
      } else if (ev.type === 'lot_opened') {
        this.polite.value = `Lot ${ev.lot.number}: ${ev.lot.asset.name} is on the block`;
        this.historyLot = ev.lot.number;
        if (this.bid.value.kind !== 'pending') this.bid.value = { kind: 'idle' };
      } else if (ev.type === 'lot_closed') {
        const lr = r.model.lastResult;
        this.polite.value = lr && lr.result === 'sold' ? `Sold to ${lr.winnerName} for ${this.fmt(lr.price ?? 0)}` : 'Unsold';
      } else if (ev.type === 'paused') this.polite.value = 'Paused by the commissioner';
      else if (ev.type === 'resumed') this.polite.value = 'Resumed';
      else if (ev.type === 'auction_completed') this.polite.value = 'The auction is complete';
    });
    if (ev.type === 'bid') this.measurePaint(ev.amount, t0);
    return 'applied';
  }

  /** Paint latency: the price element is updated synchronously by its signal; then a frame. */
  private measurePaint(amount: number, t0: number): void {
    if (typeof window === 'undefined' || document.visibilityState !== 'visible') return; // hidden pages do not paint
    const samples = (window.__gavelPaint ??= { dom: [], frame: [] });
    const el = document.querySelector('[data-price]');
    if (el && el.getAttribute('data-price') === String(amount)) samples.dom.push(performance.now() - t0);
    requestAnimationFrame(() => {
      const el2 = document.querySelector('[data-price]');
      if (el2 && el2.getAttribute('data-price') === String(amount)) samples.frame.push(performance.now() - t0);
    });
  }

  // ---- bidding ---------------------------------------------------------------------------------

  /** One tap: amount computed from the latest server price now unless given (typed / quick). */
  placeBid(amount?: number): void {
    const m = this.model.value;
    const me = this.me.value;
    if (!m || !me || !m.auction.lot || m.auction.lot.state !== 'running') return;
    // Nothing to send when the state already says no (leading, paused, between lots, full...).
    const block = bidBlock(m.auction, this.myId.value, { live: true, serverNowMs: this.timeUp.value ? Number.MAX_SAFE_INTEGER : 0 });
    if (block !== null && block !== 'over_max') return;
    const amt = amount ?? nextMinimum(m.auction);
    if (amt > me.maxBid) {
      this.bid.value = {
        kind: 'refused',
        amount: amt,
        message: bidErrorMessage('over_max_bid', { maxBid: me.maxBid }, this.msgCtx()),
        suggest: null,
      };
      return;
    }
    const intent = this.intents.begin(m.auction.lot.number, amt);
    if (!intent) return; // a double tap: the first intent is still pending
    this.bid.value = { kind: 'pending', amount: amt, waiting: false };
    this.sendPending();
  }

  private sendPending(): void {
    const p = this.intents.current();
    if (!p) return;
    if (this.socket.sendBid(p.lot, p.amount, p.clientBidId)) {
      this.intents.send();
      if (this.pendingTimer) clearTimeout(this.pendingTimer);
      // No answer in 4 s: resend the same id (idempotent on the server).
      this.pendingTimer = setTimeout(() => this.sendPending(), 4000);
      if (this.bid.value.kind === 'pending' && this.bid.value.waiting)
        this.bid.value = { kind: 'pending', amount: p.amount, waiting: false };
    } else if (this.bid.value.kind === 'pending') {
      this.bid.value = { kind: 'pending', amount: p.amount, waiting: true };
    }
  }

  private resend(): void {
    if (this.intents.current()) this.sendPending();
  }

  private msgCtx() {
    const m = this.model.value;
    const me = this.me.value;
    return {
      fmt: this.fmt,
      leaderName: m?.auction.lot?.leaderId && m.auction.lot.leaderId !== this.myId.value ? m.auction.lot.leaderName : null,
      status: m?.auction.status,
      minBid: m?.auction.settings.minBid,
      emptySlots: me?.emptySlots,
    };
  }

  private onBidResult(r: BidAnswer): void {
    const done = this.intents.settle(r);
    if (!done) return;
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    this.pendingTimer = null;
    if (r.accepted) {
      this.bid.value = { kind: 'accepted', amount: done.amount };
      return;
    }
    const min = typeof r.details?.minimum === 'number' ? (r.details.minimum as number) : null;
    const me = this.me.value;
    this.bid.value = {
      kind: 'refused',
      amount: done.amount,
      message: bidErrorMessage(r.code, r.details, this.msgCtx()),
      suggest: r.code === 'bid_too_low' && min != null && me && min <= me.maxBid ? min : null,
    };
  }

  dismissBid(): void {
    if (this.bid.value.kind !== 'pending') this.bid.value = { kind: 'idle' };
  }

  // ---- commissioner ----------------------------------------------------------------------------

  async control(action: 'begin' | 'pause' | 'resume' | 'close-lot' | 'undo' | 'end', label: string): Promise<void> {
    this.controlBusy.value = action;
    this.controlError.value = null;
    try {
      await api('POST', `/api/auctions/${encodeURIComponent(this.auctionId)}/${action}`);
    } catch (e) {
      const code = e instanceof ApiError ? e.code : 'network';
      this.controlError.value = controlErrorMessage(code, label.toLowerCase());
    } finally {
      this.controlBusy.value = null;
    }
  }
}

export function connLabel(s: ConnStatus): string {
  return s === 'live' ? 'Live' : s === 'offline' ? 'Offline' : s === 'reconnecting' ? 'Reconnecting…' : 'Connecting…';
}
