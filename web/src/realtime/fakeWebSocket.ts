// Test helper for the socket tests (Vitest only, never imported by the app): a WebSocket the test
// drives by hand, and the set-up that installs it as the global one with fake timers.

import { afterEach, beforeEach, vi } from 'vitest';

export class FakeWS {
  static OPEN = 1;
  /** Every socket made in this test, oldest first. */
  static all: FakeWS[] = [];
  /** Answer every ping with its pong (on a microtask). */
  static autoPong = false;
  readyState = 0;
  sent: any[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeWS.all.push(this);
  }
  send(s: string) {
    const m = JSON.parse(s);
    this.sent.push(m);
    if (FakeWS.autoPong && m.type === 'ping')
      void Promise.resolve().then(() => this.recv({ type: 'pong', clientTimeMs: m.clientTimeMs, serverTimeMs: m.clientTimeMs }));
  }
  close() {
    this.readyState = 3;
  }
  // test side
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  recv(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  types() {
    return this.sent.map((m) => m.type);
  }
  /** The last message of this type sent. */
  last(type: string) {
    return [...this.sent].reverse().find((m) => m.type === type);
  }
}

/** Lets pending promise callbacks (an awaited getToken) run. */
export const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** Around each test of the calling file: a fresh FakeWS as the global WebSocket, and fake timers. */
export function useFakeWebSocket(): void {
  beforeEach(() => {
    FakeWS.all = [];
    FakeWS.autoPong = false;
    vi.useFakeTimers();
    (globalThis as any).WebSocket = FakeWS;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
