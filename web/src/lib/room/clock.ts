// Server clock: offset = serverTime − clientTime, estimated from ping/pong samples (the one of
// least round-trip time wins) and, until a pong arrives, from the serverTimeMs of messages.

import type { AuctionState, Lot } from './types';

export interface ClockSample {
  rttMs: number;
  offsetMs: number;
  atMs: number;
}

export class ServerClock {
  private samples: ClockSample[] = [];
  private coarse: number | null = null;
  constructor(private readonly keep = 8) {}

  /** A pong: sent at clientSendMs, server stamped serverTimeMs, received at clientRecvMs. */
  addPong(clientSendMs: number, serverTimeMs: number, clientRecvMs: number): void {
    const rttMs = Math.max(0, clientRecvMs - clientSendMs);
    const offsetMs = serverTimeMs + rttMs / 2 - clientRecvMs;
    this.samples.push({ rttMs, offsetMs, atMs: clientRecvMs });
    if (this.samples.length > this.keep) this.samples.shift();
  }

  /**
   * Any server message stamped serverTimeMs and received at clientRecvMs: the server's clock was
   * at least serverTimeMs on receipt, so offset ≥ serverTimeMs − clientRecvMs (keep the largest).
   */
  addStamp(serverTimeMs: number, clientRecvMs: number): void {
    const o = serverTimeMs - clientRecvMs;
    if (this.coarse === null || o > this.coarse) this.coarse = o;
  }

  /** Best estimate of serverTime − clientTime in ms (0 with no information). */
  offsetMs(): number {
    if (this.samples.length) {
      let best = this.samples[0];
      for (const s of this.samples) if (s.rttMs < best.rttMs) best = s;
      return best.offsetMs;
    }
    return this.coarse ?? 0;
  }

  hasPong(): boolean {
    return this.samples.length > 0;
  }

  /** Server time now, given the client's clock. */
  serverNow(clientNowMs: number): number {
    return clientNowMs + this.offsetMs();
  }

  reset(): void {
    this.samples = [];
    this.coarse = null;
  }
}

export type ClockPhase = 'idle' | 'running' | 'intermission' | 'paused' | 'closed';

export interface ClockView {
  phase: ClockPhase;
  /** Milliseconds left (never negative); frozen while paused; 0 when idle or closed. */
  remainingMs: number;
}

/** What the countdown shows for this auction at server time serverNowMs. */
export function clockView(a: Pick<AuctionState, 'status' | 'lot'>, serverNowMs: number): ClockView {
  const lot: Lot | null = a.lot;
  if (!lot || a.status === 'waiting' || a.status === 'completed') return { phase: 'idle', remainingMs: 0 };
  if (a.status === 'paused') return { phase: 'paused', remainingMs: Math.max(0, lot.remainingMs ?? 0) };
  if (lot.state === 'sold' || lot.state === 'unsold') return { phase: 'closed', remainingMs: 0 };
  const left = lot.endsAtMs == null ? (lot.remainingMs ?? 0) : lot.endsAtMs - serverNowMs;
  return { phase: lot.state === 'intermission' ? 'intermission' : 'running', remainingMs: Math.max(0, left) };
}

/** 'calm' above 5 s, 'warn' ≤ 5 s, 'danger' ≤ 3 s (only for a running lot). */
export function urgency(view: ClockView): 'calm' | 'warn' | 'danger' {
  if (view.phase !== 'running') return 'calm';
  if (view.remainingMs <= 3000) return 'danger';
  if (view.remainingMs <= 5000) return 'warn';
  return 'calm';
}

/** "0:07", "1:30"; rounds up so the clock shows 0:00 only when time is up. */
export function formatClock(ms: number): string {
  const s = Math.ceil(Math.max(0, ms) / 1000);
  const m = Math.floor(s / 60);
  const r = s % 60;
  return `${m}:${r < 10 ? '0' : ''}${r}`;
}
