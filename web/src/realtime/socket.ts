// The one WebSocket of the auction room: join with sinceSeq, snapshots and events, bids, pings
// for the server clock, and an immediate resume when the page comes back (visible, online,
// pageshow, resume, focus). The line itself (auth, heartbeat, reconnect) is connection.ts.

import { signal } from '@preact/signals';
import type { AuctionEvent, AuctionState, PresenceEvent } from '../lib/room/types';
import type { BidAnswer } from '../lib/room/bids';
import { ServerClock } from '../lib/room/clock';
import { CHECK_TIMEOUT_MS, Connection, PONG_TIMEOUT_MS } from './connection';

export type ConnStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface RoomSocketHandlers {
  /** A full state; t0 = performance.now() when the frame arrived. */
  onSnapshot(auction: AuctionState, t0: number): void;
  /** One logged event; returns 'gap' when it cannot be applied because events are missing. */
  onEvent(ev: AuctionEvent, t0: number): 'applied' | 'duplicate' | 'gap';
  onPresence(ev: PresenceEvent): void;
  onBidResult(r: BidAnswer): void;
  /** The connection is live again (after join): resend what is pending. */
  onLive(): void;
  /** A fatal error for this room (forbidden, not found). */
  onFatal(code: string): void;
  /** The seq the client holds (null before the first snapshot). */
  sinceSeq(): number | null;
}

export interface RoomSocketOptions {
  auctionId: string;
  getToken(): Promise<string>;
  handlers: RoomSocketHandlers;
  clock: ServerClock;
  url?: string;
  /** Reports a socket failure to the operator (no personal data). */
  report?(kind: string, message: string): void;
}

const PING_EVERY_MS = 10_000;

/** The last connection transitions, for support and the end-to-end tests (no personal data). */
export const connLog: string[] = [];
function note(what: string): void {
  connLog.push(`${Math.round(performance.now())} ${what}`);
  if (connLog.length > 50) connLog.shift();
}
if (typeof window !== 'undefined') (window as unknown as { __gavelConnLog?: string[] }).__gavelConnLog = connLog;

export class RoomSocket {
  readonly status = signal<ConnStatus>('connecting');
  private readonly conn: Connection;
  private everLive = false;
  private pings = new Map<number, number>();
  private resyncAt = 0;
  private joined = false;

  constructor(private readonly opts: RoomSocketOptions) {
    this.conn = new Connection({
      url: opts.url,
      getToken: () => opts.getToken(),
      heartbeatMs: PING_EVERY_MS,
      beat: () => this.ping(PONG_TIMEOUT_MS),
      tokenFailureDropsCurrent: true,
      onConnecting: () => {
        if (this.status.value !== 'offline') this.status.value = this.everLive ? 'reconnecting' : 'connecting';
      },
      onFrame: (msg, t0) => this.onMessage(msg, t0),
      onDetach: () => {
        this.joined = false;
        this.pings.clear();
      },
      onRetry: (dropped) => this.onRetry(dropped),
      onWake: () => this.wake(),
      onOffline: () => {
        this.status.value = 'offline';
      },
      log: note,
      report: (kind, message) => opts.report?.(kind, message),
    });
  }

  start(): void {
    const wake = () => this.wake();
    if (typeof document !== 'undefined') {
      this.conn.listen(document, 'resume', wake);
      this.conn.listen(document, 'freeze', () => {
        this.conn.pauseHeartbeat();
        this.pings.clear();
      });
    }
    if (typeof window !== 'undefined') this.conn.listen(window, 'focus', wake);
    this.conn.start();
  }

  stop(): void {
    this.conn.stop();
    this.pings.clear();
  }

  /** Sends a bid if the room is live; false when it must wait for the connection. */
  sendBid(lot: number, amount: number, clientBidId: string): boolean {
    if (this.status.value !== 'live') return false;
    return this.conn.send({ type: 'bid', auctionId: this.opts.auctionId, lot, amount, clientBidId });
  }

  /** Asks for the events after our seq (a gap was seen); at most once per second. */
  resync(): void {
    const now = Date.now();
    if (now - this.resyncAt < 1000 || !this.joined) return;
    this.resyncAt = now;
    this.join();
  }

  /** The page came back: reconnect at once if not live, otherwise check the line with a ping. */
  wake(): void {
    if (this.conn.stopped) return;
    note('wake ' + this.status.value);
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      this.status.value = 'offline';
      return;
    }
    if (this.status.value === 'live' && this.conn.isOpen()) {
      this.ping(CHECK_TIMEOUT_MS);
      return;
    }
    this.status.value = this.everLive ? 'reconnecting' : 'connecting';
    this.conn.reconnectNow('resume');
  }

  private onMessage(msg: any, t0: number): void {
    const recv = Date.now();
    if (typeof msg.serverTimeMs === 'number' && msg.type !== 'pong') this.opts.clock.addStamp(msg.serverTimeMs, recv);
    switch (msg.type) {
      case 'ready':
        this.join();
        this.ping(PONG_TIMEOUT_MS);
        return;
      case 'snapshot':
        if (msg.auction?.serverTimeMs) this.opts.clock.addStamp(msg.auction.serverTimeMs, recv);
        this.opts.handlers.onSnapshot(msg.auction, t0);
        this.markLive();
        return;
      case 'presence':
        this.opts.handlers.onPresence(msg);
        this.markLive();
        return;
      case 'pong': {
        // The connection has cleared the pong timeout.
        const sent = this.pings.get(msg.clientTimeMs);
        if (sent !== undefined) {
          this.pings.delete(msg.clientTimeMs);
          this.opts.clock.addPong(msg.clientTimeMs, msg.serverTimeMs, recv);
        }
        if (this.joined) this.markLive();
        return;
      }
      case 'bid_result':
        this.opts.handlers.onBidResult(msg);
        return;
      case 'error':
        if (msg.code === 'forbidden' || msg.code === 'not_found') this.opts.handlers.onFatal(msg.code);
        return;
      default:
        if (typeof msg.seq === 'number' && msg.auctionId === this.opts.auctionId) {
          const r = this.opts.handlers.onEvent(msg as AuctionEvent, t0);
          if (r === 'gap') this.resync();
        }
    }
  }

  private join(): void {
    const since = this.opts.handlers.sinceSeq();
    const msg: Record<string, unknown> = { type: 'join', auctionId: this.opts.auctionId };
    if (since != null) msg.sinceSeq = since;
    this.joined = this.conn.send(msg);
  }

  private markLive(): void {
    if (this.status.value === 'live' || !this.joined) return;
    note('live');
    this.status.value = 'live';
    this.everLive = true;
    this.conn.up();
    // A few quick pings for a good clock estimate before the heartbeat's.
    setTimeout(() => this.ping(PONG_TIMEOUT_MS), 300);
    setTimeout(() => this.ping(PONG_TIMEOUT_MS), 1200);
    this.opts.handlers.onLive();
  }

  /** Pings with a fresh clientTimeMs; its pong becomes a clock sample. */
  private ping(timeoutMs: number): void {
    let t = Date.now();
    while (this.pings.has(t)) t++;
    if (!this.conn.ping(t, timeoutMs)) return;
    this.pings.set(t, t);
    if (this.pings.size > 20) this.pings.delete(this.pings.keys().next().value as number);
  }

  /** A retry is being scheduled: the status says offline or reconnecting. */
  private onRetry(dropped: boolean): void {
    // Offline: say so, but keep trying with backoff (onLine can be wrong); `online` wakes at once.
    if (dropped && typeof navigator !== 'undefined' && navigator.onLine === false) this.status.value = 'offline';
    else if (this.status.value === 'live') this.status.value = 'reconnecting';
    else if (this.status.value === 'connecting' && this.everLive) this.status.value = 'reconnecting';
  }
}
