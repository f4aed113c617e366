import { describe, expect, it, vi } from 'vitest';
import { ServerClock } from '../lib/room/clock';
import { FakeWS, flush, useFakeWebSocket } from './fakeWebSocket';
import { RoomSocket, type RoomSocketHandlers } from './socket';

function setup(seq: { v: number | null }) {
  const events: any[] = [];
  const results: any[] = [];
  let live = 0;
  let gapAt: number | null = null;
  const handlers: RoomSocketHandlers = {
    onSnapshot: (a) => {
      seq.v = a.seq;
    },
    onEvent: (ev) => {
      if (seq.v == null || ev.seq > seq.v + 1) {
        gapAt = ev.seq;
        return 'gap';
      }
      if (ev.seq <= seq.v) return 'duplicate';
      seq.v = ev.seq;
      events.push(ev);
      return 'applied';
    },
    onPresence: () => undefined,
    onBidResult: (r) => results.push(r),
    onLive: () => live++,
    onFatal: () => undefined,
    sinceSeq: () => seq.v,
  };
  let tokens = 0;
  const sock = new RoomSocket({
    auctionId: 'au_1',
    url: 'ws://test/ws',
    getToken: async () => `tok${++tokens}`,
    handlers,
    clock: new ServerClock(),
  });
  return { sock, events, results, live: () => live, gapAt: () => gapAt, tokens: () => tokens };
}

async function connectLive(ws: FakeWS, snapshotSeq?: number) {
  ws.open();
  await flush();
  ws.recv({ type: 'ready', userId: 'u', serverTimeMs: 1 });
  if (snapshotSeq != null) ws.recv({ type: 'snapshot', auction: { seq: snapshotSeq, serverTimeMs: 1 } });
  else ws.recv({ type: 'presence', auctionId: 'au_1', online: [], spectatorsOnline: 0, serverTimeMs: 1 });
}

useFakeWebSocket();

describe('RoomSocket', () => {
  it('authenticates first, then joins; live after the snapshot', async () => {
    const seq = { v: null as number | null };
    const t = setup(seq);
    t.sock.start();
    expect(t.sock.status.value).toBe('connecting');
    const ws = FakeWS.all[0];
    await connectLive(ws, 10);
    expect(ws.sent[0]).toEqual({ type: 'auth', token: 'tok1' });
    expect(ws.sent[1]).toEqual({ type: 'join', auctionId: 'au_1' });
    expect(ws.types()).toContain('ping');
    expect(t.sock.status.value).toBe('live');
    expect(t.live()).toBe(1);
    t.sock.stop();
  });

  it('asks for the missed events with sinceSeq when it sees a gap', async () => {
    const seq = { v: null as number | null };
    const t = setup(seq);
    t.sock.start();
    const ws = FakeWS.all[0];
    await connectLive(ws, 10);
    ws.recv({ type: 'bid', auctionId: 'au_1', seq: 11, serverTimeMs: 2 });
    ws.recv({ type: 'bid', auctionId: 'au_1', seq: 13, serverTimeMs: 3 });
    expect(t.gapAt()).toBe(13);
    const joins = ws.sent.filter((m) => m.type === 'join');
    expect(joins[joins.length - 1]).toEqual({ type: 'join', auctionId: 'au_1', sinceSeq: 11 });
    t.sock.stop();
  });

  it('reconnects with backoff and resumes from its seq; bids wait while not live', async () => {
    const seq = { v: null as number | null };
    const t = setup(seq);
    t.sock.start();
    const ws1 = FakeWS.all[0];
    await connectLive(ws1, 20);
    expect(t.sock.sendBid(3, 5, 'cb1')).toBe(true);
    expect(ws1.sent[ws1.sent.length - 1]).toEqual({ type: 'bid', auctionId: 'au_1', lot: 3, amount: 5, clientBidId: 'cb1' });
    ws1.drop(1006);
    expect(t.sock.status.value).toBe('reconnecting');
    expect(t.sock.sendBid(3, 5, 'cb1')).toBe(false);
    expect(FakeWS.all).toHaveLength(1);
    vi.advanceTimersByTime(600); // attempt 0 waits at most 500 ms
    expect(FakeWS.all).toHaveLength(2);
    const ws2 = FakeWS.all[1];
    await connectLive(ws2);
    expect(ws2.sent[0]).toEqual({ type: 'auth', token: 'tok2' });
    expect(ws2.sent[1]).toEqual({ type: 'join', auctionId: 'au_1', sinceSeq: 20 });
    expect(t.sock.status.value).toBe('live');
    expect(t.live()).toBe(2); // the store resends its pending bid here
    t.sock.stop();
  });

  it('a silent line (no pong) is dropped and replaced', async () => {
    const seq = { v: null as number | null };
    const t = setup(seq);
    t.sock.start();
    await connectLive(FakeWS.all[0], 1);
    vi.advanceTimersByTime(7000); // pong timeout 6 s
    expect(t.sock.status.value).toBe('reconnecting');
    vi.advanceTimersByTime(600);
    expect(FakeWS.all.length).toBe(2);
    t.sock.stop();
  });

  it('a 4401 close (token expired) reconnects at once with a fresh token', async () => {
    const seq = { v: null as number | null };
    const t = setup(seq);
    t.sock.start();
    await connectLive(FakeWS.all[0], 1);
    FakeWS.all[0].recv({ type: 'pong', clientTimeMs: 0, serverTimeMs: 0 });
    FakeWS.all[0].drop(4401);
    vi.advanceTimersByTime(500);
    const ws2 = FakeWS.all[1];
    ws2.open();
    await flush();
    expect(ws2.sent[0]).toEqual({ type: 'auth', token: 'tok2' });
    t.sock.stop();
  });

  it('re-authenticates with a fresh token 45 s before the token expires', async () => {
    const seq = { v: null as number | null };
    const jwt = (expS: number) => `h.${Buffer.from(JSON.stringify({ exp: expS })).toString('base64url')}.s`;
    let n = 0;
    const now = Date.now();
    const sock = new RoomSocket({
      auctionId: 'au_1',
      url: 'ws://test/ws',
      getToken: async () => jwt(Math.floor((now + 900_000 * ++n) / 1000)),
      handlers: setup(seq).sock['opts'].handlers,
      clock: new ServerClock(),
    });
    FakeWS.autoPong = true;
    sock.start();
    const ws = FakeWS.all[FakeWS.all.length - 1];
    await connectLive(ws, 1);
    const auths = () => ws.sent.filter((m) => m.type === 'auth').length;
    expect(auths()).toBe(1);
    await vi.advanceTimersByTimeAsync(900_000 - 46_000);
    expect(auths()).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(auths()).toBe(2);
    expect(FakeWS.all[FakeWS.all.length - 1]).toBe(ws); // the same connection, kept alive by pongs
    sock.stop();
  });

  it('passes bid results and ignores other auctions', async () => {
    const seq = { v: null as number | null };
    const t = setup(seq);
    t.sock.start();
    const ws = FakeWS.all[0];
    await connectLive(ws, 5);
    ws.recv({ type: 'bid_result', clientBidId: 'cb1', accepted: true, seq: 6 });
    ws.recv({ type: 'bid', auctionId: 'au_other', seq: 6, serverTimeMs: 1 });
    expect(t.results).toEqual([{ type: 'bid_result', clientBidId: 'cb1', accepted: true, seq: 6 }]);
    expect(t.events).toEqual([]);
    t.sock.stop();
  });
});
