// The league room over the app's WebSocket (docs/leagues.md): `auth`, then `join_league`; the
// league's events (member_joined, member_left, league_updated, league_deleted, auction_created, auction_status,
// standings_updated) go to the page. A pong after the join says the join was taken (the server
// answers in order and sends an error instead when it refuses). The line itself (heartbeat, token
// renewal, reconnect with backoff + jitter, retry when the page comes back) is connection.ts.

import { signal } from '@preact/signals';
import { CHECK_TIMEOUT_MS, Connection, PONG_TIMEOUT_MS } from './connection';

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
/** From opening the socket to the join's answer; a line that hangs before that is replaced. */
const HANDSHAKE_MS = 10_000;

export class LeagueSocket {
  readonly status = signal<LeagueConn>('connecting');
  private readonly conn: Connection;
  private joinPing: number | null = null;
  private pingId = 0;

  constructor(private readonly opts: LeagueSocketOptions) {
    this.conn = new Connection({
      url: opts.url,
      getToken: () => opts.getToken(),
      heartbeatMs: HEARTBEAT_MS,
      beat: () => this.ping(PONG_TIMEOUT_MS),
      handshakeMs: HANDSHAKE_MS,
      onConnecting: () => {
        if (this.status.value === 'live') this.status.value = 'down';
      },
      onFrame: (msg) => this.onMessage(msg),
      onDetach: () => {
        this.joinPing = null;
      },
      onRetry: () => {
        if (this.status.value !== 'refused') this.status.value = 'down';
      },
      onWake: () => this.wake(),
    });
  }

  start(): void {
    this.conn.start();
  }

  stop(): void {
    this.conn.stop();
  }

  /** The page is back: reconnect now when down, else check the line with a quick ping. */
  wake(): void {
    if (this.conn.stopped || this.status.value === 'refused') return;
    if (this.status.value === 'live' && this.conn.isOpen()) {
      this.ping(CHECK_TIMEOUT_MS);
      return;
    }
    if (this.conn.isOpening()) return; // on its way (HANDSHAKE_MS)
    this.conn.reconnectNow('replaced');
  }

  private onMessage(msg: any): void {
    switch (msg?.type) {
      case 'ready':
        if (this.conn.send({ type: 'join_league', leagueId: this.opts.leagueId })) this.joinPing = this.ping(PONG_TIMEOUT_MS);
        return;
      case 'pong':
        // The connection has cleared the pong timeout.
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
    this.status.value = 'live';
    this.conn.up();
    this.opts.onJoined();
  }

  /** Sends a ping; returns its id (null when it could not be sent). */
  private ping(timeoutMs: number): number | null {
    const id = ++this.pingId;
    return this.conn.ping(id, timeoutMs) ? id : null;
  }
}
