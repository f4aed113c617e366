"""The live auction room over WebSocket against the real binary: join answers a full AuctionState
snapshot that equals what REST and the early joiners see; a sinceSeq resume after a forced
disconnect delivers exactly the missed events (and a snapshot once they left the ring); 20
clients in one room see the identical event sequence; rooms (auction and league) are isolated;
non-members are refused and spectators watch but cannot bid; a reader that never reads is cut off
while the others keep every event; bids over WS and REST interleaved keep seq gapless and
clientBidId replays its first outcome; presence; ping inside a room.

Normal clients use the websockets library (asyncio API of version 10); the slow reader is a raw
socket with a tiny receive buffer."""

import asyncio
import json
import random
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
import websockets

from conftest import (
    TIMEOUT,
    WS_CLOSE,
    WS_TEXT,
    Closed,
    RawConn,
    run_async,
    wait_for,
    ws_connect,
)
from test_auction import M, bid, control, setup_auction, state
from test_leagues import Client, make_league

EVENT_TYPES = {
    "auction_created", "lot_opened", "bid", "lot_closed", "intermission", "paused", "resumed",
    "lot_undone", "auction_completed", "auction_reset", "auction_deleted",
}
STATE_KEYS = {
    "id", "leagueId", "status", "seq", "serverTimeMs", "settings", "lot", "progress",
    "spectatorsOnline", "managers", "completedReason",
}
SETTINGS_KEYS = {"budget", "rosterSize", "minBid", "minIncrement", "lotSeconds",
                 "antiSnipeSeconds", "intermissionSeconds"}
LOT_KEYS = {"number", "asset", "state", "retry", "currentBid", "leaderId", "leaderName",
            "endsAtMs", "remainingMs"}
MANAGER_KEYS = {"userId", "name", "budgetRemaining", "maxBid", "emptySlots", "roster", "online"}
PROGRESS_KEYS = {"lotsTotal", "lotsClosed", "sold", "unsold", "queued"}


# ---- helpers ------------------------------------------------------------------------------------


class Peer:
    """One authenticated websockets client; every message it receives is kept in `inbox`."""

    def __init__(self, ws, who):
        self.ws, self.who, self.inbox = ws, who, []

    @classmethod
    async def connect(cls, server, who):
        # max_queue=None: the library keeps reading while a test is busy elsewhere
        peer = cls(await ws_connect(server, max_size=2**22, max_queue=None), who)
        await peer.send(type="auth", token=who.token)
        ready = await peer.recv()
        assert ready["type"] == "ready" and ready["userId"] == who.id, ready
        return peer

    async def send(self, **msg):
        await self.ws.send(json.dumps(msg))

    async def recv(self, timeout=TIMEOUT):
        try:
            text = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"nothing received within {timeout} s; last: {self.inbox[-5:]}")
        msg = json.loads(text)
        self.inbox.append(msg)
        return msg

    async def until(self, pred, timeout=TIMEOUT, what="a matching message"):
        """Receives until pred(message); returns that message."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; last: {self.inbox[-5:]}")
            try:
                msg = await self.recv(left)
            except AssertionError:
                raise AssertionError(f"timed out waiting for {what}; last: {self.inbox[-5:]}")
            if pred(msg):
                return msg

    async def join(self, aid, since=None):
        """Sends join; returns the snapshot or error (events before it stay in the inbox)."""
        body = {"auctionId": aid, **({"sinceSeq": since} if since is not None else {})}
        await self.send(type="join", **body)
        return await self.until(lambda m: m["type"] in ("snapshot", "error"), what="snapshot")

    def events(self, aid=None):
        return [m for m in self.inbox
                if m["type"] in EVENT_TYPES and (aid is None or m["auctionId"] == aid)]

    def last_seq(self, aid):
        evs = self.events(aid)
        return evs[-1]["seq"] if evs else 0

    async def events_until(self, aid, seq, timeout=TIMEOUT):
        """Receives until the event of aid with this seq (or a later one) has arrived."""
        if self.last_seq(aid) < seq:
            await self.until(lambda m: m["type"] in EVENT_TYPES and m["auctionId"] == aid
                             and m["seq"] >= seq, timeout, what=f"event seq {seq} of {aid}")

    async def barrier(self):
        """A ping round trip: returns every message received before the pong."""
        start = len(self.inbox)
        t = random.randrange(1, 2**40)
        await self.send(type="ping", clientTimeMs=t)
        await self.until(lambda m: m["type"] == "pong" and m.get("clientTimeMs") == t,
                         what="pong")
        return self.inbox[start:-1]

    async def bid(self, aid, lot, amount, cbid=None):
        cbid = cbid or uuid.uuid4().hex
        await self.send(type="bid", auctionId=aid, lot=lot, amount=amount, clientBidId=cbid)
        return await self.until(lambda m: m["type"] == "bid_result" and m["clientBidId"] == cbid,
                                what=f"bid_result {cbid}")

    async def close(self):
        await self.ws.close()

    def abort(self):
        """Drops the TCP connection without a close frame."""
        self.ws.transport.abort()


def thread(fn, *args, **kw):
    return asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kw))


def log_of(who, aid, after=None):
    return who.all_items(f"/api/auctions/{aid}/events", limit=500,
                         **({"afterSeq": after} if after is not None else {}))


def comparable(st):
    """An AuctionState without the fields that depend on the instant it was read."""
    st = json.loads(json.dumps(st))
    st.pop("serverTimeMs")
    if st.get("lot"):
        st["lot"].pop("remainingMs")
    return st


def check_state_shape(st):
    assert set(st) >= STATE_KEYS, sorted(STATE_KEYS - set(st))
    assert set(st["settings"]) >= SETTINGS_KEYS, st["settings"]
    assert set(st["progress"]) >= PROGRESS_KEYS, st["progress"]
    assert st["status"] in ("waiting", "running", "paused", "completed")
    assert isinstance(st["seq"], int) and st["seq"] >= 1
    if st["lot"] is not None:
        assert set(st["lot"]) >= LOT_KEYS, st["lot"]
        assert st["lot"]["asset"]["id"]
    for m in st["managers"]:
        assert set(m) >= MANAGER_KEYS, m
        assert isinstance(m["online"], bool)


class BidSessions:
    """Fast sequential REST bids over keep-alive connections (about 3 ms each)."""

    def __init__(self, server, people):
        self.server, self.sessions = server, []
        for p in people:
            s = requests.Session()
            s.headers["Authorization"] = "Bearer " + p.token
            self.sessions.append(s)

    def bid(self, i, aid, lot, amount, cbid=None):
        return self.sessions[i].post(
            f"{self.server.url}/api/auctions/{aid}/bids",
            json={"lot": lot, "amount": amount, "clientBidId": cbid or uuid.uuid4().hex},
            timeout=TIMEOUT)

    def run(self, aid, lot, first_amount, n):
        """n accepted bids alternating between the sessions, amounts first_amount, +1, ...;
        returns the next amount."""
        amount = first_amount
        for k in range(n):
            r = self.bid(k % len(self.sessions), aid, lot, amount)
            assert r.status_code == 200, r.text
            amount += 1
        return amount

    def close(self):
        for s in self.sessions:
            s.close()


def auction_for(comm, members, n_assets=5, **settings):
    """An auction (begun) of a new league of comm with these existing clients as managers."""
    cfg = dict(budget=500 * M, rosterSize=2, minBid=M, minIncrement=M, lotSeconds=60,
               antiSnipeSeconds=0, intermissionSeconds=0, reofferUnsold=0, lotOrder="fixed",
               minManagers=1, maxManagers=8)
    cfg.update(settings)
    lg = make_league(comm, **cfg)
    for p in members:
        assert p.post(f"/api/invites/{lg['inviteCode']}/join").status_code == 200
    afcon = [a["id"] for a in comm.all_items("/api/assets", competition="AFCON-2025")][:n_assets]
    assert comm.call("PUT", f"/api/leagues/{lg['id']}/assets",
                     {"assetIds": afcon}).status_code == 200
    r = comm.post(f"/api/leagues/{lg['id']}/auction")
    assert r.status_code == 201, r.text
    return lg, control(comm, r.json()["id"], "begin")


class View:
    """What a client reconstructs from a snapshot and the events after it."""

    def __init__(self, st):
        self.seq = st["seq"]
        self.status = st["status"]
        lot = st["lot"] or {}
        self.lot, self.lot_state = lot.get("number"), lot.get("state")
        self.leader, self.price = lot.get("leaderId"), lot.get("currentBid")
        self.budgets = {m["userId"]: m["budgetRemaining"] for m in st["managers"]}
        self.rosters = {m["userId"]: [(x["assetId"], x["price"]) for x in m["roster"]]
                        for m in st["managers"]}

    def apply(self, ev):
        assert ev["seq"] == self.seq + 1, f"gap: after {self.seq} came {ev['seq']}"
        self.seq = ev["seq"]
        t = ev["type"]
        if t == "lot_opened":
            self.lot, self.lot_state = ev["lot"]["number"], "running"
            self.leader = self.price = None
        elif t == "bid":
            assert ev["lot"] == self.lot
            self.leader, self.price = ev["leaderId"], ev["amount"]
        elif t == "lot_closed":
            self.lot_state = ev["result"]
            if ev["result"] == "sold":
                self.budgets[ev["winnerId"]] = ev["winnerBudgetRemaining"]
                self.rosters[ev["winnerId"]].append((ev["assetId"], ev["price"]))
            self.leader = self.price = None
        elif t == "intermission":
            self.lot_state = "intermission"
        elif t == "paused":
            self.status = "paused"
        elif t == "resumed":
            self.status = "running"
        elif t == "auction_completed":
            self.status = "completed"

    def check(self, st):
        lot = st["lot"] or {}
        assert st["seq"] == self.seq
        assert st["status"] == self.status
        assert (lot.get("number"), lot.get("state")) == (self.lot, self.lot_state)
        assert (lot.get("leaderId"), lot.get("currentBid")) == (self.leader, self.price)
        assert {m["userId"]: m["budgetRemaining"] for m in st["managers"]} == self.budgets
        assert {m["userId"]: [(x["assetId"], x["price"]) for x in m["roster"]]
                for m in st["managers"]} == self.rosters


# ---- snapshot -----------------------------------------------------------------------------------


def test_late_joiner_snapshot_equals_what_the_others_see(server):
    people, lg, st, assets = setup_auction(server, 3, n_assets=4, rosterSize=2)
    aid = st["id"]
    comm, a, b = people
    spectator = Client(server)
    assert spectator.post(f"/api/watch/{lg['watchCode']}").status_code == 200

    async def go():
        early = await Peer.connect(server, a)
        snap = await early.join(aid)
        assert snap["type"] == "snapshot", snap
        check_state_shape(snap["auction"])
        assert snap["auction"]["id"] == aid and snap["auction"]["leagueId"] == lg["id"]
        assert comparable(snap["auction"]) == comparable(await thread(state, comm, aid))
        view = View(snap["auction"])
        # a lot sold, the next one opened, bids on it over REST and WS
        assert (await thread(bid, a, aid, 1, 3 * M)).status_code == 200
        assert (await thread(bid, b, aid, 1, 5 * M)).status_code == 200
        await thread(control, comm, aid, "close-lot")
        assert (await thread(bid, comm, aid, 2, 2 * M)).status_code == 200
        res = await early.bid(aid, 2, 4 * M)
        assert res["accepted"] is True, res
        rest = await thread(state, comm, aid)
        await early.events_until(aid, rest["seq"])
        for ev in early.events(aid):
            view.apply(ev)
        view.check(rest)
        assert view.lot == 2 and view.leader == a.id and view.price == 4 * M
        assert view.budgets[b.id] == 495 * M and view.rosters[b.id] == [(assets[0], 5 * M)]

        late_mgr = await Peer.connect(server, b)
        late_spec = await Peer.connect(server, spectator)
        for late in (late_mgr, late_spec):
            snap = await late.join(aid)
            assert snap["type"] == "snapshot", snap
            check_state_shape(snap["auction"])
            view.check(snap["auction"])
        after = await thread(state, comm, aid)
        assert comparable(snap["auction"]) == comparable(after)
        assert snap["auction"]["spectatorsOnline"] == 1
        online = {m["userId"]: m["online"] for m in snap["auction"]["managers"]}
        assert online == {comm.id: False, a.id: True, b.id: True}
        for p in (early, late_mgr, late_spec):
            await p.close()

    run_async(go())


# ---- sinceSeq -----------------------------------------------------------------------------------


def test_since_seq_resume_delivers_exactly_the_missed_events(server):
    people, lg, st, _ = setup_auction(server, 3, n_assets=4)
    aid = st["id"]
    comm, a, b = people

    async def go():
        first = await Peer.connect(server, a)
        snap = await first.join(aid)
        assert snap["type"] == "snapshot"
        assert (await thread(bid, b, aid, 1, 2 * M)).status_code == 200
        await first.events_until(aid, snap["auction"]["seq"] + 1)
        last = first.last_seq(aid)
        assert last == snap["auction"]["seq"] + 1
        first.abort()  # no close frame
        # meanwhile: bids, a hammer, a bid on the next lot, a pause
        assert (await thread(bid, comm, aid, 1, 3 * M)).status_code == 200
        assert (await thread(bid, b, aid, 1, 4 * M)).status_code == 200
        await thread(control, comm, aid, "close-lot")
        assert (await thread(bid, a, aid, 2, 6 * M)).status_code == 200
        await thread(control, comm, aid, "pause")
        current = (await thread(state, comm, aid))["seq"]
        missed = await thread(log_of, comm, aid, last)
        assert [e["seq"] for e in missed] == list(range(last + 1, current + 1))
        assert len(missed) >= 7

        again = await Peer.connect(server, a)
        await again.send(type="join", auctionId=aid, sinceSeq=last)
        await again.until(lambda m: m["type"] == "snapshot" or
                          (m["type"] in EVENT_TYPES and m["seq"] >= current), what="the replay")
        await again.barrier()
        assert not [m for m in again.inbox if m["type"] in ("snapshot", "error")], again.inbox
        replay = again.events(aid)
        assert [e["seq"] for e in replay] == list(range(last + 1, current + 1))
        assert replay == missed, "the replayed events are the logged events"
        # and the room goes on live
        await thread(control, comm, aid, "resume")
        await again.events_until(aid, current + 1)
        assert [e["type"] for e in again.events(aid)][-1] == "resumed"

        # sinceSeq at the current seq: nothing to replay, no snapshot
        now_seq = again.last_seq(aid)
        assert now_seq == (await thread(state, comm, aid))["seq"]
        third = await Peer.connect(server, b)
        await third.send(type="join", auctionId=aid, sinceSeq=now_seq)
        got = await third.barrier()
        assert [m["type"] for m in got if m["type"] != "presence"] == [], got
        await third.close()
        await again.close()

    run_async(go())


def test_since_seq_older_than_the_ring_gets_a_snapshot(server):
    people, lg, st, _ = setup_auction(server, 2, minBid=1, minIncrement=1, lotSeconds=600)
    aid = st["id"]
    comm, a = people
    sessions = BidSessions(server, people)
    try:
        sessions.run(aid, 1, 1, 1150)  # > 1,024 events (about 4 s)
    finally:
        sessions.close()
    current = state(comm, aid)["seq"]
    assert current >= 1150

    async def go():
        old = await Peer.connect(server, a)
        snap = await old.join(aid, since=1)  # 1,149+ events ago: beyond the ring
        assert snap["type"] == "snapshot", snap
        assert snap["auction"]["seq"] == current
        assert old.events(aid) == [], "a snapshot instead of the events, not both"
        assert snap["auction"]["lot"]["currentBid"] == 1150

        recent = await Peer.connect(server, comm)  # exactly 1,000 ago: guaranteed replay
        await recent.send(type="join", auctionId=aid, sinceSeq=current - 1000)
        await recent.events_until(aid, current, timeout=15)
        await recent.barrier()
        assert not [m for m in recent.inbox if m["type"] in ("snapshot", "error")]
        replay = recent.events(aid)
        assert [e["seq"] for e in replay] == list(range(current - 999, current + 1))
        assert replay == await thread(log_of, comm, aid, current - 1000)
        await old.close()
        await recent.close()

    run_async(go(), timeout=60)


# ---- fan-out ------------------------------------------------------------------------------------


def test_twenty_clients_see_the_identical_event_sequence(server):
    people, lg, st, _ = setup_auction(server, 16, n_assets=4, minIncrement=1, rosterSize=2)
    aid = st["id"]
    comm = people[0]
    spectators = [Client(server) for _ in range(4)]
    for s in spectators:
        assert s.post(f"/api/watch/{lg['watchCode']}").status_code == 200

    async def go():
        peers = await asyncio.gather(*(Peer.connect(server, p) for p in people + spectators))
        snaps = await asyncio.gather(*(p.join(aid) for p in peers))
        assert all(s["type"] == "snapshot" for s in snaps), snaps
        start = {s["auction"]["seq"] for s in snaps}
        assert len(start) == 1, "no event happened while they joined"
        start = start.pop()
        # one accepted bid each way first, so both paths are in the mix
        assert (await peers[1].bid(aid, 1, 10 * M))["accepted"] is True
        assert (await thread(bid, people[2], aid, 1, 11 * M)).status_code == 200
        # the burst: 16 WS bids pipelined and 16 REST bids in parallel, amounts interleaved
        rest_amounts = [12 * M + 2 * i for i in range(16)]
        ws_amounts = [12 * M + 2 * i + 1 for i in range(16)]
        cbids = [uuid.uuid4().hex for _ in range(16)]
        for i, peer in enumerate(peers[:16]):
            await peer.send(type="bid", auctionId=aid, lot=1, amount=ws_amounts[i],
                            clientBidId=cbids[i])
        with ThreadPoolExecutor(16) as pool:
            futs = [pool.submit(bid, people[(i + 5) % 16], aid, 1, rest_amounts[i])
                    for i in range(16)]
            results = await asyncio.gather(*(
                peers[i].until(lambda m, c=cbids[i]: m["type"] == "bid_result"
                               and m["clientBidId"] == c) for i in range(16)))
            rest = [f.result() for f in futs]
        for r in rest:
            assert r.status_code == 200 or r.json()["error"]["code"] in (
                "bid_too_low", "already_leading"), r.text
        for r in results:
            assert r["accepted"] or r["code"] in ("bid_too_low", "already_leading"), r
        await thread(control, comm, aid, "close-lot")
        res = await peers[3].bid(aid, 2, M)
        assert res["accepted"] is True, res
        final = (await thread(state, comm, aid))["seq"]
        await asyncio.gather(*(p.events_until(aid, final) for p in peers))
        log = await thread(log_of, comm, aid, start)
        assert [e["seq"] for e in log] == list(range(start + 1, final + 1))
        assert sum(e["type"] == "bid" for e in log) >= 4
        for i, p in enumerate(peers):
            assert p.events(aid) == log, f"client {i} saw a different sequence"
        await asyncio.gather(*(p.close() for p in peers))

    run_async(go(), timeout=60)


def test_events_never_reach_another_room(server):
    x, y, z = Client(server), Client(server), Client(server)
    lg1, st1 = auction_for(y, [x])
    lg2, st2 = auction_for(z, [x])  # x manages in both
    a1, a2 = st1["id"], st2["id"]

    async def go():
        px, pz = await Peer.connect(server, x), await Peer.connect(server, z)
        assert (await px.join(a1))["type"] == "snapshot"
        assert (await pz.join(a2))["type"] == "snapshot"
        # activity in auction 2, some of it by x itself
        assert (await thread(bid, x, a2, 1, 2 * M)).status_code == 200
        assert (await thread(bid, z, a2, 1, 3 * M)).status_code == 200
        await thread(control, z, a2, "close-lot")
        assert (await pz.bid(a2, 2, 4 * M))["accepted"] is True
        s2 = (await thread(state, z, a2))["seq"]
        await pz.events_until(a2, s2)  # it happened, and reached its room
        seen = await px.barrier()
        assert [m for m in px.inbox if m.get("auctionId") == a2] == [], seen
        assert px.events() == []
        # x moves to auction 2 and leaves auction 1
        snap = await px.join(a2)
        assert snap["type"] == "snapshot" and snap["auction"]["seq"] == s2
        await px.send(type="leave", auctionId=a1)
        await px.barrier()
        assert (await thread(bid, y, a1, 1, 2 * M)).status_code == 200
        assert (await thread(bid, x, a2, 2, 5 * M)).status_code == 200
        await px.events_until(a2, s2 + 1)
        await px.barrier()
        assert [m for m in px.inbox if m.get("auctionId") == a1 and m["type"] != "presence"] == []
        assert [e["seq"] for e in px.events(a2)] == [s2 + 1]

        # league rooms: x watches league 3 only
        lg3, lg4 = make_league(y), make_league(z)
        assert (await thread(x.post, f"/api/invites/{lg3['inviteCode']}/join")).status_code == 200
        await px.send(type="join_league", leagueId=lg3["id"])
        assert [m for m in await px.barrier() if m["type"] == "error"] == []
        newcomer = await thread(Client, server)
        r = await thread(newcomer.post, f"/api/invites/{lg4['inviteCode']}/join")
        assert r.status_code == 200
        seen = await px.barrier()
        assert [m for m in seen if m.get("leagueId")] == [], seen
        r = await thread(newcomer.post, f"/api/invites/{lg3['inviteCode']}/join")
        assert r.status_code == 200
        ev = await px.until(lambda m: m["type"] == "member_joined", what="member_joined")
        assert ev["leagueId"] == lg3["id"] and ev["userId"] == newcomer.id
        assert [m["leagueId"] for m in px.inbox if m.get("leagueId")] == [lg3["id"]]
        await px.close()
        await pz.close()

    run_async(go())


# ---- who may join -------------------------------------------------------------------------------


def test_non_member_cannot_join_and_a_spectator_cannot_bid(server):
    people, lg, st, _ = setup_auction(server, 2)
    aid = st["id"]
    comm, a = people
    outsider, watcher = Client(server), Client(server)
    assert watcher.post(f"/api/watch/{lg['watchCode']}").status_code == 200

    async def go():
        po = await Peer.connect(server, outsider)
        err = await po.join(aid)
        assert err["type"] == "error" and err["code"] == "forbidden", err
        assert err["auctionId"] == aid and err["message"]
        err = await po.join("auc_does_not_exist")
        assert err["type"] == "error" and err["code"] == "not_found", err
        await po.send(type="bid", auctionId=aid, lot=1, amount=50 * M, clientBidId="o-1")
        err = await po.until(lambda m: m["type"] in ("error", "bid_result"))
        assert err.get("accepted") is not True, err
        assert err.get("code") in ("forbidden", "not_a_manager"), err

        ps = await Peer.connect(server, watcher)
        snap = await ps.join(aid)
        assert snap["type"] == "snapshot" and snap["auction"]["id"] == aid
        assert watcher.id not in [m["userId"] for m in snap["auction"]["managers"]]
        assert (await thread(bid, a, aid, 1, 3 * M)).status_code == 200
        ev = await ps.until(lambda m: m["type"] == "bid", what="the bid event")
        assert ev["leaderId"] == a.id and ev["amount"] == 3 * M and ev["auctionId"] == aid
        res = await ps.bid(aid, 1, 9 * M, cbid="spec-1")
        assert res["accepted"] is False and res["code"] == "not_a_manager", res
        assert res["message"] and isinstance(res["details"], dict)
        st2 = await thread(state, comm, aid)
        assert st2["lot"]["currentBid"] == 3 * M and st2["lot"]["leaderId"] == a.id
        # the outsider saw none of it
        await po.barrier()
        assert [m for m in po.inbox if m["type"] in EVENT_TYPES or m["type"] in
                ("snapshot", "presence")] == []
        await po.close()
        await ps.close()

    run_async(go())


# ---- flow control -------------------------------------------------------------------------------


def slow_reader(server, rcvbuf=4096, mss=536):
    """A RawConn whose kernel receive buffer is tiny, set before connecting. The small MSS it
    announces keeps the server's kernel send buffer small too (on loopback, with the default
    64 KiB MSS, Linux lets the server's send queue grow to tcp_wmem's maximum, 4 MiB, before the
    server's own output cap ever sees a byte)."""
    conn = RawConn.__new__(RawConn)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", server.port))
    conn.sock, conn.timeout, conn.buf = sock, TIMEOUT, b""
    return conn


def ws_open(server):
    return server.metrics().value("gavel_ws_connections_open")


def cutoffs(server):
    return server.metrics().value("gavel_ws_output_cutoffs_total")


def test_slow_reader_is_cut_off_while_others_keep_receiving(start_server):
    """A reader that stops reading is closed with 1008 at the output cap, while the room goes
    on; when it reads again it gets a gapless prefix of the events, then the 1008 (the server
    keeps its close grace while the reader drains), and a resume by sinceSeq gives the rest."""
    srv = start_server("--ws-max-output-bytes", 65536)
    people, lg, st, _ = setup_auction(srv, 2, minBid=1, minIncrement=1, lotSeconds=600)
    aid = st["id"]
    comm, a = people
    slow = slow_reader(srv)
    assert slow.ws_handshake().status == 101
    slow.send_ws(WS_TEXT, json.dumps({"type": "auth", "token": a.token}))
    assert json.loads(slow.read_ws_frame()[2])["type"] == "ready"
    slow.send_ws(WS_TEXT, json.dumps({"type": "join", "auctionId": aid}))
    snap = json.loads(slow.read_ws_frame()[2])
    assert snap["type"] == "snapshot", snap
    # from here on the slow connection never reads
    sessions = BidSessions(srv, people)

    def flood():
        amount, total = 1, 0
        while cutoffs(srv) == 0 and total < 5000:
            amount = sessions.run(aid, 1, amount, 100)
            total += 100
        return total, amount

    async def go():
        normal = await Peer.connect(srv, comm)
        start = (await normal.join(aid))["auction"]["seq"]
        assert wait_for(lambda: ws_open(srv) == 2)
        cut_after, amount = await thread(flood)
        assert cut_after < 5000, "the slow reader was never cut off"
        # the slow reader reads again: a gapless prefix, then the close code
        seqs, code = await thread(drain, slow)
        amount = await thread(sessions.run, aid, 1, amount, 50)  # and the room goes on
        final = (await thread(state, comm, aid))["seq"]
        await normal.events_until(aid, final, timeout=30)
        evs = normal.events(aid)
        assert [e["seq"] for e in evs] == list(range(start + 1, final + 1)), "every event, in order"
        assert [e["amount"] for e in evs if e["type"] == "bid"] == list(range(1, amount))
        await normal.close()
        return seqs, code, final

    def drain(conn):
        seqs, code = [], None
        try:
            while code is None:
                fin, opcode, payload = conn.read_ws_frame(timeout=TIMEOUT)
                if opcode == WS_CLOSE:
                    code = int.from_bytes(payload[:2], "big")
                elif opcode == WS_TEXT and json.loads(payload)["type"] in EVENT_TYPES:
                    seqs.append(json.loads(payload)["seq"])
        finally:
            conn.close()
        return seqs, code

    try:
        seqs, code, final = run_async(go(), timeout=120)
    finally:
        sessions.close()
    assert srv.get("/api/health").status == 200
    assert code == 1008, code
    first = snap["auction"]["seq"] + 1
    assert seqs and seqs == list(range(first, first + len(seqs))), "a gapless prefix"
    assert seqs[-1] < final, "cut off before the end"

    async def resume():  # the cut-off reader comes back where it stopped
        back = await Peer.connect(srv, a)
        await back.send(type="join", auctionId=aid, sinceSeq=seqs[-1])
        first = await back.until(lambda m: m["type"] in EVENT_TYPES or m["type"] == "snapshot")
        if first["type"] == "snapshot":
            assert first["auction"]["seq"] == final
        else:
            await back.events_until(aid, final)
            assert [e["seq"] for e in back.events(aid)] == list(range(seqs[-1] + 1, final + 1))
        await back.close()

    run_async(resume())


def test_resume_replaying_more_than_the_output_cap_is_not_cut_off(start_server):
    """A connection cut off at the output cap resumes by sinceSeq; its replay is by construction
    larger than the cap, so replaying it must not close the new, fast-reading connection again
    (the events, or a snapshot instead, are both fine; another 1008 is not)."""
    srv = start_server("--ws-max-output-bytes", 65536)
    people, lg, st, _ = setup_auction(srv, 2, minBid=1, minIncrement=1, lotSeconds=600)
    aid = st["id"]
    comm, a = people
    last = state(comm, aid)["seq"]
    sessions = BidSessions(srv, people)
    try:
        sessions.run(aid, 1, 1, 400)  # about 90 KB of bid events while away
    finally:
        sessions.close()
    final = state(comm, aid)["seq"]

    async def go():
        back = await Peer.connect(srv, a)
        await back.send(type="join", auctionId=aid, sinceSeq=last)
        try:
            first = await back.until(lambda m: m["type"] in EVENT_TYPES or m["type"] == "snapshot")
            if first["type"] == "snapshot":
                assert first["auction"]["seq"] == final
            else:
                await back.events_until(aid, final)
                assert [e["seq"] for e in back.events(aid)] == list(range(last + 1, final + 1))
            await back.barrier()
        except websockets.ConnectionClosed as e:
            raise AssertionError(
                f"the resuming connection was closed ({e}) after {len(back.events(aid))} of "
                f"{final - last} replayed events") from None
        await back.close()

    run_async(go())


# ---- bids over the socket -----------------------------------------------------------------------


def test_ws_and_rest_bids_interleaved_keep_seq_gapless(server):
    people, lg, st, _ = setup_auction(server, 4, minBid=1, minIncrement=1, lotSeconds=300)
    aid = st["id"]
    comm, a, b, c = people
    accepted = []  # (seq, bidder id, amount)

    async def go():
        pa, pc = await Peer.connect(server, a), await Peer.connect(server, c)
        # strictly alternating WS and REST
        amount = 1
        for k in range(12):
            if k % 2 == 0:
                who, res = (a, await pa.bid(aid, 1, amount)) if k % 4 == 0 else \
                    (c, await pc.bid(aid, 1, amount))
                assert res["accepted"] is True, res
                accepted.append((res["seq"], who.id, amount))
            else:
                r = await thread(bid, b, aid, 1, amount)
                assert r.status_code == 200, r.text
                accepted.append((r.json()["seq"], b.id, amount))
            amount += 1
        seqs = [s for s, _, _ in accepted]
        assert seqs == list(range(seqs[0], seqs[0] + 12)), seqs
        # concurrently: WS pipelined from a and c, REST from b and comm
        ws_bids = []
        for k in range(20):
            peer, who = (pa, a) if k % 2 == 0 else (pc, c)
            cbid = uuid.uuid4().hex
            ws_bids.append((peer, who, amount + k, cbid))
            await peer.send(type="bid", auctionId=aid, lot=1, amount=amount + k, clientBidId=cbid)
        rest_bids = [(b if k % 2 else comm, amount + 20 + k) for k in range(20)]
        with ThreadPoolExecutor(8) as pool:
            futs = [pool.submit(bid, who, aid, 1, amt) for who, amt in rest_bids]
            for peer, who, amt, cbid in ws_bids:
                res = await peer.until(lambda m, c_=cbid: m["type"] == "bid_result"
                                       and m["clientBidId"] == c_)
                if res["accepted"]:
                    accepted.append((res["seq"], who.id, amt))
                else:
                    assert res["code"] in ("bid_too_low", "already_leading"), res
            for (who, amt), f in zip(rest_bids, futs):
                r = f.result()
                if r.status_code == 200:
                    accepted.append((r.json()["seq"], who.id, amt))
                else:
                    assert r.json()["error"]["code"] in ("bid_too_low", "already_leading"), r.text
        await pa.close()
        await pc.close()

    run_async(go(), timeout=60)
    log = log_of(comm, aid)
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1)), "seq is gapless from 1"
    bids = {e["seq"]: (e["seq"], e["leaderId"], e["amount"]) for e in log if e["type"] == "bid"}
    assert len(bids) == len(accepted), "one bid event per accepted bid"
    assert len({s for s, _, _ in accepted}) == len(accepted)
    for acc in accepted:
        assert bids.get(acc[0]) == acc, (acc, bids.get(acc[0]))
    rest_bids = a.get(f"/api/auctions/{aid}/bids").json()["items"]
    assert [x["seq"] for x in rest_bids] == sorted(bids)


def test_repeated_client_bid_id_over_ws_returns_the_first_outcome(server):
    people, lg, st, _ = setup_auction(server, 3)
    aid = st["id"]
    comm, a, b = people

    async def go():
        pa = await Peer.connect(server, a)
        first = await pa.bid(aid, 1, 2 * M, cbid="dup-1")
        assert first["accepted"] is True and first["seq"] > 0, first
        again = await pa.bid(aid, 1, 7 * M, cbid="dup-1")  # different amount: still the first
        assert again == first
        r = await thread(bid, a, aid, 1, 2 * M, "dup-1")  # and over REST too
        assert r.status_code == 200 and r.json()["seq"] == first["seq"], r.text
        assert (await thread(bid, b, aid, 1, 4 * M)).status_code == 200
        low = await pa.bid(aid, 1, 3 * M, cbid="dup-low")
        assert low["accepted"] is False and low["code"] == "bid_too_low", low
        assert low["details"]["minimum"] == 5 * M
        low_again = await pa.bid(aid, 1, 9 * M, cbid="dup-low")  # valid now, but replayed
        assert low_again == low
        st2 = await thread(state, comm, aid)
        assert st2["lot"]["currentBid"] == 4 * M and st2["lot"]["leaderId"] == b.id
        bids = (await thread(a.get, f"/api/auctions/{aid}/bids")).json()["items"]
        assert [x["amount"] for x in bids] == [2 * M, 4 * M]
        # a malformed bid gets an invalid_request answer and changes nothing
        await pa.send(type="bid", auctionId=aid, lot=1, amount="9", clientBidId="bad-1")
        bad = await pa.until(lambda m: m["type"] in ("bid_result", "error"))
        assert bad.get("accepted") is not True and bad["code"] == "invalid_request", bad
        await pa.close()

    run_async(go())


# ---- presence and ping --------------------------------------------------------------------------


def test_presence_follows_connections(server):
    people, lg, st, _ = setup_auction(server, 3)
    aid = st["id"]
    comm, a, b = people
    watcher = Client(server)
    assert watcher.post(f"/api/watch/{lg['watchCode']}").status_code == 200

    def presence(pred):
        return lambda m: m["type"] == "presence" and pred(m)

    async def go():
        pc = await Peer.connect(server, comm)
        assert (await pc.join(aid))["type"] == "snapshot"
        ev = await pc.until(presence(lambda m: comm.id in m["online"]), what="own presence")
        assert "seq" not in ev and ev["auctionId"] == aid and ev["spectatorsOnline"] == 0

        pa = await Peer.connect(server, a)
        snap = await pa.join(aid)
        online = {m["userId"]: m["online"] for m in snap["auction"]["managers"]}
        assert online == {comm.id: True, a.id: True, b.id: False}
        ev = await pc.until(presence(lambda m: a.id in m["online"]), what="a online")
        assert set(ev["online"]) == {comm.id, a.id} and ev["spectatorsOnline"] == 0

        ps = await Peer.connect(server, watcher)
        snap = await ps.join(aid)
        assert snap["auction"]["spectatorsOnline"] == 1
        ev = await pc.until(presence(lambda m: m["spectatorsOnline"] == 1), what="spectator")
        assert set(ev["online"]) == {comm.id, a.id}, "a spectator is not a manager online"

        await pa.close()
        ev = await pc.until(presence(lambda m: a.id not in m["online"]), what="a gone")
        assert ev["online"] == [comm.id] and ev["spectatorsOnline"] == 1
        st2 = await thread(state, comm, aid)
        assert {m["userId"]: m["online"] for m in st2["managers"]} == \
            {comm.id: True, a.id: False, b.id: False}

        ps.abort()  # dropped without a close frame
        ev = await pc.until(presence(lambda m: m["spectatorsOnline"] == 0), what="spectator gone")
        assert ev["online"] == [comm.id]
        # a leave counts too
        pb = await Peer.connect(server, b)
        await pb.join(aid)
        await pc.until(presence(lambda m: b.id in m["online"]), what="b online")
        await pb.send(type="leave", auctionId=aid)
        await pc.until(presence(lambda m: b.id not in m["online"]), what="b left")
        # presence is ephemeral: not in the log
        log = await thread(log_of, comm, aid)
        assert "presence" not in [e["type"] for e in log]
        await pb.close()
        await pc.close()

    run_async(go())


def test_ping_pong_inside_a_room(server):
    people, lg, st, _ = setup_auction(server, 2)
    aid = st["id"]

    async def go():
        p = await Peer.connect(server, people[1])
        assert (await p.join(aid))["type"] == "snapshot"
        before = int(time.time() * 1000)
        await p.send(type="ping", clientTimeMs=123456789)
        pong = await p.until(lambda m: m["type"] == "pong", what="pong")
        assert pong["clientTimeMs"] == 123456789
        assert before - 1000 <= pong["serverTimeMs"] <= int(time.time() * 1000) + 1000
        # still in the room after the ping
        assert (await thread(bid, people[0], aid, 1, 2 * M)).status_code == 200
        ev = await p.until(lambda m: m["type"] == "bid", what="bid event")
        assert ev["amount"] == 2 * M
        await p.close()

    run_async(go())
