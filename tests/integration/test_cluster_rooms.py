"""What a room shows across the nodes of a cluster (issue 15): an auction's presence counts the
people connected to every node (and forgets a node that died once its word runs out), a league
room hears what happened through another node, and the sign-in rate limits hold for the cluster,
not per node.

Each test runs its own small cluster (tests/integration/cluster.py); the module runs once, in the
SQLite pass of `make test` (own_store). Everything that waits polls a condition under a deadline."""

import pytest

from cluster import Cluster, via
from conftest import run_async, wait_for
from test_auction import setup_auction
from test_auth import fresh_email, post
from test_leagues import Client, make_league
from test_realtime import Peer, thread

pytestmark = pytest.mark.own_store

LEASE_MS = 1500


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path / "cluster", n=3, lease_ms=LEASE_MS)
    yield c
    c.close()


def presence_with(online, spectators=None):
    def pred(m):
        return (m["type"] == "presence" and sorted(m["online"]) == sorted(online)
                and (spectators is None or m["spectatorsOnline"] == spectators))
    return pred


def test_presence_counts_every_node_and_forgets_a_dead_one(cluster):
    n0, n1, n2 = cluster.nodes
    people, lg, st, _ = setup_auction(n0, 3, lotSeconds=600)
    aid, comm, a, b = st["id"], *people
    watcher = via(Client(n0), n0)  # a spectator
    r = watcher.post(f"/api/watch/{lg['watchCode']}")
    assert r.status_code == 200, r.text

    async def go():
        pc = await Peer.connect(n0, comm)
        await pc.join(aid)
        pa = await Peer.connect(n1, via(a, n1))
        await pa.join(aid)
        # the commissioner on n0 hears that a is online through n1
        await pc.until(presence_with([comm.id, a.id]), timeout=10, what="a online via n1")
        pb = await Peer.connect(n2, via(b, n2))
        await pb.join(aid)
        await pc.until(presence_with([comm.id, a.id, b.id]), timeout=10, what="b online via n2")
        # and a, on n1, hears of both others, with the spectator joining on n2
        pw = await Peer.connect(n2, via(watcher, n2))
        await pw.join(aid)
        await pa.until(presence_with([comm.id, a.id, b.id], spectators=1), timeout=10,
                       what="everyone, one spectator, seen from n1")
        state = (await thread(via(comm, n1).get, f"/api/auctions/{aid}")).json()
        online = {m["userId"]: m["online"] for m in state["managers"]}
        assert online[a.id] and online[b.id], state["managers"]
        assert state["spectatorsOnline"] == 1, state
        # a leaves: every node hears it
        await pa.close()
        await pc.until(presence_with([comm.id, b.id], spectators=1), timeout=10,
                       what="a gone, seen from n0")
        # n2 dies with b and the spectator on it: their presence runs out with n2's word
        await thread(cluster.kill, 2)
        await pc.until(presence_with([comm.id], spectators=0), timeout=LEASE_MS / 1000 + 10,
                       what="n2's people forgotten")
        await pc.close()

    run_async(go(), timeout=90)


def test_a_league_room_hears_what_happened_through_another_node(cluster):
    n0, n1, _ = cluster.nodes
    comm = Client(n0)
    lg = make_league(comm)
    newcomer = via(Client(n0), n1)

    async def go():
        p = await Peer.connect(n0, comm)
        here = await Peer.connect(n1, via(comm, n1))  # on the node the join goes through
        for peer in (p, here):
            await peer.send(type="join_league", leagueId=lg["id"])
            assert [m for m in await peer.barrier() if m["type"] == "error"] == []
        r = await thread(newcomer.post, f"/api/invites/{lg['inviteCode']}/join")
        assert r.status_code == 200, r.text
        for peer in (p, here):
            ev = await peer.until(lambda m: m["type"] == "member_joined", timeout=10,
                                  what="member_joined through n1")
            assert ev["leagueId"] == lg["id"] and ev["userId"] == newcomer.id, ev
        # removed through n1, the newcomer's league socket on n0 stops hearing the league
        pn = await Peer.connect(n0, newcomer)
        await pn.send(type="join_league", leagueId=lg["id"])
        await pn.barrier()
        r = await thread(via(comm, n1).call, "DELETE", f"/api/leagues/{lg['id']}/members/{newcomer.id}")
        assert r.status_code == 204, r.text
        await p.until(lambda m: m["type"] == "member_left", timeout=10, what="member_left")

        def renamed():
            return via(comm, n1).call("PATCH", f"/api/leagues/{lg['id']}",
                                      {"name": "Renamed through n1"}).status_code == 200
        assert await thread(renamed)
        for peer in (p, here):
            await peer.until(lambda m: m["type"] == "league_updated", timeout=10,
                             what="league_updated through n1")
            # each event once, also on the node it happened on (the bus echoes a node's own
            # words back to it, in order: an echo would have come before league_updated)
            assert [m["type"] for m in peer.inbox if m.get("leagueId") == lg["id"]] == [
                "member_joined", "member_left", "league_updated"], peer.inbox
        seen = await pn.barrier()
        assert [m for m in pn.inbox if m.get("type") == "league_updated"] == [], seen
        await p.close()
        await pn.close()
        await here.close()

    run_async(go(), timeout=60)


def test_sign_in_limits_hold_for_the_cluster(tmp_path):
    """Five magic links a minute per e-mail (API.md): three through one node and two through
    another use them up; the sixth is refused through either."""
    c = Cluster(tmp_path / "limits", n=2, lease_ms=LEASE_MS, flags=("--rate-limit-scale", "1"))
    try:
        n0, n1 = c.nodes
        addr = fresh_email()
        for node in (n0, n0, n0, n1, n1):
            r = post(node, "/api/auth/magic-link", {"email": addr})
            assert r.status_code == 202, r.text

        def heard(i, n):
            series = c.metrics(i).series("gavel_cluster_rate_limit_takes_total")
            return sum(v for lab, v in series if lab.get("way") == "heard") >= n
        # each node has heard the other's takes (the bus is asynchronous)
        assert wait_for(lambda: heard(0, 2) and heard(1, 3), timeout=10, interval=0.05)
        for node in (n0, n1):
            r = post(node, "/api/auth/magic-link", {"email": addr})
            assert r.status_code == 429, r.text
        other = post(n1, "/api/auth/magic-link", {"email": fresh_email()})
        assert other.status_code == 202, other.text
    finally:
        c.close()
