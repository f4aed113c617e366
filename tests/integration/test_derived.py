"""Fields derived from an auction agree with it everywhere they appear: Member.roster and
Member.budgetRemaining (GET /api/leagues/{id}/members) after a sale, an undo, a reset, the end and
a restart; a league's auctionStatus and auctionId in GET /api/leagues and GET /api/leagues/{id}
for every role. The expectations are computed here from what the test did (who bought what for
how much), then compared with both the members list and the auction state."""

from test_auction import M, bid, control, setup_auction, state, wait_state
from test_leagues import Client

BUDGET = 500 * M


def members(who, lg_id):
    r = who.get(f"/api/leagues/{lg_id}/members")
    assert r.status_code == 200, r.text
    return {m["userId"]: m for m in r.json()["items"]}


def assert_rosters(who, lg_id, aid, expected, names):
    """expected: {userId: [(assetId, price, lot)]} for every manager (empty lists included)."""
    got = members(who, lg_id)
    st = state(who, aid)
    managers = {m["userId"]: m for m in st["managers"]}
    assert set(got) == set(expected) == set(managers)
    for uid, items in expected.items():
        want = [{"assetId": a, "name": names[a], "price": p, "lot": lot} for a, p, lot in items]
        budget = BUDGET - sum(p for _, p, _ in items)
        assert sorted(got[uid]["roster"], key=lambda x: x["lot"]) == want, uid
        assert got[uid]["budgetRemaining"] == budget, uid
        assert sorted(managers[uid]["roster"], key=lambda x: x["lot"]) == want, uid
        assert managers[uid]["budgetRemaining"] == budget, uid


def sell(comm, buyer, aid, amount):
    """Opens nothing: the running lot is bid on by buyer and hammered. Returns the lot number."""
    st = wait_state(comm, aid, lambda s: s["lot"] and s["lot"]["state"] == "running")
    lot = st["lot"]["number"]
    assert bid(buyer, aid, lot, amount).status_code == 200
    control(comm, aid, "close-lot")
    return lot


def test_member_rosters_follow_sales_undo_reset_end_and_restart(start_server):
    srv = start_server()
    people, lg, st, assets = setup_auction(srv, 3, n_assets=6, rosterSize=2)
    comm, a, b = people
    aid, lg_id = st["id"], lg["id"]
    names = {x["id"]: x["name"] for x in comm.all_items("/api/assets", competition="AFCON-2025")}
    empty = {p.id: [] for p in people}
    assert_rosters(comm, lg_id, aid, empty, names)

    lot1 = sell(comm, a, aid, 7 * M)  # assets are offered in the fixed order
    assert_rosters(b, lg_id, aid, {**empty, a.id: [(assets[0], 7 * M, lot1)]}, names)

    control(comm, aid, "pause")
    control(comm, aid, "undo")  # the sale of lot 1 is reverted; the asset is next to open
    assert_rosters(a, lg_id, aid, empty, names)

    control(comm, aid, "resume")
    lot = sell(comm, b, aid, 11 * M)  # the undone asset, assets[0], was offered again
    sold = {**empty, b.id: [(assets[0], 11 * M, lot)]}
    assert_rosters(comm, lg_id, aid, sold, names)

    control(comm, aid, "pause")
    control(comm, aid, "reset")  # waiting again: every roster and budget restored
    assert state(comm, aid)["status"] == "waiting"
    assert_rosters(comm, lg_id, aid, empty, names)

    control(comm, aid, "begin")
    lot1 = sell(comm, a, aid, 3 * M)
    lot2 = sell(comm, b, aid, 4 * M)
    sold = {**empty, a.id: [(assets[0], 3 * M, lot1)], b.id: [(assets[1], 4 * M, lot2)]}
    assert_rosters(comm, lg_id, aid, sold, names)

    srv = start_server.restart(srv)  # kill -9: the rosters come back from the store
    for p in people:
        p.server = srv
    assert_rosters(a, lg_id, aid, sold, names)

    control(comm, aid, "pause")
    control(comm, aid, "end")
    assert state(comm, aid)["status"] == "completed"
    assert_rosters(b, lg_id, aid, sold, names)
    srv = start_server.restart(srv)  # a completed auction is loaded on demand after a restart
    for p in people:
        p.server = srv
    assert_rosters(comm, lg_id, aid, sold, names)


def my_league(who, lg_id):
    r = who.get("/api/leagues")
    assert r.status_code == 200, r.text
    return next(x for x in r.json()["items"] if x["id"] == lg_id)


def assert_status(people, lg_id, status, aid):
    for p in people:
        item = my_league(p, lg_id)
        assert item["auctionStatus"] == status, (p.id, item)
        assert item["auctionId"] == aid, (p.id, item)
        one = p.get(f"/api/leagues/{lg_id}").json()
        assert one["auctionStatus"] == status and one["auctionId"] == aid, (p.id, one)
        assert one["role"] == item["role"], "the caller's role, as in the list"


def test_auction_status_in_league_lists_for_every_role(server):
    people, lg, st, _ = setup_auction(server, 3, n_assets=4, begin=False)
    spectator = Client(server)
    assert spectator.post(f"/api/watch/{lg['watchCode']}").status_code == 200
    everyone = people + [spectator]
    aid, lg_id, comm = st["id"], lg["id"], people[0]
    assert_status(everyone, lg_id, "waiting", aid)
    control(comm, aid, "begin")
    assert_status(everyone, lg_id, "running", aid)
    control(comm, aid, "pause")
    assert_status(everyone, lg_id, "paused", aid)
    control(comm, aid, "resume")
    assert_status(everyone, lg_id, "running", aid)
    control(comm, aid, "end")
    assert_status(everyone, lg_id, "completed", aid)
    r = comm.call("DELETE", f"/api/auctions/{aid}")
    assert r.status_code == 204, r.text
    assert_status(everyone, lg_id, None, None)


def test_auction_status_is_null_without_an_auction(server):
    comm = Client(server)
    r = comm.post("/api/leagues", {"name": "No auction", "sport": "football",
                                   "competition": "AFCON-2025"})
    assert r.status_code == 201, r.text
    assert r.json()["auctionStatus"] is None and r.json()["auctionId"] is None
    assert_status([comm], r.json()["id"], None, None)


def test_a_late_invitee_is_offered_the_watch_code(server):
    people, lg, st, _ = setup_auction(server, 2, n_assets=3, begin=False)
    late = Client(server)
    code = lg["inviteCode"]
    preview = late.get(f"/api/invites/{code}").json()
    assert preview["auctionStatus"] == "waiting" and preview["joinable"] is False
    r = late.post(f"/api/invites/{code}/join")
    assert r.status_code == 409 and r.json()["error"]["code"] == "auction_started"
    watched = late.post(f"/api/watch/{preview['watchCode']}").json()
    assert watched["role"] == "spectator" and watched["leagueId"] == lg["id"]
    fresh = people[0].post("/api/leagues", {"name": "Open", "sport": "football",
                                            "competition": "AFCON-2025"}).json()
    before = late.get(f"/api/invites/{fresh['inviteCode']}").json()
    assert before["joinable"] is True and before["auctionStatus"] is None
    assert "watchCode" not in before, "the watch code is shown only once joining is closed"
