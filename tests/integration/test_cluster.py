"""Several nodes on one PostgreSQL and one Redis (issue 15's clustering) against the real binary:
every node serves every API; an auction is owned by the node that created it until that node
dies or stalls, when another takes it over after the lease expires; bids reaching another node
are forwarded to the owner and answered once; every WebSocket client on every node sees the one
event sequence of the log, without gaps or duplicates, across a Redis restart too; PostgreSQL
going away turns bids into 503s and nothing acknowledged is lost. nginx in front of the nodes
(deploy/nginx-cluster.conf) keeps answering when a node dies.

Each test runs its own cluster (tests/integration/cluster.py: PostgreSQL, Redis, three nodes with
a 1.5 s lease) since it kills, stops and restarts its parts; the module runs once, in the SQLite
pass of `make test` (own_store). Everything that waits polls a condition under a deadline."""

import asyncio
import os
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import websockets

from cluster import NGINX_CONF, Cluster, Nginx, via
from conftest import TIMEOUT, run_async, wait_for
from test_auction import M, control, setup_auction, state, wait_state
from test_deploy import nginx_seconds, parse_nginx
from test_leagues import code_of
from test_realtime import Peer, log_of, thread

pytestmark = pytest.mark.own_store

LEASE_MS = 1500
# The contract: another node owns a dead or stalled owner's auction within the lease plus one
# second. The tests measure that from the kill to the first bid a survivor accepts, which also
# holds a few HTTP round trips and the scheduling of a loaded (sanitizer) machine: this much.
TAKEOVER_SLACK_S = 0.5
TAKEOVER_BOUND_S = LEASE_MS / 1000 + 1.0 + TAKEOVER_SLACK_S
CLOSE_SLACK_MS = 1000  # a lot's close event after its endsAt (timer and commit, loaded machine)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path / "cluster", n=3, lease_ms=LEASE_MS)
    yield c
    c.close()


# ---- helpers ------------------------------------------------------------------------------------


def post_bid(node, who, aid, lot, amount, cbid=None, timeout=TIMEOUT):
    """A REST bid through node (a Server or nginx); the Response, or None without an answer."""
    try:
        return requests.post(
            f"{node.url}/api/auctions/{aid}/bids",
            timeout=timeout,
            headers={"Authorization": f"Bearer {who.token}"},
            json={"lot": lot, "amount": amount, "clientBidId": cbid or uuid.uuid4().hex},
        )
    except requests.RequestException:
        return None


def show(r):
    return "no answer" if r is None else f"{r.status_code} {r.text}"


def accepted(r):
    return r is not None and r.status_code == 200 and r.json().get("accepted") is True


def name_of(node):
    return getattr(node, "node_id", None) or f"port {node.port}"


def retry_bid(nodes, who, aid, lot, amount, cbid, timeout=30, per_try=1.0):
    """The same bid (one clientBidId) through nodes in turn until an answer that is not a 503:
    returns (the last response or None, time.monotonic() when it came, every answer). A 503 is
    not recorded, so a retry is the same bid again; so is a try that got no answer."""
    deadline = time.monotonic() + timeout
    answers = []
    k = 0
    while True:
        node = nodes[k % len(nodes)]
        k += 1
        r = post_bid(node, who, aid, lot, amount, cbid,
                     timeout=max(0.2, min(per_try, deadline - time.monotonic())))
        at = time.monotonic()
        answers.append((name_of(node), None if r is None else r.status_code))
        if r is not None and r.status_code == 503:
            assert code_of(r) == "unavailable", show(r)
        elif r is not None:
            return r, at, answers
        if at >= deadline:
            return r, at, answers
        time.sleep(0.05)


class Bids:
    """Valid bids on one lot in turn: the bidder is never the leader, every amount 1m above the
    last. acked: seq -> (amount, userId) of every acknowledged bid."""

    def __init__(self, aid, bidders, lot=1, amount=2 * M):
        self.aid, self.bidders, self.lot, self.amount = aid, list(bidders), lot, amount
        self.leader = None
        self.acked = {}

    def next(self):
        """(who, amount) of the next bid, without placing it."""
        who = next(p for p in self.bidders if p is not self.leader)
        return who, self.amount

    def record(self, r, who, amount):
        body = r.json()
        assert body["amount"] == amount and body["lot"] == self.lot, body
        assert body["seq"] not in self.acked, f"two bids acknowledged with seq {body['seq']}"
        self.acked[body["seq"]] = (amount, who.id)
        self.leader = who
        self.amount = amount + M
        return body

    def place(self, node, cbid=None, timeout=TIMEOUT):
        """One try through node; asserts it is accepted; returns the answer's body."""
        who, amount = self.next()
        r = post_bid(node, who, self.aid, self.lot, amount, cbid, timeout)
        assert accepted(r), f"a bid through {name_of(node)}: {show(r)}"
        return self.record(r, who, amount)

    def place_retry(self, nodes, cbid=None, timeout=30):
        """Retries the bid through nodes until it is accepted (asserted); returns (body,
        time.monotonic() of the acceptance)."""
        who, amount = self.next()
        cbid = cbid or uuid.uuid4().hex
        r, at, answers = retry_bid(nodes, who, self.aid, self.lot, amount, cbid, timeout)
        assert accepted(r), f"not accepted within {timeout} s: {show(r)}; tries: {answers}"
        return self.record(r, who, amount), at

    def amounts(self):
        return [amount for _, (amount, _) in sorted(self.acked.items())]


def squash(seqs):
    """1 2 3 5 7 8 -> '1-3 5 7-8' (for messages)."""
    out, start = [], None
    for i, s in enumerate(seqs):
        if start is None:
            start = s
        if i + 1 == len(seqs) or seqs[i + 1] != s + 1:
            out.append(str(start) if start == s else f"{start}-{s}")
            start = None
    return " ".join(out) or "(none)"


class Watch:
    """A client in an auction's room (test_realtime.Peer, over `entry`: a node or nginx) whose
    events are kept across connections. A connection that ends is resumed with sinceSeq, through
    the entry of the moment, only where a test allows it (resume=True)."""

    def __init__(self, entry, who, aid):
        self.entry, self.who, self.aid = entry, who, aid
        self.name = f"a client on {name_of(entry)}"
        self.peers = []
        self.first = None

    async def open(self):
        peer = await Peer.connect(self.entry, self.who)
        snap = await peer.join(self.aid)
        assert snap["type"] == "snapshot", snap
        self.first = snap["auction"]["seq"] + 1
        self.peers.append(peer)
        return self

    @property
    def peer(self):
        return self.peers[-1]

    def events(self):
        return [e for p in self.peers for e in p.events(self.aid)]

    def last_seq(self):
        evs = self.events()
        return evs[-1]["seq"] if evs else self.first - 1

    async def resume(self, entry=None):
        """A new connection (through entry, or the same one) that joins with sinceSeq."""
        self.entry = entry or self.entry
        self.name += f", resumed on {name_of(self.entry)}"
        peer = await Peer.connect(self.entry, self.who)
        self.peers.append(peer)
        await peer.send(type="join", auctionId=self.aid, sinceSeq=self.last_seq())

    async def closed(self, timeout=TIMEOUT):
        """Reads what is left until the connection ends (its node died)."""
        try:
            while True:
                await self.peer.recv(timeout)
        except websockets.ConnectionClosed:
            return

    async def until_seq(self, seq, timeout=15, resume=False):
        """Receives until the event `seq` has come, then a ping round trip (whatever was sent
        before the pong has arrived: a duplicate too)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"{self.name}: event {seq} did not come; got {squash(self.seqs())}"
            try:
                if self.last_seq() < seq:
                    await self.peer.events_until(self.aid, seq, timeout=left)
                await self.peer.barrier()
                return
            except websockets.ConnectionClosed:
                assert resume, f"{self.name}: the connection ended; got {squash(self.seqs())}"
                await self.resume()

    def seqs(self):
        return [e["seq"] for e in self.events()]

    def check(self, log, final):
        """Exactly the log's events from the first after the join up to `final`, each once, in
        order, each the same object as the log's; nothing after final twice either; a resumed
        connection got the missed events, not a snapshot."""
        by_seq = {e["seq"]: e for e in log}
        seqs = self.seqs()
        assert seqs == list(range(self.first, self.first + len(seqs))), (
            f"{self.name}: gaps or duplicates: {squash(seqs)} (joined at {self.first - 1})")
        assert not seqs or seqs[-1] >= final, f"{self.name}: {squash(seqs)}, not up to {final}"
        for e in self.events():
            if e["seq"] in by_seq:
                logged = by_seq[e["seq"]]
                assert e == logged, f"{self.name}: {e} is not the log's {logged}"
        for p in self.peers:
            errors = [m for m in p.inbox if m["type"] == "error"]
            assert not errors, f"{self.name}: {errors}"
        for p in self.peers[1:]:
            snaps = [m for m in p.inbox if m["type"] == "snapshot"]
            assert not snaps, f"{self.name}: a snapshot on resuming, not the missed events"

    async def close(self):
        for p in self.peers:
            try:
                await p.close()
            except websockets.ConnectionClosed:
                pass


async def watch_all(entries, who, aid):
    return [await Watch(entry, who, aid).open() for entry in entries]


def the_log(nodes, who, aid):
    """The event log read through each node: the same everywhere, seq 1, 2, ... without a gap."""
    logs = [log_of(via(who, node), aid) for node in nodes]
    for node, log in zip(nodes[1:], logs[1:]):
        assert log == logs[0], f"{name_of(node)}'s log differs from {name_of(nodes[0])}'s"
    seqs = [e["seq"] for e in logs[0]]
    assert seqs == list(range(1, len(seqs) + 1)), f"the log's seqs: {squash(seqs)}"
    return logs[0]


def check_bids(log, bids):
    """Every acknowledged bid is in the log at its seq, and the lot's bids are exactly those."""
    by_seq = {e["seq"]: e for e in log}
    for seq, (amount, user) in bids.acked.items():
        e = by_seq.get(seq)
        assert e and e["type"] == "bid" and e["amount"] == amount and e["leaderId"] == user, (
            f"acknowledged bid {seq} ({amount}) is not in the log: {e}")
    logged = [e["amount"] for e in log if e["type"] == "bid" and e["lot"] == bids.lot]
    assert logged == bids.amounts(), "the lot's bids are exactly the acknowledged ones"


def leases_held(cluster, nodes):
    return sum(cluster.metric(i, "gavel_cluster_leases_held") for i in nodes)


def one_owner(cluster, nodes, timeout=10):
    """Waits until exactly one of the nodes holds the (only) auction's lease; returns its index."""
    def owners():
        held = {i: cluster.metric(i, "gavel_cluster_leases_held") for i in nodes}
        mine = [i for i, n in held.items() if n]
        return mine if len(mine) == 1 and held[mine[0]] == 1 else None

    found = wait_for(owners, timeout=timeout, interval=0.1)
    assert found, f"not one owner among {nodes}: " + str(
        {i: cluster.metric(i, "gavel_cluster_leases_held") for i in nodes})
    return found[0]


# ---- one event sequence everywhere --------------------------------------------------------------


def test_every_client_on_every_node_sees_one_event_sequence(cluster):
    """Bids over REST and WebSocket and controls through all three nodes, sequential and at
    once: every client on every node gets the log's events, the same objects, each once, in seq
    order; every node reads the same log; node1, which created the auction, holds its lease."""
    nodes = cluster.nodes
    n0, n1, n2 = nodes
    people, lg, st, _ = setup_auction(n0, 4, n_assets=4, lotSeconds=600)
    aid, comm, managers = st["id"], people[0], people[1:]
    acked = []
    forwarded = 0  # bids and controls sent to a node that does not own the auction

    async def go():
        nonlocal forwarded
        watchers = await watch_all(nodes, comm, aid)
        # each manager has a socket on each node; the k-th bid: manager k % 3 through node k % 3
        sockets = {(j, i): await Watch(node, managers[j], aid).open()
                   for j in range(3) for i, node in enumerate(nodes)}
        amount = 2 * M
        for k in range(12):
            j = k % 3
            if k % 2 == 0:
                r = await thread(post_bid, nodes[j], managers[j], aid, 1, amount)
                assert accepted(r), show(r)
                acked.append(r.json()["seq"])
            else:
                res = await sockets[(j, j)].peer.bid(aid, 1, amount)
                assert res["accepted"] is True, res
                acked.append(res["seq"])
            forwarded += j != 0
            amount += M

        # at once: every manager through its node, eight rising bids each
        def burst(j):
            out = []
            for m in range(8):
                r = post_bid(nodes[j], managers[j], aid, 1, 20 * M + (3 * m + j) * M)
                assert r is not None and r.status_code in (200, 409), show(r)
                out.append(r)
            return out

        results = await asyncio.gather(*(thread(burst, j) for j in range(3)))
        forwarded += 16
        for r in (r for rs in results for r in rs):
            if r.status_code == 200:
                acked.append(r.json()["seq"])
            else:
                assert code_of(r) in ("bid_too_low", "already_leading"), show(r)

        # controls through the nodes that do not own the auction
        await thread(control, via(comm, n1), aid, "close-lot")
        r = await thread(post_bid, n2, managers[0], aid, 2, 3 * M)
        assert accepted(r), show(r)
        acked.append(r.json()["seq"])
        await thread(control, via(comm, n2), aid, "pause")
        await thread(control, via(comm, n1), aid, "resume")
        forwarded += 4

        final = (await thread(state, via(comm, n0), aid))["seq"]
        everyone = watchers + list(sockets.values())
        for w in everyone:
            await w.until_seq(final)
        for w in everyone:
            await w.close()
        return everyone, final

    everyone, final = run_async(go(), timeout=120)
    log = the_log(nodes, comm, aid)
    assert log[-1]["seq"] == final, "nothing happened after the last control"
    assert set(acked) <= {e["seq"] for e in log if e["type"] == "bid"}
    assert len(set(acked)) == len(acked), "two bids acknowledged with the same seq"
    lot1 = [e["amount"] for e in log if e["type"] == "bid" and e["lot"] == 1]
    assert lot1 == sorted(set(lot1)), "a lot's bids rise strictly"
    for w in everyone:
        w.check(log, final)
    # and the first join's view is every client's: the same sequence after the latest join
    start = max(w.first for w in everyone)
    views = {tuple(e["seq"] for e in w.events() if start <= e["seq"] <= final) for w in everyone}
    assert len(views) == 1, views

    assert [cluster.metric(i, "gavel_cluster_leases_held") for i in range(3)] == [1, 0, 0]
    total = sum(cluster.metric(i, "gavel_cluster_forwarded_total") for i in range(3))
    assert total >= forwarded, f"gavel_cluster_forwarded_total: {total} < {forwarded}"
    for i in range(3):
        types = cluster.metrics(i).types
        assert types.get("gavel_cluster_publish_lag_seconds") == "histogram", (i, types)


# ---- forwarding: exactly once -------------------------------------------------------------------


def test_a_bid_through_another_node_is_accepted_exactly_once(cluster):
    """A bid sent to a node that does not own the auction is accepted once: its clientBidId
    sent again to each node (one at a time, or to all three at once) gets the first outcome, a
    refusal too, and the log holds one bid event per clientBidId."""
    nodes = cluster.nodes
    n0, n1, n2 = nodes
    people, lg, st, _ = setup_auction(n0, 3, lotSeconds=600)
    aid, comm, a, b = st["id"], *people

    first = post_bid(n1, a, aid, 1, 2 * M, "through-node2")
    assert accepted(first), show(first)
    outcome = first.json()
    assert outcome["amount"] == 2 * M and outcome["lot"] == 1, outcome
    for node in nodes:
        again = post_bid(node, a, aid, 1, 2 * M, "through-node2")
        assert again is not None and again.status_code == 200, show(again)
        assert again.json() == outcome, f"through {name_of(node)}: {again.json()} != {outcome}"
    # another amount under the same clientBidId: still the first outcome
    other = post_bid(n2, a, aid, 1, 9 * M, "through-node2")
    assert other is not None and other.json() == outcome, show(other)

    low = post_bid(n2, b, aid, 1, M, "too-low")
    assert low is not None and low.status_code == 409 and code_of(low) == "bid_too_low", show(low)
    assert low.json()["error"]["details"]["minimum"] == 3 * M
    for node in nodes:
        again = post_bid(node, b, aid, 1, 8 * M, "too-low")
        assert again is not None and again.status_code == 409, show(again)
        assert again.json() == low.json(), "a refusal replays too"

    # one new bid sent to the three nodes at the same instant
    barrier = threading.Barrier(3)

    def send(node):
        barrier.wait()
        return post_bid(node, b, aid, 1, 5 * M, "to-all-at-once")

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(send, nodes))
    assert all(accepted(r) for r in answers), [show(r) for r in answers]
    assert all(r.json() == answers[0].json() for r in answers), [r.json() for r in answers]

    log = the_log(nodes, comm, aid)
    bids = [e for e in log if e["type"] == "bid"]
    assert [(e["seq"], e["amount"], e["leaderId"]) for e in bids] == [
        (outcome["seq"], 2 * M, a.id), (answers[0].json()["seq"], 5 * M, b.id)], bids
    for node in nodes:
        listed = via(comm, node).get(f"/api/auctions/{aid}/bids").json()["items"]
        assert [x["seq"] for x in listed] == [e["seq"] for e in bids], (name_of(node), listed)
    lot = state(via(comm, n2), aid)["lot"]
    assert lot["currentBid"] == 5 * M and lot["leaderId"] == b.id, lot


# ---- the owner dies -----------------------------------------------------------------------------


def test_owner_killed_mid_lot_another_node_takes_over(cluster):
    """kill -9 of the owner during a lot: a survivor accepts a bid within the lease plus one
    second; no acknowledged bid is lost; the lot closes at its endsAt on the new owner; clients
    on the survivors miss nothing, and the dead node's client resumes on a survivor with sinceSeq
    and gets exactly what it missed."""
    nodes = cluster.nodes
    n0, n1, n2 = nodes
    survivors = [n1, n2]
    # long enough for the takeover and the bids after it (the lot must still run)
    people, lg, st, _ = setup_auction(n0, 3, lotSeconds=15, intermissionSeconds=0)
    aid, comm, a, b = st["id"], *people
    bids = Bids(aid, (a, b))
    timing = {}

    async def go():
        watchers = await watch_all(nodes, comm, aid)
        for node in (n0, n1, n2, n1):
            await thread(bids.place, node)
        for w in watchers:
            await w.until_seq(max(bids.acked))

        t_kill = time.monotonic()
        await thread(cluster.kill, 0)
        body, at = await thread(bids.place_retry, survivors, "after-the-kill")
        timing["takeover"] = at - t_kill
        for node in survivors:  # the same clientBidId again: the first outcome
            who = next(p for p in (a, b) if p.id == bids.acked[body["seq"]][1])
            again = await thread(post_bid, node, who, aid, 1, body["amount"], "after-the-kill")
            assert again is not None and again.status_code == 200, show(again)
            assert again.json() == body, f"{again.json()} != {body}"
        for node in (n2, n1, n2):
            last = await thread(bids.place, node)
        timing["endsAtMs"] = last["endsAtMs"]

        # the dead node's client: its connection has ended; it resumes on a survivor
        doomed = watchers[0]
        await doomed.closed()
        await doomed.resume(n1)
        # lot 1 closes at its endsAt, on whichever survivor owns the auction now
        left = max(0.0, last["endsAtMs"] / 1000 - time.time())
        closing = await watchers[1].peer.until(
            lambda m: m["type"] == "lot_closed" and m["lot"] == 1, timeout=left + 10,
            what="lot 1's close")
        final = (await thread(log_of, via(comm, n1), aid))[-1]["seq"]
        for w in watchers:
            await w.until_seq(final)
        for w in watchers:
            await w.close()
        return watchers, closing, final

    watchers, closing, final = run_async(go(), timeout=120)
    assert timing["takeover"] <= TAKEOVER_BOUND_S, (
        f"a survivor accepted a bid {timing['takeover']:.2f} s after the kill "
        f"(lease {LEASE_MS} ms + 1 s + {TAKEOVER_SLACK_S} s)")
    log = the_log(survivors, comm, aid)
    check_bids(log, bids)
    ends = timing["endsAtMs"]
    assert ends <= closing["serverTimeMs"] <= ends + CLOSE_SLACK_MS, (closing, ends)
    amount, winner = bids.acked[max(bids.acked)]
    assert closing["result"] == "sold" and closing["winnerId"] == winner, closing
    assert closing["price"] == amount, closing
    assert [e for e in log if e["type"] == "lot_closed"] == [closing]
    for w in watchers:
        w.check(log, final)
    assert one_owner(cluster, [1, 2]) in (1, 2)


def test_a_lot_that_ends_while_its_owner_is_dead_closes_on_takeover(cluster):
    """The owner dies a moment before the lot's endsAt, which passes before its lease expires:
    the node that takes over closes the lot at once, with the last bid as the price."""
    n0, n1, n2 = cluster.nodes
    people, lg, st, _ = setup_auction(n0, 3, lotSeconds=5, antiSnipeSeconds=1,
                                      intermissionSeconds=0)
    aid, comm, a, b = st["id"], *people
    bids = Bids(aid, (a, b))
    bids.place(n1)
    # into the lot's last second: a bid there moves endsAt to one second from now (anti-snipe),
    # sooner than the lease can expire
    wait_state(via(comm, n0), aid, lambda s: s["lot"]["endsAtMs"] is not None
               and s["lot"]["endsAtMs"] - time.time() * 1000 < 900, timeout=10)
    ends = bids.place(n0)["endsAtMs"]
    killed_ms = time.time() * 1000
    cluster.kill(0)
    assert killed_ms < ends < killed_ms + LEASE_MS, (
        "the lot must end after the kill and before the lease expires", killed_ms, ends)
    st = wait_state(via(comm, n2), aid, lambda s: s["progress"]["lotsClosed"] >= 1,
                    timeout=TAKEOVER_BOUND_S + 10)
    closing = [e for e in the_log([n1, n2], comm, aid) if e["type"] == "lot_closed"]
    assert len(closing) == 1, closing
    closing = closing[0]
    assert closing["price"] == bids.amount - M and closing["winnerId"] == b.id, closing
    # not before its endsAt; at once once someone owns the auction again
    assert ends <= closing["serverTimeMs"] <= killed_ms + TAKEOVER_BOUND_S * 1000, (
        closing, ends, killed_ms)
    check_bids(the_log([n1, n2], comm, aid), bids)


# ---- the owner stalls ---------------------------------------------------------------------------


def test_a_stalled_owner_is_fenced_when_it_wakes(cluster):
    """SIGSTOP of the owner with a bid in its sockets (REST and WebSocket) that was valid on what
    it knew; another node takes the auction over and the bidding moves past that bid; SIGCONT:
    the woken node's late bid is refused (503 unavailable, or forwarded to the new owner and
    refused as too low), never committed; the log has one event per seq on every node; the woken
    node takes bids again and its clients catch up; one node owns the auction."""
    nodes = cluster.nodes
    n0, n1, n2 = nodes
    survivors = [n1, n2]
    people, lg, st, _ = setup_auction(n0, 3, lotSeconds=600)
    aid, comm, a, b = st["id"], *people
    bids = Bids(aid, (a, b))  # comm bids once, for the takeover
    timing = {}

    async def go():
        watchers = await watch_all(nodes, comm, aid)
        late_ws = await Watch(n0, b, aid).open()
        for node in (n0, n1, n2):
            await thread(bids.place, node)
        assert bids.leader is a and bids.amount == 5 * M  # b may bid 5m: what the owner knows
        for w in watchers + [late_ws]:
            await w.until_seq(max(bids.acked))

        t_stop = time.monotonic()
        await thread(cluster.freeze, 0)
        late_rest = thread(post_bid, n0, b, aid, 1, 5 * M, "late-rest", 60)
        await late_ws.peer.send(type="bid", auctionId=aid, lot=1, amount=5 * M,
                                clientBidId="late-ws")
        # another node takes over (the commissioner bids 6m), and a goes to 7m
        bids.bidders, bids.amount = [comm], 6 * M
        await thread(bids.place_retry, survivors, "takeover")
        timing["takeover"] = time.monotonic() - t_stop
        bids.bidders = [a]
        await thread(bids.place, n2)
        bids.bidders = [a, b]

        await thread(cluster.thaw, 0)
        late = await asyncio.wait_for(late_rest, 60)
        assert late is not None, "the woken node did not answer the bid it held"
        assert (late.status_code, code_of(late)) in ((503, "unavailable"), (409, "bid_too_low")), (
            show(late))
        try:
            res = await late_ws.peer.until(
                lambda m: m["type"] == "bid_result" and m["clientBidId"] == "late-ws",
                timeout=15, what="the late bid's result")
            assert res["accepted"] is False and res["code"] in ("unavailable", "bid_too_low"), res
        except websockets.ConnectionClosed:
            pass  # no answer: not acknowledged either
        # the late REST bid's clientBidId through a survivor: refused as too low, whether its
        # first outcome was recorded (409) or not (503)
        again = await thread(post_bid, n1, b, aid, 1, 5 * M, "late-rest")
        assert again is not None and again.status_code == 409, show(again)
        assert code_of(again) == "bid_too_low", show(again)

        # the woken node converges: it takes bids again, and its clients get every event
        await thread(bids.place_retry, [n0], "after-waking", 30)
        final = (await thread(log_of, via(comm, n1), aid))[-1]["seq"]
        for w in watchers:
            await w.until_seq(final, resume=w.entry is n0)
        await late_ws.until_seq(final, resume=True)
        for w in watchers + [late_ws]:
            await w.close()
        return watchers + [late_ws], final

    clients, final = run_async(go(), timeout=150)
    assert timing["takeover"] <= TAKEOVER_BOUND_S, (
        f"a survivor accepted a bid {timing['takeover']:.2f} s after SIGSTOP "
        f"(lease {LEASE_MS} ms + 1 s + {TAKEOVER_SLACK_S} s)")
    log = the_log(nodes, comm, aid)
    check_bids(log, bids)
    assert 5 * M not in [e["amount"] for e in log if e["type"] == "bid"], "the late bid committed"
    for w in clients:
        w.check(log, final)
    one_owner(cluster, [0, 1, 2], timeout=LEASE_MS / 1000 * 2 + 5)
    st = state(via(comm, n0), aid)
    assert st["seq"] >= final and st["lot"]["currentBid"] == bids.amount - M, st["lot"]


# ---- Redis and PostgreSQL go away ---------------------------------------------------------------


def test_redis_restart_loses_no_event(cluster):
    """Redis stops mid-auction: bids go on (they commit to PostgreSQL), health says Redis is
    down; Redis comes back on its port: every client on every node gets every event (the gaps
    repaired from the store), none twice."""
    nodes = cluster.nodes
    n0, n1, n2 = nodes
    people, lg, st, _ = setup_auction(n0, 3, lotSeconds=600)
    aid, comm, a, b = st["id"], *people
    bids = Bids(aid, (a, b))

    async def go():
        watchers = await watch_all(nodes, comm, aid)
        for node in nodes:
            await thread(bids.place, node)
        for w in watchers:
            await w.until_seq(max(bids.acked))

        await thread(cluster.stop_redis)
        for i in range(3):
            down = await thread(wait_for, lambda: (cluster.health(i)[1] or {}).get(
                "checks", {}).get("redis") not in (None, "ok"), 10)
            assert down, f"node{i + 1} health with Redis down: {cluster.health(i)}"
        for _ in range(3):  # the owner commits without Redis
            await thread(bids.place, n0)
        # Through another node: accepted, or 503 unavailable when forwarding needs Redis.
        for node in (n1, n2):
            who, amount = bids.next()
            r = await thread(post_bid, node, who, aid, 1, amount)
            if accepted(r):
                bids.record(r, who, amount)
            else:
                assert r is not None and r.status_code == 503, show(r)
                assert code_of(r) == "unavailable", show(r)

        await thread(cluster.start_redis)
        await thread(cluster.wait_healthy)
        for node in (n1, n2, n0):
            await thread(bids.place_retry, [node], None, 15)
        final = (await thread(state, via(comm, n0), aid))["seq"]
        for w in watchers:
            await w.until_seq(final, timeout=20)
        for w in watchers:
            await w.close()
        return watchers, final

    watchers, final = run_async(go(), timeout=150)
    log = the_log(nodes, comm, aid)
    check_bids(log, bids)
    assert log[-1]["seq"] == final
    for w in watchers:
        w.check(log, final)


def test_postgres_restart_bids_get_503_then_resume(cluster):
    """PostgreSQL stops mid-auction: a bid through any node is answered 503 unavailable and
    health says the database failed; it comes back: bidding resumes by itself, the same
    clientBidId has one outcome on every node, nothing acknowledged is lost, no refused bid is
    in the log, and every client has every event once."""
    nodes = cluster.nodes
    n0, n1, n2 = nodes
    people, lg, st, _ = setup_auction(n0, 3, lotSeconds=600)
    aid, comm, a, b = st["id"], *people
    bids = Bids(aid, (a, b))

    async def go():
        watchers = await watch_all(nodes, comm, aid)
        for node in nodes:
            await thread(bids.place, node)
        for w in watchers:
            await w.until_seq(max(bids.acked))

        await thread(cluster.stop_pg)
        for k, node in enumerate(nodes):
            who, amount = bids.next()
            r = await thread(post_bid, node, who, aid, 1, amount, f"while-down-{k}", 30)
            assert r is not None and r.status_code == 503, f"{name_of(node)}: {show(r)}"
            assert code_of(r) == "unavailable", show(r)
        for i in range(3):
            def failed(i=i):
                status, body = cluster.health(i)
                return status == 503 and (body or {}).get("checks", {}).get("db") != "ok"

            assert await thread(wait_for, failed, 5), (i, cluster.health(i))

        await thread(cluster.start_pg)
        body, _ = await thread(bids.place_retry, [n1, n2, n0], "after-restart", 30)
        who = next(p for p in (a, b) if p.id == bids.acked[body["seq"]][1])
        for node in nodes:
            again = await thread(post_bid, node, who, aid, 1, body["amount"], "after-restart")
            assert again is not None and again.status_code == 200 and again.json() == body, (
                name_of(node), show(again))
        for node in nodes:  # every node takes bids again (a new owner may be settling in)
            await thread(bids.place_retry, [node], None, 15)
        final = (await thread(state, via(comm, n1), aid))["seq"]
        for w in watchers:
            await w.until_seq(final)
        for w in watchers:
            await w.close()
        return watchers, final

    watchers, final = run_async(go(), timeout=150)
    cluster.wait_healthy()
    log = the_log(nodes, comm, aid)
    check_bids(log, bids)
    for w in watchers:
        w.check(log, final)
    one_owner(cluster, [0, 1, 2])


# ---- nginx in front -----------------------------------------------------------------------------


def test_nginx_cluster_config(tmp_path):
    """deploy/nginx-cluster.conf passes nginx -t as shipped and says what docs/scaling.md says:
    no stickiness, passive health on every node, retries only where they are safe, WebSockets
    upgraded with timeouts longer than Gavel's ping and silence limits."""
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    cmd = ["nginx", "-p", str(prefix), "-c", str(NGINX_CONF), "-e", str(prefix / "error.log"),
           *(["-g", "user root;"] if os.geteuid() == 0 else []), "-t"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    (http,) = parse_nginx(NGINX_CONF.read_text()).all("http")
    (up,) = http.all("upstream")
    assert up.args == ["gavel_cluster"]
    assert not {"ip_hash", "hash", "sticky"} & {d.name for d in up.block}, "no stickiness"
    servers = up.all("server")
    assert len(servers) >= 2
    for s in servers:
        params = dict(a.split("=", 1) for a in s.args[1:] if "=" in a)
        assert int(params["max_fails"]) >= 1 and nginx_seconds(params["fail_timeout"]) > 0, s.args
    assert nginx_seconds(up.get("keepalive_timeout")[0]) < 60, "under Gavel's idle timeout"
    (server,) = http.all("server")
    retry = server.get("proxy_next_upstream")
    assert {"error", "timeout"} <= set(retry) and "non_idempotent" not in retry, retry
    assert nginx_seconds(server.get("proxy_connect_timeout")[0]) <= 5
    assert server.headers()["connection"] == "", "keep-alive to the nodes"
    (ws,) = [loc for loc in server.all("location") if loc.args[-1] == "/ws"]
    assert ws.get("proxy_pass") == ["http://gavel_cluster"]
    assert ws.headers()["upgrade"] == "$http_upgrade" and ws.headers()["connection"] == "upgrade"
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        assert nginx_seconds(ws.get(timeout)[0]) > 60, timeout


def test_nginx_in_front_of_the_cluster(cluster, tmp_path):
    """Everything through nginx (deploy/nginx-cluster.conf with the nodes' ports): sign-in, a
    league, an auction, bids and WebSockets, wherever each request lands; kill -9 of a node that
    does not own the auction: every request through nginx still succeeds, and a client whose
    socket went through the dead node resumes through nginx with sinceSeq."""
    proxy = Nginx(tmp_path / "nginx", [node.port for node in cluster.nodes])
    try:
        people, lg, st, _ = setup_auction(proxy, 3, lotSeconds=600)
        aid, comm, a, b = st["id"], *people
        bids = Bids(aid, (a, b))
        owner = one_owner(cluster, [0, 1, 2])
        victim = (owner + 1) % 3

        async def go():
            watchers = await watch_all([proxy] * 6, comm, aid)
            for _ in range(6):
                await thread(bids.place, proxy)
            for w in watchers:
                await w.until_seq(max(bids.acked))
            await thread(cluster.kill, victim)
            for _ in range(10):
                assert (await thread(state, via(comm, proxy), aid))["lot"]["number"] == 1
                await thread(bids.place, proxy)
                r = await thread(requests.get, proxy.url + "/api/health", timeout=TIMEOUT)
                assert r.status_code == 200, r.text
            final = (await thread(state, via(comm, proxy), aid))["seq"]
            for w in watchers:
                await w.until_seq(final, resume=True)
            for w in watchers:
                await w.close()
            return watchers, final

        watchers, final = run_async(go(), timeout=120)
        live = [node for i, node in enumerate(cluster.nodes) if i != victim]
        log = the_log(live, comm, aid)
        check_bids(log, bids)
        for w in watchers:
            w.check(log, final)
    finally:
        code = proxy.stop()
    assert code == 0, f"nginx exit {code}\n{proxy.log()}"
