"""The metrics an operator alerts on, against the real binary: live auctions, leagues, members
joined, WebSocket room joins, rate-limit refusals by route, the bid round trip and fan-out delay
histograms, and client errors by kind. Each test scrapes /metrics before and after real actions
and expects exactly the change those actions cause, counted by the test itself from the answers
it got. A scrape after varied traffic passes `promtool check metrics` with no finding."""

import subprocess
import uuid

import pytest

from conftest import run_async
from test_auction import M, bid, control, setup_auction, state
from test_auth import post
from test_leagues import Client, make_league
from test_ops import assert_histogram
from test_realtime import EVENT_TYPES, Peer

PROMTOOL = "/usr/bin/promtool"

# families and their types, as alert rules and dashboards name them
FAMILIES = {
    "gavel_auctions_live": "gauge",
    "gavel_leagues": "gauge",
    "gavel_league_members_joined_total": "counter",
    "gavel_ws_joins_total": "counter",
    "gavel_rate_limited_total": "counter",
    "gavel_bid_round_trip_seconds": "histogram",
    "gavel_fanout_delay_seconds": "histogram",
    "gavel_client_errors_total": "counter",
}
KINDS = ("render", "chunk", "request", "socket", "uncaught", "unhandledrejection", "other")
ROUND_TRIP = "gavel_bid_round_trip_seconds"
FANOUT = "gavel_fanout_delay_seconds"
BIDS_ROUTE = "/api/auctions/{id}/bids"


def value(metrics, name, **labels):
    """A sample's value; a labelled series not exported yet counts as 0."""
    v = metrics.value(name, **labels)
    return 0 if v is None else v


def round_trips(metrics):
    return {o: value(metrics, ROUND_TRIP + "_count", outcome=o) for o in ("accepted", "rejected")}


def fanout_count(metrics):
    return value(metrics, FANOUT + "_count")


def report(server, kind):
    r = post(server, "/api/client-errors", {"kind": kind, "message": "m"})
    return r.status_code


def auction_cfg(**settings):
    """A long lot, so no timer changes anything while a test counts."""
    return dict(dict(lotSeconds=600), **settings)


# ---- the series exist ---------------------------------------------------------------------------


def test_every_series_exists_with_its_type(server):
    m = server.metrics()
    for name, kind in FAMILIES.items():
        assert m.types.get(name) == kind, f"{name}: {m.types.get(name)}"
    assert m.value("gavel_auctions_live") is not None and m.value("gavel_leagues") is not None
    for role in ("manager", "spectator"):
        assert m.value("gavel_league_members_joined_total", role=role) is not None, role
    for room in ("auction", "league"):
        assert m.value("gavel_ws_joins_total", room=room) is not None, room
    for kind in KINDS:
        assert m.value("gavel_client_errors_total", kind=kind) is not None, kind
    assert m.value("gavel_client_errors_total") is None  # only the labelled series
    assert m.value("gavel_rate_limited_total", route="ws:bid") is not None
    for outcome in ("accepted", "rejected"):  # both series, before any bid
        assert m.value(ROUND_TRIP + "_count", outcome=outcome) is not None, outcome
        buckets = [lab for lab, _ in m.series(ROUND_TRIP + "_bucket") if lab["outcome"] == outcome]
        assert buckets and buckets[-1]["le"] == "+Inf", buckets
    assert_histogram(m, FANOUT)


# ---- leagues and members ------------------------------------------------------------------------


def test_leagues_gauge_follows_creation_and_deletion(server):
    comm = Client(server)
    before = server.metrics().value("gavel_leagues")
    a, b = make_league(comm), make_league(comm)
    assert server.metrics().value("gavel_leagues") == before + 2
    assert comm.call("DELETE", f"/api/leagues/{a['id']}").status_code == 204
    assert server.metrics().value("gavel_leagues") == before + 1
    assert comm.call("DELETE", f"/api/leagues/{a['id']}").status_code == 404  # gone already
    assert server.metrics().value("gavel_leagues") == before + 1
    assert b["id"]


def test_leagues_gauge_counts_what_the_database_held_at_start(start_server):
    srv = start_server()
    comm = Client(srv)
    for _ in range(3):
        make_league(comm)
    assert srv.metrics().value("gavel_leagues") == 3
    srv.stop_and_check()
    again = start_server.restart(srv)
    assert again.metrics().value("gavel_leagues") == 3


def test_members_joined_counts_new_members_only(server):
    comm, ann, bob = Client(server), Client(server), Client(server)
    lg = make_league(comm, maxManagers=8)
    invite, watch = f"/api/invites/{lg['inviteCode']}/join", f"/api/watch/{lg['watchCode']}"

    def joined():
        m = server.metrics()
        return {r: value(m, "gavel_league_members_joined_total", role=r)
                for r in ("manager", "spectator")}

    before = joined()
    assert ann.post(invite).status_code == 200
    assert ann.post(invite).status_code == 200  # idempotent: not a new member
    assert comm.post(invite).status_code == 200  # the commissioner stays commissioner
    assert joined() == {"manager": before["manager"] + 1, "spectator": before["spectator"]}
    assert bob.post(watch).status_code == 200
    assert ann.post(watch).status_code == 200  # a manager stays a manager
    assert joined() == {"manager": before["manager"] + 1, "spectator": before["spectator"] + 1}
    assert bob.post(invite).status_code == 200  # the spectator becomes a manager
    assert joined() == {"manager": before["manager"] + 2, "spectator": before["spectator"] + 1}
    assert Client(server).post("/api/invites/WRONGCODE/join").status_code == 404
    assert joined()["manager"] == before["manager"] + 2


# ---- auctions -----------------------------------------------------------------------------------


def test_live_auctions_gauge_from_begin_to_end(server):
    live = lambda: server.metrics().value("gavel_auctions_live")  # noqa: E731
    before = live()
    people, _lg, st, _ = setup_auction(server, 2, begin=False, **auction_cfg())
    comm, aid = people[0], st["id"]
    assert live() == before  # waiting: not begun
    control(comm, aid, "begin")
    assert live() == before + 1
    control(comm, aid, "pause")
    assert live() == before + 1  # paused is still live
    control(comm, aid, "resume")
    control(comm, aid, "end")
    assert state(comm, aid)["status"] == "completed"
    assert live() == before


def test_ws_joins_count_successful_room_joins(server):
    people, lg, st, _ = setup_auction(server, 2, **auction_cfg())
    comm, aid = people[0], st["id"]
    outsider = Client(server)

    async def scenario():
        m0 = server.metrics()
        peer = await Peer.connect(server, comm)
        assert (await peer.join(aid))["type"] == "snapshot"
        assert (await peer.join(aid))["type"] == "snapshot"  # a second join is a join too
        await peer.send(type="join_league", leagueId=lg["id"])
        await peer.barrier()  # join_league has no answer: the pong says it was handled
        stranger = await Peer.connect(server, outsider)
        assert (await stranger.join(aid))["type"] == "error"  # refused: not counted
        await stranger.send(type="join_league", leagueId=lg["id"])
        await stranger.until(lambda msg: msg["type"] == "error", what="league refusal")
        m1 = server.metrics()
        await peer.close()
        await stranger.close()
        return m0, m1

    m0, m1 = run_async(scenario())
    for room, joins in (("auction", 2), ("league", 1)):
        assert value(m1, "gavel_ws_joins_total", room=room) == value(
            m0, "gavel_ws_joins_total", room=room) + joins, room


def test_bid_round_trip_counts_every_answered_bid_by_outcome(server):
    people, _lg, st, _ = setup_auction(server, 3, **auction_cfg())
    comm, ann, bob = people
    aid, lot = st["id"], st["lot"]["number"]
    before = round_trips(server.metrics())
    answers = []  # accepted? for each answered bid
    for who, amount in ((ann, 2 * M), (bob, 3 * M), (ann, 3 * M), (comm, 5 * M), (bob, M)):
        r = bid(who, aid, lot, amount)
        assert r.status_code in (200, 409), r.text
        answers.append(r.status_code == 200)
    replay = uuid.uuid4().hex
    r1, r2 = bid(bob, aid, lot, 9 * M, replay), bid(bob, aid, lot, 9 * M, replay)
    assert r1.json() == r2.json()  # the replay answers the first outcome, and is answered
    answers += [r1.status_code == 200, r2.status_code == 200]

    async def over_ws():
        peer = await Peer.connect(server, ann)
        got = []
        for amount in (10 * M, 10 * M, 12 * M):
            got.append((await peer.bid(aid, lot, amount))["accepted"])
        await peer.close()
        return got

    answers += run_async(over_ws())
    after = round_trips(server.metrics())
    assert after["accepted"] - before["accepted"] == answers.count(True), answers
    assert after["rejected"] - before["rejected"] == answers.count(False), answers
    assert answers.count(True) >= 4 and answers.count(False) >= 3, answers
    m = server.metrics()
    for outcome in ("accepted", "rejected"):
        buckets = [v for lab, v in m.series(ROUND_TRIP + "_bucket") if lab["outcome"] == outcome]
        assert buckets == sorted(buckets) and buckets[-1] == after[outcome], buckets
        assert value(m, ROUND_TRIP + "_sum", outcome=outcome) > 0


def test_fanout_delay_one_observation_per_event_not_per_socket(server):
    people, _lg, st, _ = setup_auction(server, 2, begin=False, **auction_cfg())
    comm, ann = people
    aid = st["id"]

    async def scenario():
        peers = [await Peer.connect(server, comm), await Peer.connect(server, ann)]
        for p in peers:
            assert (await p.join(aid))["type"] == "snapshot"
            await p.barrier()
        joined_at = [len(p.inbox) for p in peers]
        before = fanout_count(server.metrics())
        st1 = control(comm, aid, "begin")
        lot = st1["lot"]["number"]
        last = st1["seq"]
        for amount in (2 * M, 3 * M):
            r = bid(ann if amount == 2 * M else comm, aid, lot, amount)
            assert r.status_code == 200, r.text
            last = r.json()["seq"]
        for p in peers:
            await p.events_until(aid, last)
        after = fanout_count(server.metrics())
        seen = [[m["seq"] for m in p.inbox[n:] if m["type"] in EVENT_TYPES]
                for p, n in zip(peers, joined_at)]
        for p in peers:
            await p.close()
        return before, after, seen

    before, after, seen = run_async(scenario())
    assert seen[0] == seen[1] and len(seen[0]) >= 3, seen  # lot_opened and two bids at least
    assert after - before == len(seen[0]), (before, after, seen)


# ---- client errors and rate limits --------------------------------------------------------------


def test_client_errors_by_kind_and_unknown_kinds_as_other(server):
    before = server.metrics()
    sent = {"render": 2, "socket": 1}
    for kind, n in sent.items():
        for _ in range(n):
            assert report(server, kind) == 204
    for odd in ("Render", "made-up", 'quo"te'):  # not a kind the app sends
        assert report(server, odd) == 204
    assert post(server, "/api/client-errors", {"kind": "render"}).status_code == 400  # no count
    after = server.metrics()
    expected = dict.fromkeys(KINDS, 0) | sent | {"other": 3}
    for kind in KINDS:
        got = value(after, "gavel_client_errors_total", kind=kind) - value(
            before, "gavel_client_errors_total", kind=kind)
        assert got == expected[kind], kind
    labels = {lab["kind"] for lab, _ in after.series("gavel_client_errors_total")}
    assert labels == set(KINDS)


def limited_server(start_server):
    """A server whose limits are a tenth of production's: bids 2/s per user (burst 2), client
    error reports 3 per IP (refilling one per 20 s)."""
    return start_server("--rate-limit-scale", "0.1")


def test_rate_limited_counts_each_429_by_route(start_server):
    srv = limited_server(start_server)
    people, _lg, st, _ = setup_auction(srv, 2, **auction_cfg(minIncrement=M))
    _comm, ann = people
    aid, lot = st["id"], st["lot"]["number"]
    m0 = srv.metrics()
    reports = [report(srv, "render") for _ in range(8)]
    rest = [bid(ann, aid, lot, (10 + i) * M).status_code for i in range(8)]

    async def over_ws():
        peer = await Peer.connect(srv, ann)
        cbids = [uuid.uuid4().hex for _ in range(8)]
        for i, cbid in enumerate(cbids):  # all sent before any answer is read
            await peer.send(type="bid", auctionId=aid, lot=lot, amount=(100 + i) * M,
                            clientBidId=cbid)
        codes = []
        for cbid in cbids:
            r = await peer.until(lambda m, c=cbid: m["type"] == "bid_result"
                                 and m["clientBidId"] == c, what="bid_result")
            codes.append(r.get("code"))
        await peer.close()
        return codes

    ws_codes = run_async(over_ws())
    m1 = srv.metrics()
    k_reports, k_rest = reports.count(429), rest.count(429)
    k_ws = ws_codes.count("rate_limited")
    assert k_reports >= 1 and k_rest >= 1 and k_ws >= 1, (reports, rest, ws_codes)
    assert set(reports) <= {204, 429} and set(rest) <= {200, 409, 429}, (reports, rest)
    for route, k in (("/api/client-errors", k_reports), (BIDS_ROUTE, k_rest), ("ws:bid", k_ws)):
        got = value(m1, "gavel_rate_limited_total", route=route) - value(
            m0, "gavel_rate_limited_total", route=route)
        assert got == k, (route, got, k)
    # nothing else was refused
    routes = {lab["route"] for lab, v in m1.series("gavel_rate_limited_total") if v}
    assert routes == {"/api/client-errors", BIDS_ROUTE, "ws:bid"}, routes
    # a refused bid is still an answered one: the round trip counts it as rejected
    rt0, rt1 = round_trips(m0), round_trips(m1)
    not_accepted = len(rest) - rest.count(200) + sum(c is not None for c in ws_codes)
    assert rt1["rejected"] - rt0["rejected"] == not_accepted


# ---- the whole scrape through promtool ----------------------------------------------------------


def test_a_busy_scrape_passes_promtool(start_server):
    srv = limited_server(start_server)
    people, lg, st, _ = setup_auction(srv, 2, **auction_cfg())
    comm, ann = people
    aid, lot = st["id"], st["lot"]["number"]
    assert comm.post(f"/api/watch/{lg['watchCode']}").status_code == 200
    for kind in ("render", "made-up", "render", "render", "render"):
        report(srv, kind)  # the last ones are refused: a route label appears

    async def traffic():
        peer = await Peer.connect(srv, comm)
        await peer.join(aid)
        await peer.send(type="join_league", leagueId=lg["id"])
        for amount in (2 * M, 2 * M, 50 * M, 60 * M, 70 * M):  # some refused by the bid rate
            await peer.bid(aid, lot, amount)
        for amount in (3 * M, 80 * M, 90 * M):
            bid(ann, aid, lot, amount)
        paused = control(comm, aid, "pause")
        await peer.events_until(aid, paused["seq"])
        await peer.close()

    run_async(traffic())
    text = srv.get("/metrics").text
    m = srv.metrics()
    assert value(m, "gavel_rate_limited_total", route="/api/client-errors") >= 1
    assert sum(round_trips(m).values()) == 8 and fanout_count(m) >= 2
    proc = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", (
        proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("bad", [
    "# HELP x_seconds_total A counter.\n# TYPE x_seconds_total gauge\nx_seconds_total 1\n",
    "# TYPE y counter\ny 1\n",
])
def test_promtool_reports_findings(bad):
    """The check above can fail: promtool flags a gauge named like a counter and a counter
    without _total and without help."""
    proc = subprocess.run([PROMTOOL, "check", "metrics"], input=bad, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode != 0 and (proc.stdout + proc.stderr).strip(), proc
