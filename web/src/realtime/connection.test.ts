import { describe, expect, it, vi } from 'vitest';
import { Connection, type ConnectionOptions } from './connection';
import { FakeWS, flush, useFakeWebSocket } from './fakeWebSocket';

useFakeWebSocket();

function setup(over: Partial<ConnectionOptions> = {}) {
  const calls: string[] = [];
  let tokens = 0;
  const conn: Connection = new Connection({
    url: 'ws://test/ws',
    getToken: async () => `tok${++tokens}`,
    heartbeatMs: 10_000,
    beat: () => calls.push('beat'),
    onConnecting: () => calls.push('connecting'),
    onFrame: (msg) => calls.push('frame ' + msg.type),
    onDetach: () => calls.push('detach'),
    onRetry: (dropped) => calls.push(`retry ${dropped}`),
    onWake: () => calls.push('wake'),
    ...over,
  });
  return { conn, calls };
}

describe('Connection', () => {
  it('authenticates on open, passes frames on, and drops a line whose ping is not answered', async () => {
    const { conn, calls } = setup();
    conn.start();
    const ws = FakeWS.all[0];
    ws.open();
    await flush();
    expect(ws.sent[0]).toEqual({ type: 'auth', token: 'tok1' });
    ws.recv({ type: 'ready' });
    expect(conn.ping(7, 6_000)).toBe(true);
    ws.recv({ type: 'pong', clientTimeMs: 7 });
    vi.advanceTimersByTime(7_000);
    expect(FakeWS.all).toHaveLength(1); // the pong cleared the timeout
    conn.ping(8, 6_000);
    vi.advanceTimersByTime(6_100);
    expect(calls).toContain('retry true');
    vi.advanceTimersByTime(600);
    expect(FakeWS.all).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith('frame'))).toEqual(['frame ready', 'frame pong']);
    conn.stop();
  });

  it('a line not up within handshakeMs is dropped', () => {
    const { conn, calls } = setup({ handshakeMs: 10_000 });
    conn.start();
    FakeWS.all[0].open();
    vi.advanceTimersByTime(10_100);
    expect(calls).toContain('retry true');
    conn.stop();
  });

  it('up() starts the heartbeat; stop() ends it and closes the line', () => {
    const { conn, calls } = setup();
    conn.start();
    FakeWS.all[0].open();
    conn.up();
    vi.advanceTimersByTime(20_000);
    expect(calls.filter((c) => c === 'beat')).toHaveLength(2);
    conn.stop();
    expect(FakeWS.all[0].readyState).toBe(3);
    vi.advanceTimersByTime(60_000);
    expect(calls.filter((c) => c === 'beat')).toHaveLength(2);
    expect(FakeWS.all).toHaveLength(1);
  });

  it('a token failure on a line already replaced drops the new line only with tokenFailureDropsCurrent', async () => {
    for (const dropsCurrent of [false, true]) {
      FakeWS.all = [];
      let fail: (e: Error) => void = () => undefined;
      const { conn } = setup({
        tokenFailureDropsCurrent: dropsCurrent,
        getToken: () => new Promise<string>((_, rej) => (fail = rej)),
      });
      conn.start();
      FakeWS.all[0].open(); // asks for a token that will not come
      conn.reconnectNow('resume');
      const second = FakeWS.all[1];
      fail(new Error('no token'));
      await flush();
      expect(second.readyState).toBe(dropsCurrent ? 3 : 0);
      conn.stop();
    }
  });
});
