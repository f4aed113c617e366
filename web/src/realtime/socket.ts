// The one WebSocket of the auction room: auth (renewed before the token expires), join with
// sinceSeq, bids, ping/pong for the server clock, reconnect with backoff + jitter, and an
// immediate resume when the page comes back (visible, online, pageshow, resume).

import { signal } from '@preact/signals';
import type { AuctionEvent, AuctionState, PresenceEvent } from '../lib/room/types';
import type { BidAnswer } from '../lib/room/bids';
import { ServerClock } from '../lib/room/clock';
import { backoffMs, tokenExpiryMs } from './backoff';

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
const PONG_TIMEOUT_MS = 6_000;
const CHECK_TIMEOUT_MS = 2_500;

export class RoomSocket {
  readonly status = signal<ConnStatus>('connecting');
  private ws: WebSocket | null = null;
  private attempt = 0;
  private everLive = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private authTimer: ReturnType<typeof setTimeout> | null = null;
  private pings = new Map<number, number>();
  private resyncAt = 0;
  private joined = false;
  private readonly listeners: Array<[EventTarget, string, EventListener]> = [];

  constructor(private readonly opts: RoomSocketOptions) {}

  start(): void {
    this.stopped = false;
    const wake = () => this.wake();
    const on = (t: EventTarget, name: string, f: EventListener) => {
      t.addEventListener(name, f);
      this.listeners.push([t, name, f]);
    };
    if (typeof document !== 'undefined') {
      on(document, 'visibilitychange', () => {
        if (document.visibilityState === 'visible') wake();
      });
      on(document, 'resume', wake);
      on(document, 'freeze', () => this.clearPing());
    }
    if (typeof window !== 'undefined') {
      on(window, 'online', wake);
      on(window, 'pageshow', wake);
      on(window, 'focus', wake);
      on(window, 'offline', () => {
        this.status.value = 'offline';
        this.drop('offline');
      });
    }
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    for (const [t, n, f] of this.listeners) t.removeEventListener(n, f);
    this.listeners.length = 0;
    this.clearTimers();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
  }

  /** Sends a bid if the room is live; false when it must wait for the connection. */
  sendBid(lot: number, amount: number, clientBidId: string): boolean {
    if (this.status.value !== 'live' || !this.ws) return false;
    return this.send({ type: 'bid', auctionId: this.opts.auctionId, lot, amount, clientBidId });
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
    if (this.stopped) return;
    note('wake ' + this.status.value);
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      this.status.value = 'offline';
      return;
    }
    if (this.status.value !== 'live' || !this.ws || this.ws.readyState !== WebSocket.OPEN) {
      this.attempt = 0;
      this.status.value = this.everLive ? 'reconnecting' : 'connecting';
      this.reconnectNow();
      return;
    }
    this.ping(CHECK_TIMEOUT_MS);
  }

  private url(): string {
    if (this.opts.url) return this.opts.url;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/ws`;
  }

  private send(msg: unknown): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    if (this.stopped) return;
    note('connect');
    this.clearTimers();
    this.joined = false;
    if (this.status.value !== 'offline') this.status.value = this.everLive ? 'reconnecting' : 'connecting';
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = async () => {
      if (this.ws !== ws) return;
      try {
        const token = await this.opts.getToken();
        if (this.ws !== ws) return;
        this.send({ type: 'auth', token });
        this.scheduleReauth(token);
      } catch {
        this.drop('no token');
      }
    };
    ws.onmessage = (e) => {
      const t0 = performance.now();
      if (this.ws !== ws) return;
      let msg: any;
      try {
        msg = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.onMessage(msg, t0);
    };
    ws.onclose = (e) => {
      note('close ' + e.code);
      if (this.ws !== ws) return;
      this.ws = null;
      this.joined = false;
      this.clearTimers();
      if (this.stopped) return;
      if (e.code === 4401) this.attempt = 0; // token expired: a fresh one at once
      if (e.code !== 1000 && e.code !== 1001 && e.code !== 4401 && e.code !== 1006)
        this.opts.report?.('socket', `closed ${e.code}`);
      this.scheduleRetry();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
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
        const sent = this.pings.get(msg.clientTimeMs);
        if (sent !== undefined) {
          this.pings.delete(msg.clientTimeMs);
          this.opts.clock.addPong(msg.clientTimeMs, msg.serverTimeMs, recv);
        }
        if (this.pongTimer) clearTimeout(this.pongTimer);
        this.pongTimer = null;
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
    this.joined = this.send(msg);
  }

  private markLive(): void {
    if (this.status.value === 'live' || !this.joined) return;
    note('live');
    this.status.value = 'live';
    this.everLive = true;
    this.attempt = 0;
    this.startPinging();
    this.opts.handlers.onLive();
  }

  private startPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    // A few quick pings for a good clock estimate, then a heartbeat.
    setTimeout(() => this.ping(PONG_TIMEOUT_MS), 300);
    setTimeout(() => this.ping(PONG_TIMEOUT_MS), 1200);
    this.pingTimer = setInterval(() => this.ping(PONG_TIMEOUT_MS), PING_EVERY_MS);
  }

  private ping(timeoutMs: number): void {
    let t = Date.now();
    while (this.pings.has(t)) t++;
    if (!this.send({ type: 'ping', clientTimeMs: t })) return;
    this.pings.set(t, t);
    if (this.pings.size > 20) this.pings.delete(this.pings.keys().next().value as number);
    if (!this.pongTimer) this.pongTimer = setTimeout(() => this.drop('no pong'), timeoutMs);
  }

  private scheduleReauth(token: string): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    const exp = tokenExpiryMs(token);
    // getAccessToken refreshes when < 60 s are left: ask 45 s before expiry.
    const inMs = exp ? Math.max(5_000, exp - Date.now() - 45_000) : 5 * 60_000;
    this.authTimer = setTimeout(async () => {
      try {
        const fresh = await this.opts.getToken();
        if (this.send({ type: 'auth', token: fresh })) this.scheduleReauth(fresh);
      } catch {
        /* the close (4401) reconnects */
      }
    }, inMs);
  }

  /** Abandons the current socket and reconnects (with backoff unless woken). */
  private drop(why: string): void {
    note('drop ' + why);
    const ws = this.ws;
    this.ws = null;
    this.joined = false;
    this.clearTimers();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(4000, why);
      } catch {
        /* ignore */
      }
    }
    if (this.stopped) return;
    // Offline: say so, but keep trying with backoff (onLine can be wrong); `online` wakes at once.
    if (typeof navigator !== 'undefined' && navigator.onLine === false) this.status.value = 'offline';
    this.scheduleRetry();
  }

  private reconnectNow(): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(4000, 'resume');
      } catch {
        /* ignore */
      }
    }
    this.connect();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    if (this.status.value === 'live') this.status.value = 'reconnecting';
    else if (this.status.value === 'connecting' && this.everLive) this.status.value = 'reconnecting';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const wait = backoffMs(this.attempt++, Math.random);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, wait);
  }

  private clearPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = null;
    this.pings.clear();
  }

  private clearTimers(): void {
    this.clearPing();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.authTimer) clearTimeout(this.authTimer);
    this.retryTimer = this.authTimer = null;
  }
}
