import { describe, expect, it, vi } from 'vitest';
import { FakeWS, flush, useFakeWebSocket } from './fakeWebSocket';
import { LeagueSocket, type LeagueEvent } from './leagueSocket';

function setup() {
  const events: LeagueEvent[] = [];
  let joined = 0;
  let refused: string | null = null;
  let tokens = 0;
  const sock = new LeagueSocket({
    leagueId: 'lg_1',
    url: 'ws://test/ws',
    getToken: async () => `tok${++tokens}`,
    onEvent: (ev) => events.push(ev),
    onJoined: () => joined++,
    onRefused: (c) => (refused = c),
  });
  return { sock, events, joined: () => joined, refused: () => refused };
}

/** Opens ws, answers auth with ready and the join's ping with its pong. */
async function join(ws: FakeWS) {
  ws.open();
  await flush();
  ws.recv({ type: 'ready', userId: 'u', serverTimeMs: 1 });
  const ping = ws.last('ping');
  ws.recv({ type: 'pong', clientTimeMs: ping.clientTimeMs, serverTimeMs: 2 });
}

useFakeWebSocket();

describe('LeagueSocket', () => {
  it('authenticates, joins the league room, and is live once the join is answered', async () => {
    const t = setup();
    t.sock.start();
    const ws = FakeWS.all[0];
    expect(t.sock.status.value).toBe('connecting');
    ws.open();
    await flush();
    expect(ws.sent[0]).toEqual({ type: 'auth', token: 'tok1' });
    ws.recv({ type: 'ready', userId: 'u', serverTimeMs: 1 });
    expect(ws.sent[1]).toEqual({ type: 'join_league', leagueId: 'lg_1' });
    expect(ws.sent[2].type).toBe('ping');
    expect(t.sock.status.value).toBe('connecting');
    ws.recv({ type: 'pong', clientTimeMs: ws.sent[2].clientTimeMs, serverTimeMs: 2 });
    expect(t.sock.status.value).toBe('live');
    expect(t.joined()).toBe(1);
    t.sock.stop();
  });

  it('passes this league’s events only', async () => {
    const t = setup();
    t.sock.start();
    const ws = FakeWS.all[0];
    await join(ws);
    ws.recv({ type: 'standings_updated', leagueId: 'lg_1' });
    ws.recv({ type: 'standings_updated', leagueId: 'lg_2' });
    ws.recv({ type: 'member_joined', leagueId: 'lg_1', userId: 'u2', name: 'Bo' });
    ws.recv({ type: 'bid', auctionId: 'au_1', seq: 3 });
    expect(t.events.map((e) => e.type)).toEqual(['standings_updated', 'member_joined']);
    t.sock.stop();
  });

  it('reconnects after a drop and rejoins (the page reloads on every join)', async () => {
    const t = setup();
    t.sock.start();
    await join(FakeWS.all[0]);
    FakeWS.all[0].drop(1006);
    expect(t.sock.status.value).toBe('down');
    await vi.advanceTimersByTimeAsync(600); // attempt 0 waits at most 500 ms
    expect(FakeWS.all).toHaveLength(2);
    await join(FakeWS.all[1]);
    expect(FakeWS.all[1].sent[0]).toEqual({ type: 'auth', token: 'tok2' });
    expect(t.sock.status.value).toBe('live');
    expect(t.joined()).toBe(2);
    t.sock.stop();
  });

  it('a silent line (no pong to the heartbeat) is dropped and replaced', async () => {
    const t = setup();
    t.sock.start();
    await join(FakeWS.all[0]);
    await vi.advanceTimersByTimeAsync(20_000); // heartbeat ping, never answered
    expect(t.sock.status.value).toBe('live');
    await vi.advanceTimersByTimeAsync(6_100);
    expect(t.sock.status.value).toBe('down');
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeWS.all).toHaveLength(2);
    t.sock.stop();
  });

  it('stops for good when the server refuses the join', async () => {
    const t = setup();
    t.sock.start();
    const ws = FakeWS.all[0];
    ws.open();
    await flush();
    ws.recv({ type: 'ready', userId: 'u', serverTimeMs: 1 });
    ws.recv({ type: 'error', code: 'forbidden', message: 'You are not a member of this league.' });
    expect(t.sock.status.value).toBe('refused');
    expect(t.refused()).toBe('forbidden');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeWS.all).toHaveLength(1);
  });

  it('a line that never finishes the handshake is replaced', async () => {
    const t = setup();
    t.sock.start();
    FakeWS.all[0].open(); // opened, but no ready ever comes
    await flush();
    t.sock.wake(); // on its way: no second socket
    expect(FakeWS.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_100);
    expect(t.sock.status.value).toBe('down');
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeWS.all).toHaveLength(2);
    t.sock.stop();
  });

  it('wake reconnects at once while down', async () => {
    const t = setup();
    t.sock.start();
    await join(FakeWS.all[0]);
    FakeWS.all[0].drop(1006);
    t.sock.wake();
    expect(FakeWS.all).toHaveLength(2);
    t.sock.stop();
  });
});
