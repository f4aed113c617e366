// The life of one app WebSocket, shared by the auction room (socket.ts) and the league room
// (leagueSocket.ts): connect, `auth` (renewed before the token expires), heartbeat with a pong
// timeout, reconnect with backoff + jitter (at once after a 4401 or when asked), and stop.

import { backoffMs, tokenExpiryMs } from './backoff';

/** How long a ping may wait for its pong before the line is dropped. */
export const PONG_TIMEOUT_MS = 6_000;
/** The same for the quick check when the page comes back. */
export const CHECK_TIMEOUT_MS = 2_500;

export interface ConnectionOptions {
  /** Defaults to /ws on this page's host. */
  url?: string;
  getToken(): Promise<string>;
  /** The heartbeat's period once up(); each beat calls beat(), which pings. */
  heartbeatMs: number;
  beat(): void;
  /** When set, a line not up() this long after it was opened is dropped. */
  handshakeMs?: number;
  /**
   * When getToken fails after an open, drop the current line even when it is no longer the one
   * that asked (the auction room's way); otherwise only that line is dropped.
   */
  tokenFailureDropsCurrent?: boolean;
  /** A new line is about to be opened (the retry, the wake or the first). */
  onConnecting(): void;
  /** A parsed frame of the current line; t0 = performance.now() on arrival. Pongs too. */
  onFrame(msg: any, t0: number): void;
  /** The current line, if any, was let go (connect, close, drop): forget what was joined on it. */
  onDetach(): void;
  /** A retry is being scheduled; dropped when this side gave the line up (drop). */
  onRetry(dropped: boolean): void;
  /** The page came back (visible, online, pageshow, or a target added with listen). */
  onWake(): void;
  /** The browser went offline; the line is dropped right after. */
  onOffline?(): void;
  /** Instrumentation: connect, close <code>, drop <why> (no personal data). */
  log?(what: string): void;
  /** Reports an unexpected close code to the operator. */
  report?(kind: string, message: string): void;
}

export class Connection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private halted = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private beatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private authTimer: ReturnType<typeof setTimeout> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners: Array<[EventTarget, string, EventListener]> = [];

  constructor(private readonly opts: ConnectionOptions) {}

  /** Listens for the page coming back and going offline, and opens the first line. */
  start(): void {
    this.halted = false;
    const wake = () => this.opts.onWake();
    if (typeof document !== 'undefined')
      this.listen(document, 'visibilitychange', () => {
        if (document.visibilityState === 'visible') wake();
      });
    if (typeof window !== 'undefined') {
      this.listen(window, 'online', wake);
      this.listen(window, 'pageshow', wake);
      this.listen(window, 'offline', () => {
        this.opts.onOffline?.();
        this.drop('offline');
      });
    }
    this.connect();
  }

  /** Adds a listener that stop() removes. */
  listen(target: EventTarget, name: string, f: EventListener): void {
    target.addEventListener(name, f);
    this.listeners.push([target, name, f]);
  }

  /** For good (until start): removes the listeners, clears every timer, closes the line (1000). */
  stop(): void {
    this.halted = true;
    for (const [t, n, f] of this.listeners) t.removeEventListener(n, f);
    this.listeners.length = 0;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    try {
      ws.close(1000, 'bye');
    } catch {
      /* already closed */
    }
  }

  get stopped(): boolean {
    return this.halted;
  }

  /** The line is open (authenticated or not). */
  isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** The line is opening or open. */
  isOpening(): boolean {
    return this.ws !== null && (this.ws.readyState === 0 || this.ws.readyState === WebSocket.OPEN);
  }

  /** Sends msg as JSON on the open line; false when there is none or it failed. */
  send(msg: unknown): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(msg));
      return true;
    } catch {
      return false;
    }
  }

  /** Pings with clientTimeMs = id; the line is dropped when no pong comes within timeoutMs. */
  ping(id: number, timeoutMs: number): boolean {
    if (!this.send({ type: 'ping', clientTimeMs: id })) return false;
    if (!this.pongTimer) this.pongTimer = setTimeout(() => this.drop('no pong'), timeoutMs);
    return true;
  }

  /** The line is joined: the handshake is over, backoff starts again from zero, the heartbeat runs. */
  up(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.attempt = 0;
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = setInterval(() => this.opts.beat(), this.opts.heartbeatMs);
  }

  /** Stops the heartbeat and the pending pong's timeout (the page is frozen). */
  pauseHeartbeat(): void {
    if (this.beatTimer) clearInterval(this.beatTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.beatTimer = this.pongTimer = null;
  }

  /** Replaces the current line (closed with 4000 why) by a new one now, backoff from zero. */
  reconnectNow(why: string): void {
    this.attempt = 0;
    this.release(why);
    this.connect();
  }

  private url(): string {
    if (this.opts.url) return this.opts.url;
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
  }

  private connect(): void {
    if (this.halted) return;
    this.opts.log?.('connect');
    this.release('replaced');
    this.clearTimers();
    this.opts.onConnecting();
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleRetry(false);
      return;
    }
    this.ws = ws;
    const handshakeMs = this.opts.handshakeMs;
    if (handshakeMs) this.handshakeTimer = setTimeout(() => this.drop('handshake'), handshakeMs);
    ws.onopen = () => void this.authenticate(ws);
    ws.onmessage = (e) => this.receive(ws, e);
    ws.onclose = (e) => this.closed(ws, e.code);
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private async authenticate(ws: WebSocket): Promise<void> {
    if (this.ws !== ws) return;
    try {
      const token = await this.opts.getToken();
      if (this.ws !== ws) return;
      this.send({ type: 'auth', token });
      this.scheduleReauth(token);
    } catch {
      if (this.ws === ws || this.opts.tokenFailureDropsCurrent) this.drop('no token');
    }
  }

  private receive(ws: WebSocket, e: MessageEvent): void {
    const t0 = performance.now();
    if (this.ws !== ws) return;
    let msg: any;
    try {
      msg = JSON.parse(String(e.data));
    } catch {
      return;
    }
    if (msg?.type === 'pong') {
      if (this.pongTimer) clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
    this.opts.onFrame(msg, t0);
  }

  private closed(ws: WebSocket, code: number): void {
    this.opts.log?.('close ' + code);
    if (this.ws !== ws) return;
    this.ws = null;
    this.opts.onDetach();
    this.clearTimers();
    if (this.halted) return;
    if (code === 4401) this.attempt = 0; // token expired: a fresh one at once
    if (code !== 1000 && code !== 1001 && code !== 4401 && code !== 1006) this.opts.report?.('socket', `closed ${code}`);
    this.scheduleRetry(false);
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

  /** Abandons the current line (no pong, offline, no token, handshake) and retries with backoff. */
  private drop(why: string): void {
    this.opts.log?.('drop ' + why);
    this.release(why);
    this.clearTimers();
    if (this.halted) return;
    this.scheduleRetry(true);
  }

  /** Lets the current line go without its handlers firing (closed with 4000 why). */
  private release(why: string): void {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(4000, why);
      } catch {
        /* ignore */
      }
    }
    this.opts.onDetach();
  }

  private scheduleRetry(dropped: boolean): void {
    if (this.halted) return;
    this.opts.onRetry(dropped);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, backoffMs(this.attempt++, Math.random));
  }

  private clearTimers(): void {
    this.pauseHeartbeat();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.authTimer) clearTimeout(this.authTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.retryTimer = this.authTimer = this.handshakeTimer = null;
  }
}
