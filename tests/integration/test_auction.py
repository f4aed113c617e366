"""The live auction over REST against the real binary: a full auction with 4 managers,
concurrent bids (one winner, the highest; of equal amounts exactly one), bids after endsAt,
kill -9 and restart during a lot and during an intermission (every acknowledged bid survives,
lots close at their endsAt or at once when overdue, the auction finishes), pause/resume timing,
and RBAC on every control."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import holding_write_lock
from test_catalogue import Client as CatalogueClient
from test_leagues import Client, code_of, make_league

M = 1_000_000
CONTROLS = ("begin", "pause", "resume", "close-lot", "undo", "reset", "end")


def setup_auction(server, n_managers, n_assets=5, begin=True, **settings):
    people = [Client(server) for _ in range(n_managers)]
    comm = people[0]
    cfg = dict(budget=500 * M, rosterSize=2, minBid=M, minIncrement=M, lotSeconds=60,
               antiSnipeSeconds=0, intermissionSeconds=0, reofferUnsold=0, lotOrder="fixed",
               minManagers=1, maxManagers=max(8, n_managers))
    cfg.update(settings)
    lg = make_league(comm, **cfg)
    for p in people[1:]:
        assert p.post(f"/api/invites/{lg['inviteCode']}/join").status_code == 200
    afcon = [a["id"] for a in comm.all_items("/api/assets", competition="AFCON-2025")][:n_assets]
    assert comm.call("PUT", f"/api/leagues/{lg['id']}/assets", {"assetIds": afcon}).status_code == 200
    r = comm.post(f"/api/leagues/{lg['id']}/auction")
    assert r.status_code == 201, r.text
    st = r.json()
    if begin:
        st = control(comm, st["id"], "begin")
    return people, lg, st, afcon


def control(who, aid, action, status=200):
    r = who.post(f"/api/auctions/{aid}/{action}")
    assert r.status_code == status, (action, r.text)
    return r.json() if r.content else None


def bid(who, aid, lot, amount, cbid=None):
    return who.post(f"/api/auctions/{aid}/bids",
                    {"lot": lot, "amount": amount, "clientBidId": cbid or uuid.uuid4().hex})


def state(who, aid):
    r = who.get(f"/api/auctions/{aid}")
    assert r.status_code == 200, r.text
    return r.json()


def wait_state(who, aid, pred, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = state(who, aid)
        if pred(st):
            return st
        time.sleep(0.05)
    raise AssertionError(f"timed out; last state {st}")


def test_full_auction_with_four_managers(server):
    people, lg, st, assets = setup_auction(server, 4, n_assets=8, rosterSize=2)
    aid = st["id"]
    comm = people[0]
    lot = 1
    # each lot: two bids, the second wins; close with the hammer
    while True:
        st = state(comm, aid)
        if st["status"] == "completed":
            break
        assert st["lot"]["state"] == "running" and st["lot"]["number"] == lot, st["lot"]
        bidders = [p for p in people
                   if next(m for m in st["managers"] if m["userId"] == p.id)["emptySlots"] > 0]
        first = bid(bidders[0], aid, lot, M)
        assert first.status_code == 200, first.text
        if len(bidders) > 1:
            assert bid(bidders[1], aid, lot, 3 * M).status_code == 200
        control(comm, aid, "close-lot")
        lot += 1
    assert st["completedReason"] == "rosters_full"
    assert all(m["emptySlots"] == 0 for m in st["managers"])
    owned = [x["assetId"] for m in st["managers"] for x in m["roster"]]
    assert len(owned) == len(set(owned)) == 8
    log = comm.all_items(f"/api/auctions/{aid}/events", limit=7)
    seqs = [e["seq"] for e in log]
    assert seqs == list(range(1, len(seqs) + 1)), "seq is gapless from 1"
    types = [e["type"] for e in log]
    assert types[0] == "auction_created" and types[-1] == "auction_completed"
    assert types.count("auction_completed") == 1
    last_close = max(i for i, t in enumerate(types) if t == "lot_closed")
    assert last_close < types.index("auction_completed"), "the final lot is awarded first"
    assert comm.get(f"/api/leagues/{lg['id']}").json()["status"] == "season"
    statuses = {x["assetId"]: x["status"] for x in comm.all_items(f"/api/leagues/{lg['id']}/assets")}
    assert set(statuses.values()) == {"sold"}


def test_fifty_concurrent_bids_one_winner(server):
    people, lg, st, _ = setup_auction(server, 10, rosterSize=2)
    aid = st["id"]
    amounts = [(i % 10 + 1) * M + (i // 10) * 10 * M for i in range(50)]
    barrier = threading.Barrier(50)

    def place(i):
        barrier.wait()
        return i, bid(people[i % 10], aid, 1, amounts[i])

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(place, range(50)))
    accepted = [(i, r.json()) for i, r in results if r.status_code == 200]
    rejected = {i: r.json()["error"]["code"] for i, r in results if r.status_code != 200}
    assert set(rejected.values()) <= {"bid_too_low", "already_leading"}, rejected
    # What the contract promises, whatever the arrival order: the accepted bids rise strictly in
    # seq order; the lot's price and leader are the highest accepted bid and its bidder; the
    # highest amount of all is accepted unless its bidder was already leading when it arrived
    # (a player's own later bid may arrive after their earlier one took the lead).
    bids = people[0].get(f"/api/auctions/{aid}/bids", params={"lot": 1}).json()["items"]
    assert len(bids) == len(accepted) and len({b["seq"] for b in bids}) == len(bids)
    assert [b["amount"] for b in bids] == sorted({b["amount"] for b in bids}), "strictly rising"
    assert sorted(b["amount"] for b in bids) == sorted(amounts[i] for i, _ in accepted)
    st = state(people[0], aid)
    best = max(accepted, key=lambda a: amounts[a[0]])
    assert st["lot"]["currentBid"] == amounts[best[0]] == bids[-1]["amount"]
    assert st["lot"]["leaderId"] == people[best[0] % 10].id == bids[-1]["userId"]
    top = max(range(50), key=lambda i: amounts[i])
    assert top not in rejected or rejected[top] == "already_leading", rejected.get(top)
    for i, code in rejected.items():  # a bid refused as too low was not above the final price
        assert code != "bid_too_low" or amounts[i] <= st["lot"]["currentBid"], (i, amounts[i])


def test_equal_bids_exactly_one_wins(server):
    people, lg, st, _ = setup_auction(server, 6)
    aid = st["id"]
    barrier = threading.Barrier(5)

    def place(p):
        barrier.wait()
        return bid(p, aid, 1, 5 * M)

    with ThreadPoolExecutor(5) as pool:
        codes = [r.status_code for r in pool.map(place, people[1:])]
    assert sorted(codes) == [200] + [409] * 4, codes


def test_client_bid_id_is_idempotent(server):
    people, lg, st, _ = setup_auction(server, 3)
    aid = st["id"]
    a, b = people[1], people[2]
    first = bid(a, aid, 1, 2 * M, cbid="same-id")
    again = bid(a, aid, 1, 2 * M, cbid="same-id")
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    low = bid(b, aid, 1, M, cbid="low-id")
    assert low.status_code == 409 and code_of(low) == "bid_too_low"
    assert low.json()["error"]["details"]["minimum"] == 3 * M
    assert bid(b, aid, 1, 9 * M, cbid="low-id").json() == low.json(), "a rejection replays too"
    assert len(a.get(f"/api/auctions/{aid}/bids").json()["items"]) == 1


def test_bid_rejections_and_precedence(server):
    people, lg, st, _ = setup_auction(server, 3, begin=False, rosterSize=2, budget=10 * M)
    aid = st["id"]
    comm, a, b = people
    spectator = Client(server)
    spectator.post(f"/api/watch/{lg['watchCode']}")
    r = bid(spectator, aid, 1, M)
    assert r.status_code == 403 and code_of(r) == "not_a_manager"
    assert code_of(bid(a, aid, 1, M)) == "auction_not_running"
    control(comm, aid, "begin")
    assert code_of(bid(a, aid, 2, M)) == "stale_lot"
    assert bid(a, aid, 1, M).status_code == 200
    assert code_of(bid(a, aid, 1, 5 * M)) == "already_leading"
    r = bid(b, aid, 1, 10 * M)  # maxBid = 10m - 1m x (2 - 1) = 9m
    assert code_of(r) == "over_max_bid" and r.json()["error"]["details"]["maxBid"] == 9 * M
    assert "9m" in r.json()["error"]["message"]
    assert bid(b, aid, 1, 9 * M).status_code == 200
    control(comm, aid, "pause")
    assert code_of(bid(a, aid, 1, 9_500_000)) == "auction_not_running"
    bad = [({"lot": 1, "amount": "5"}, "amount"), ({"lot": 1, "amount": 5, "clientBidId": ""},
                                                    "clientBidId"),
           ({"lot": 1, "amount": 5, "clientBidId": "x", "extra": 1}, "extra"), ({"amount": 5}, "lot")]
    for body, _ in bad:  # API.md's precedence: the state (409) before field validation (400)
        assert code_of(a.post(f"/api/auctions/{aid}/bids", body)) == "auction_not_running", body
    control(comm, aid, "resume")
    for body, field in bad:
        r = a.post(f"/api/auctions/{aid}/bids", body)
        assert r.status_code == 400 and r.json()["error"]["details"]["field"] == field, r.text
    control(comm, aid, "pause")


def test_bid_after_ends_at_is_refused(server):
    people, lg, st, _ = setup_auction(server, 2, lotSeconds=5, intermissionSeconds=30)
    aid, comm, a = st["id"], people[0], people[1]
    ends = st["lot"]["endsAtMs"]
    time.sleep(max(0, ends / 1000 - time.time()) + 0.05)
    r = bid(a, aid, 1, M)
    assert r.status_code == 409 and code_of(r) in ("lot_closed", "stale_lot"), r.text
    st = wait_state(comm, aid, lambda s: s["lot"] and s["lot"]["state"] == "intermission")
    assert st["progress"]["lotsClosed"] == 1 and st["progress"]["unsold"] == 1


def test_pause_resume_keeps_the_remaining_time(server):
    """Exact, from the event log's own instants (no client-side slack): the time left at the
    pause is the lot's end minus the pause's instant; the resume ends that much after itself."""
    people, lg, st, _ = setup_auction(server, 2, lotSeconds=20)
    aid, comm = st["id"], people[0]
    paused = control(comm, aid, "pause")
    assert paused["lot"]["endsAtMs"] is None
    frozen = paused["lot"]["remainingMs"]
    time.sleep(1.0)  # time passes while paused: nothing may move
    assert state(comm, aid)["lot"]["remainingMs"] == frozen, "frozen while paused"
    control(comm, aid, "resume")
    control(comm, aid, "resume", 409)
    log = {e["type"]: e for e in comm.all_items(f"/api/auctions/{aid}/events")}
    opened, pause, resume = log["lot_opened"], log["paused"], log["resumed"]
    assert pause["remainingMs"] == frozen
    assert frozen == opened["lot"]["endsAtMs"] - pause["serverTimeMs"]
    assert resume["endsAtMs"] == resume["serverTimeMs"] + frozen
    assert state(comm, aid)["lot"]["endsAtMs"] == resume["endsAtMs"]


def test_rbac_on_every_control(server):
    people, lg, st, _ = setup_auction(server, 2, begin=False)
    aid = st["id"]
    comm, mgr = people
    outsider, spectator = Client(server), Client(server)
    spectator.post(f"/api/watch/{lg['watchCode']}")
    for action in CONTROLS:
        assert outsider.post(f"/api/auctions/{aid}/{action}").status_code == 404, action
        for who in (mgr, spectator):
            r = who.post(f"/api/auctions/{aid}/{action}")
            assert r.status_code == 403, (action, r.text)
    assert outsider.call("DELETE", f"/api/auctions/{aid}").status_code == 404
    assert mgr.call("DELETE", f"/api/auctions/{aid}").status_code == 403
    assert outsider.get(f"/api/auctions/{aid}").status_code == 404
    assert spectator.get(f"/api/auctions/{aid}").status_code == 200
    # state checks for the commissioner
    for action in ("pause", "resume", "close-lot", "undo"):
        r = comm.post(f"/api/auctions/{aid}/{action}")
        assert r.status_code == 409 and code_of(r) == "invalid_state", (action, r.text)
    r = comm.post(f"/api/leagues/{lg['id']}/auction")
    assert r.status_code == 409 and code_of(r) == "auction_exists"
    r = comm.call("PATCH", f"/api/leagues/{lg['id']}", {"lotSeconds": 40})
    assert r.status_code == 409 and code_of(r) == "locked"
    late = Client(server)
    r = late.post(f"/api/invites/{lg['inviteCode']}/join")
    assert r.status_code == 409 and code_of(r) == "auction_started"
    assert comm.call("DELETE", f"/api/auctions/{aid}").status_code == 204
    assert comm.get(f"/api/leagues/{lg['id']}").json()["status"] == "setup"


def test_not_enough_managers(server):
    comm = Client(server)
    lg = make_league(comm, minManagers=2)
    r = comm.post(f"/api/leagues/{lg['id']}/auction")
    assert r.status_code == 409 and code_of(r) == "not_enough_managers"


def test_results_json_and_csv(server):
    people, lg, st, assets = setup_auction(server, 2, n_assets=3, rosterSize=1)
    aid, comm, a = st["id"], people[0], people[1]
    assert bid(a, aid, 1, 12 * M).status_code == 200
    control(comm, aid, "close-lot")
    st = wait_state(comm, aid, lambda s: s["lot"] and s["lot"]["number"] == 2)
    assert bid(comm, aid, 2, 7 * M).status_code == 200
    st = control(comm, aid, "close-lot")
    st = wait_state(comm, aid, lambda s: s["status"] == "completed")
    res = a.get(f"/api/auctions/{aid}/results").json()
    assert [(x["assetId"], x["result"], x["price"]) for x in res["lots"]] == \
        [(assets[0], "sold", 12 * M), (assets[1], "sold", 7 * M)]
    csv = a.get(f"/api/auctions/{aid}/results", params={"format": "csv"})
    assert csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("lot,asset_id") and len(lines) == 3
    assert str(12 * M) in lines[1] and a.id in lines[1]


# ---- crash and recovery -------------------------------------------------------------------------


def test_kill_during_a_lot_and_during_an_intermission(start_server):
    srv = start_server()
    people, lg, st, assets = setup_auction(srv, 3, n_assets=3, rosterSize=1, lotSeconds=5,
                                           intermissionSeconds=2)
    aid, comm, a, b = st["id"], *people
    acked = []
    for who, amount in ((a, 2 * M), (b, 3 * M), (a, 5 * M)):
        r = bid(who, aid, 1, amount)
        assert r.status_code == 200
        acked.append(r.json()["seq"])
    ends = state(comm, aid)["lot"]["endsAtMs"]
    srv = start_server.restart(srv)  # kill -9 during lot 1, with bids
    for p in people:
        p.server = srv
    st = state(comm, aid)
    bids = comm.get(f"/api/auctions/{aid}/bids").json()["items"]
    assert [x["seq"] for x in bids] == acked, "every acknowledged bid survived"
    if st["lot"]["state"] == "running":
        assert st["lot"]["endsAtMs"] == ends and st["lot"]["currentBid"] == 5 * M
    st = wait_state(comm, aid, lambda s: s["lot"] and s["lot"]["state"] == "intermission")
    closed = [e for e in comm.all_items(f"/api/auctions/{aid}/events") if e["type"] == "lot_closed"]
    assert closed[0]["winnerId"] == a.id and closed[0]["price"] == 5 * M
    assert closed[0]["serverTimeMs"] >= ends
    srv = start_server.restart(srv)  # kill -9 during the intermission
    for p in people:
        p.server = srv
    st = wait_state(comm, aid, lambda s: s["lot"] and s["lot"]["number"] == 2
                    and s["lot"]["state"] == "running")
    assert bid(b, aid, 2, M).status_code == 200
    st = wait_state(comm, aid, lambda s: s["status"] == "completed", timeout=20)
    owners = {x["assetId"]: m["userId"] for m in st["managers"] for x in m["roster"]}
    assert owners[assets[0]] == a.id and owners[assets[1]] == b.id
    log = comm.all_items(f"/api/auctions/{aid}/events")
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert [e["type"] for e in log].count("auction_completed") == 1


def test_overdue_lot_closes_at_once_after_restart(start_server):
    srv = start_server()
    people, lg, st, assets = setup_auction(srv, 2, n_assets=2, rosterSize=1, lotSeconds=5,
                                           intermissionSeconds=0)
    aid, comm, a = st["id"], *people
    assert bid(a, aid, 1, 4 * M).status_code == 200
    ends = state(comm, aid)["lot"]["endsAtMs"]
    srv.crash()
    time.sleep(max(0, ends / 1000 - time.time()) + 1.0)  # the lot is overdue while we are down
    srv = start_server.restart(srv)
    for p in people:
        p.server = srv
    st = wait_state(comm, aid, lambda s: s["progress"]["lotsClosed"] >= 1)
    mgr = next(m for m in st["managers"] if m["userId"] == a.id)
    assert [x["price"] for x in mgr["roster"]] == [4 * M], "bids up to endsAt count"


@pytest.mark.sqlite_only  # gavel check replays SQLite's file; a PostgreSQL store is refused
def test_gavel_check_replays_the_log(start_server):
    import sqlite3

    from conftest import run_gavel

    srv = start_server()
    people, lg, st, _ = setup_auction(srv, 2)
    aid = st["id"]
    assert bid(people[1], aid, 1, 3 * M).status_code == 200
    control(people[0], aid, "close-lot")
    srv.stop_and_check()
    out = run_gavel("check", "--data", srv.data)
    assert out.returncode == 0 and f"auction {aid}: ok" in out.stdout and "check ok" in out.stdout
    db = sqlite3.connect(srv.data / "gavel.db")
    assert db.execute("SELECT count(*) FROM auction_rosters WHERE auction_id = ?",
                      (aid,)).fetchone()[0] == 1, "the sale is a derived roster row"
    db.execute("UPDATE auction_rosters SET price = price + 1 WHERE auction_id = ?", (aid,))
    db.commit()
    out = run_gavel("check", "--data", srv.data)
    assert out.returncode == 1 and "rosters differ" in out.stdout, out.stdout
    db.execute("UPDATE auction_rosters SET price = price - 1 WHERE auction_id = ?", (aid,))
    db.execute("DELETE FROM auction_bids WHERE auction_id = ?", (aid,))
    db.commit()
    db.close()
    out = run_gavel("check", "--data", srv.data)
    assert out.returncode == 1 and "accepted bids differ" in out.stdout, out.stdout


def test_failed_commit_answers_unavailable_and_reloads(start_server):
    """Durable before visible: when the commit cannot happen (another process holds the store's
    write lock past the server's 5 s busy or lock timeout), the bid is answered 503 and shows
    nowhere; the auction is reloaded from the store and takes bids again once the lock is gone."""
    srv = start_server()
    people, lg, st, _ = setup_auction(srv, 2)
    aid, comm, a = st["id"], *people
    assert bid(a, aid, 1, 2 * M).status_code == 200
    with holding_write_lock(srv):  # the server waits 5 s, then gives up on the commit
        r = requests.post(f"{srv.url}/api/auctions/{aid}/bids", timeout=20,
                          headers={"Authorization": f"Bearer {comm.token}"},
                          json={"lot": 1, "amount": 3 * M, "clientBidId": "blocked"})
        assert r.status_code == 503 and code_of(r) == "unavailable", r.text
    st = state(comm, aid)
    assert st["lot"]["currentBid"] == 2 * M and st["lot"]["leaderId"] == a.id, st["lot"]
    log = comm.all_items(f"/api/auctions/{aid}/events")
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert all(e.get("amount") != 3 * M for e in log), "the failed bid is nowhere in the log"
    r = bid(comm, aid, 1, 3 * M)
    assert r.status_code == 200 and r.json()["seq"] == st["seq"] + 1, r.text


def test_deleting_the_league_takes_its_running_auction_with_it(server):
    people, lg, st, _ = setup_auction(server, 2, lotSeconds=5, intermissionSeconds=0)
    aid, comm, a = st["id"], *people
    assert bid(a, aid, 1, 2 * M).status_code == 200
    assert comm.call("DELETE", f"/api/leagues/{lg['id']}").status_code == 204
    assert comm.get(f"/api/auctions/{aid}").status_code == 404
    time.sleep(5.5)  # the lot's deadline passes: no timer of the deleted auction may fire
    assert comm.get("/api/health").status_code == 200
    assert make_league(comm)["status"] == "setup"


def test_rename_shows_in_the_auction_state(server):
    people, lg, st, _ = setup_auction(server, 2)
    aid, comm, a = st["id"], *people
    assert bid(a, aid, 1, 2 * M).status_code == 200
    assert state(comm, aid)["lot"]["leaderName"] == a.user["name"]
    assert a.call("PATCH", "/api/me", {"name": "Renamed Leader"}).status_code == 200
    st = state(comm, aid)
    assert st["lot"]["leaderName"] == "Renamed Leader"
    assert next(m for m in st["managers"] if m["userId"] == a.id)["name"] == "Renamed Leader"


def test_group_commit_and_loop_health_metrics(start_server):
    """/metrics tells an operator how the group commit and the event loop are doing: every
    accepted bid went through a counted commit of its batch, the loop's iterations are measured
    (with the longest), and socket writes are counted."""
    srv = start_server()
    people, lg, st, _ = setup_auction(srv, 2)
    aid, comm, a = st["id"], *people
    before = srv.metrics()
    commits0 = before.value("gavel_auction_commit_seconds_count") or 0
    events0 = before.value("gavel_auction_commit_batch_events_sum") or 0
    published0 = before.value("gavel_auction_events_published_total")
    releases0 = before.value("gavel_auction_release_turns_total")
    for i, who in enumerate([a, comm, a, comm]):
        assert bid(who, aid, 1, (2 + i) * M).status_code == 200
    after = srv.metrics()
    commits = after.value("gavel_auction_commit_seconds_count") - commits0
    events = after.value("gavel_auction_commit_batch_events_sum") - events0
    assert 1 <= commits <= 4 and events >= 4, (commits, events)
    # a batch this small goes out whole in the turn after its commit, before its answer is read
    assert after.value("gavel_auction_events_published_total") - published0 == events
    assert after.value("gavel_auction_release_turns_total") - releases0 == commits
    assert after.value("gavel_auction_commit_batch_events_count") == after.value(
        "gavel_auction_commit_seconds_count")
    assert after.value("gavel_loop_turn_seconds_count") > 0
    turns = after.series("gavel_loop_turn_seconds_bucket")
    assert turns[-1][0]["le"] == "+Inf" and turns[-1][1] == after.value(
        "gavel_loop_turn_seconds_count")
    assert 0 < after.value("gavel_loop_turn_max_seconds") < 60
    cpu = after.series("gavel_loop_turn_cpu_seconds_bucket")
    assert cpu[-1][0]["le"] == "+Inf" and cpu[-1][1] == after.value(
        "gavel_loop_turn_cpu_seconds_count") > before.value("gavel_loop_turn_cpu_seconds_count")
    # the loop thread cannot use more CPU in its turns than the turns' wall time
    assert after.value("gavel_loop_turn_cpu_seconds_sum") <= after.value(
        "gavel_loop_turn_seconds_sum") + 0.05
    # exposed (how many depends on the machine: test_ws_conn checks that they count)
    assert after.value("gavel_ws_reads_put_off_total") is not None
    assert after.value("gavel_http_reads_put_off_total") is not None
    assert after.value("gavel_http_socket_writes_total") >= 4
    assert after.value("gavel_auction_commits_failed_total") == 0
    assert after.value("gavel_db_checkpoints_total", mode="restart") is not None
    assert after.value("gavel_db_checkpoints_total", mode="writer_catch_up") is not None


def test_an_imported_asset_name_shows_in_the_auction_state(start_server):
    """The Asset objects of lots and rosters are cached once for every auction: an admin import
    that renames the asset on the block shows in the state at once, not after a restart."""
    admin_email = f"asset-admin-{uuid.uuid4().hex[:6]}@example.com"
    srv = start_server("--admin-email", admin_email)
    people, lg, st, afcon = setup_auction(srv, 2)
    aid, comm = st["id"], people[0]
    asset = state(comm, aid)["lot"]["asset"]
    assert asset["id"] == afcon[0]
    admin = CatalogueClient(srv, admin_email)
    body = {"assets": [{k: asset[k] for k in ("id", "sport", "name", "shortName", "country",
                                              "team", "role", "providerIds", "competitions")}]}
    body["assets"][0]["name"] = "Renamed In The Catalogue"
    r = admin.post("/api/admin/assets", body, "application/json")
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 1, r.text
    for _ in range(2):  # read again after the import, then from the cache
        assert state(comm, aid)["lot"]["asset"]["name"] == "Renamed In The Catalogue"
