// The league room over the app's WebSocket (docs/leagues.md): `auth`, then `join_league`; the
// league's events (member_joined, member_left, league_updated, league_deleted, auction_created, auction_status,
// standings_updated) go to the page. A pong after the join says the join was taken (the server
// answers in order and sends an error instead when it refuses). Heartbeat, token renewal,
// reconnect with backoff + jitter, and an immediate retry when the page comes back.

import { signal } from '@preact/signals';
import { backoffMs, tokenExpiryMs } from './backoff';

/** `live`: joined and answering; `down`: not (yet) — the page falls back to polling. */
export type LeagueConn = 'connecting' | 'live' | 'down' | 'refused';

export interface LeagueEvent {
  type: string;
  leagueId: string;
  [k: string]: unknown;
}

export interface LeagueSocketOptions {
  leagueId: string;
  getToken(): Promise<string>;
  /** An event of this league. */
  onEvent(ev: LeagueEvent): void;
  /** Joined (again): events may have been missed while away, so the page reloads. */
  onJoined(): void;
  /** The server refused the join (not a member, or no longer one). */
  onRefused?(code: string): void;
  url?: string;
}

const HEARTBEAT_MS = 20_000;
const PONG_TIMEOUT_MS = 6_000;
const CHECK_TIMEOUT_MS = 2_500;
/** From opening the socket to the join's answer; a line that hangs before that is replaced. */
const HANDSHAKE_MS = 10_000;

export class LeagueSocket {
  readonly status = signal<LeagueConn>('connecting');
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private joinPing: number | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private beatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private authTimer: ReturnType<typeof setTimeout> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private pingId = 0;
  private readonly listeners: Array<[EventTarget, string, EventListener]> = [];

  constructor(private readonly opts: LeagueSocketOptions) {}

  start(): void {
    this.stopped = false;
    const on = (t: EventTarget, name: string, f: EventListener) => {
      t.addEventListener(name, f);
      this.listeners.push([t, name, f]);
    };
    const wake = () => this.wake();
    if (typeof document !== 'undefined')
      on(document, 'visibilitychange', () => {
        if (document.visibilityState === 'visible') wake();
      });
    if (typeof window !== 'undefined') {
      on(window, 'online', wake);
      on(window, 'pageshow', wake);
      on(window, 'offline', () => this.drop());
    }
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    for (const [t, n, f] of this.listeners) t.removeEventListener(n, f);
    this.listeners.length = 0;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
  }

  /** The page is back: reconnect now when down, else check the line with a quick ping. */
  wake(): void {
    if (this.stopped || this.status.value === 'refused') return;
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN && this.status.value === 'live') {
      this.ping(CHECK_TIMEOUT_MS);
      return;
    }
    if (ws && (ws.readyState === 0 || ws.readyState === WebSocket.OPEN)) return; // on its way (HANDSHAKE_MS)
    this.attempt = 0;
    this.connect();
  }

  private url(): string {
    if (this.opts.url) return this.opts.url;
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
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
    this.abandon();
    this.clearTimers();
    if (this.status.value === 'live') this.status.value = 'down';
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.handshakeTimer = setTimeout(() => this.drop(), HANDSHAKE_MS);
    ws.onopen = async () => {
      try {
        const token = await this.opts.getToken();
        if (this.ws !== ws) return;
        this.send({ type: 'auth', token });
        this.scheduleReauth(token);
      } catch {
        if (this.ws === ws) this.drop();
      }
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let msg: any;
      try {
        msg = JSON.parse(String(e.data));
      } catch {
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      if (e.code === 4401) this.attempt = 0; // token expired: a fresh one at once
      this.scheduleRetry();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private onMessage(msg: any): void {
    switch (msg?.type) {
      case 'ready':
        if (this.send({ type: 'join_league', leagueId: this.opts.leagueId })) this.joinPing = this.ping(PONG_TIMEOUT_MS);
        return;
      case 'pong':
        if (this.pongTimer) clearTimeout(this.pongTimer);
        this.pongTimer = null;
        if (this.joinPing !== null && msg.clientTimeMs === this.joinPing) {
          this.joinPing = null;
          this.markLive();
        }
        return;
      case 'error':
        if (msg.code === 'forbidden') {
          this.status.value = 'refused';
          this.stop();
          this.opts.onRefused?.(msg.code);
        }
        return;
      default:
        if (typeof msg?.type === 'string' && msg.leagueId === this.opts.leagueId) this.opts.onEvent(msg as LeagueEvent);
    }
  }

  private markLive(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.status.value = 'live';
    this.attempt = 0;
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = setInterval(() => this.ping(PONG_TIMEOUT_MS), HEARTBEAT_MS);
    this.opts.onJoined();
  }

  /** Sends a ping and arms the pong timeout; returns its id (null when it could not be sent). */
  private ping(timeoutMs: number): number | null {
    const id = ++this.pingId;
    if (!this.send({ type: 'ping', clientTimeMs: id })) return null;
    if (!this.pongTimer) this.pongTimer = setTimeout(() => this.drop(), timeoutMs);
    return id;
  }

  private scheduleReauth(token: string): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    const exp = tokenExpiryMs(token);
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

  /** Closes the current socket without its handlers firing. */
  private abandon(): void {
    const ws = this.ws;
    this.ws = null;
    this.joinPing = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(4000, 'replaced');
    } catch {
      /* ignore */
    }
  }

  /** The line is dead (no pong, offline): abandon it and retry with backoff. */
  private drop(): void {
    if (this.stopped) return;
    this.abandon();
    this.clearTimers();
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    if (this.status.value !== 'refused') this.status.value = 'down';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, backoffMs(this.attempt++, Math.random));
  }

  private clearTimers(): void {
    if (this.beatTimer) clearInterval(this.beatTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.beatTimer = this.pongTimer = this.retryTimer = this.authTimer = this.handshakeTimer = null;
  }
}
