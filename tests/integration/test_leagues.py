"""Leagues against the real binary: creation and validation, the RBAC matrix (non-member,
spectator, manager, commissioner on every mutating call), invites and watch codes (exact
matching, rotation, full leagues), members and their events over the league room, the asset
selection, and paging through many leagues."""

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import TIMEOUT, run_async, ws_connect
from test_auth import bearer, sign_in


class Client:
    """A signed-in user with JSON helpers."""

    def __init__(self, server, tag="u"):
        s = sign_in(server)
        self.server, self.token, self.user = server, s["accessToken"], s["user"]
        self.id = self.user["id"]

    def call(self, method, path, body=None, **kw):
        return requests.request(method, self.server.url + path, json=body,
                                headers=bearer(self.token), timeout=TIMEOUT, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None):
        return self.call("POST", path, body if body is not None else {})

    def all_items(self, path, limit=50, **params):
        items, cursor = [], None
        for _ in range(1000):
            p = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
            j = self.get(path, params=p).json()
            items += j["items"]
            cursor = j["nextCursor"]
            if cursor is None:
                return items
        raise AssertionError("paging did not end")


def code_of(r):
    return r.json()["error"]["code"]


def make_league(c, **settings):
    body = {"name": "Test League", "sport": "football", "competition": "AFCON-2025", **settings}
    r = c.post("/api/leagues", body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def people(server):
    return [Client(server) for _ in range(4)]


def league_with(people, **settings):
    comm, mgr, spec, outsider = people
    lg = make_league(comm, **settings)
    assert mgr.post(f"/api/invites/{lg['inviteCode']}/join").status_code == 200
    assert spec.post(f"/api/watch/{lg['watchCode']}").status_code == 200
    return lg


# ---- creation and validation --------------------------------------------------------------------


def test_create_validates_every_setting(server, people):
    c = people[0]
    base = {"name": "X", "sport": "football", "competition": "EPL-2025"}
    cases = [
        ({"name": ""}, "name"), ({"name": "n" * 61}, "name"), ({"sport": "curling"}, "sport"),
        ({"competition": "NOPE-1"}, "competition"), ({"competition": "IPL-2026"}, "competition"),
        ({"budget": 10}, "budget"), ({"rosterSize": 0}, "rosterSize"),
        ({"rosterSize": 21}, "rosterSize"),  # EPL has 20 clubs
        ({"minManagers": 9}, "minManagers"), ({"maxManagers": 65}, "maxManagers"),
        ({"lotSeconds": 4}, "lotSeconds"), ({"antiSnipeSeconds": 30}, "antiSnipeSeconds"),
        ({"minBid": 0}, "minBid"), ({"minIncrement": -1}, "minIncrement"),
        ({"intermissionSeconds": 31}, "intermissionSeconds"), ({"lotOrder": "alpha"}, "lotOrder"),
        ({"reofferUnsold": 6}, "reofferUnsold"), ({"currency": "pounds"}, "currency"),
        ({"isPublic": True}, "isPublic"), ({"budget": "500"}, "budget"),
    ]
    for change, field in cases:
        r = c.post("/api/leagues", {**base, **change})
        assert r.status_code == 400, (change, r.text)
        err = r.json()["error"]
        assert err["code"] == "invalid_request" and err["details"]["field"] == field, (change, err)
        assert err["message"], change
    for missing in ("name", "sport", "competition"):
        body = {k: v for k, v in base.items() if k != missing}
        assert c.post("/api/leagues", body).json()["error"]["details"]["field"] == missing
    r = requests.post(server.url + "/api/leagues", json=base, timeout=TIMEOUT)
    assert r.status_code == 401


def test_creator_is_commissioner_and_first_member(people):
    c = people[0]
    lg = make_league(c, rosterSize=4, lotOrder="fixed", currency="EUR")
    assert lg["commissionerId"] == c.id and lg["status"] == "setup"
    assert lg["memberCount"] == 1 and lg["spectatorCount"] == 0
    assert lg["settings"]["rosterSize"] == 4 and lg["settings"]["currency"] == "EUR"
    members = c.get(f"/api/leagues/{lg['id']}/members").json()["items"]
    assert [(m["userId"], m["role"]) for m in members] == [(c.id, "commissioner")]


# ---- RBAC: every mutating call by each role -------------------------------------------------------


def test_rbac_matrix(people):
    comm, mgr, spec, outsider = people
    lg = league_with(people)
    lid = lg["id"]
    afcon = [a["id"] for a in comm.all_items("/api/assets", competition="AFCON-2025")]
    calls = [
        ("PATCH", f"/api/leagues/{lid}", {"lotSeconds": 40}),
        ("POST", f"/api/leagues/{lid}/invite-code", {}),
        ("POST", f"/api/leagues/{lid}/watch-code", {}),
        ("PUT", f"/api/leagues/{lid}/assets", {"assetIds": afcon[:5]}),
        ("DELETE", f"/api/leagues/{lid}/members/{mgr.id}", None),
    ]
    expected = {outsider: 404, spec: 403, mgr: 403}
    for who, status in expected.items():
        for method, path, body in calls:
            if who is mgr and path.endswith(mgr.id):
                continue  # a manager may remove themselves (tested below)
            r = who.call(method, path, body)
            assert r.status_code == status, (who.id, method, path, r.text)
    # reads: members and spectators read, outsiders see nothing
    for who in (comm, mgr, spec):
        assert who.get(f"/api/leagues/{lid}").status_code == 200
        assert who.get(f"/api/leagues/{lid}/members").status_code == 200
        assert who.get(f"/api/leagues/{lid}/assets").status_code == 200
    for path in (f"/api/leagues/{lid}", f"/api/leagues/{lid}/members", f"/api/leagues/{lid}/assets"):
        r = outsider.get(path)
        assert r.status_code == 404 and code_of(r) == "not_found"
    assert outsider.call("DELETE", f"/api/leagues/{lid}").status_code == 404
    assert spec.call("DELETE", f"/api/leagues/{lid}").status_code == 403
    assert mgr.call("DELETE", f"/api/leagues/{lid}").status_code == 403
    # the commissioner may do all of it
    for method, path, body in calls:
        r = comm.call(method, path, body)
        assert r.status_code in (200, 204), (method, path, r.text)
    assert comm.call("DELETE", f"/api/leagues/{lid}").status_code == 204
    assert comm.get(f"/api/leagues/{lid}").status_code == 404


def test_codes_only_for_the_commissioner(people):
    comm, mgr, spec, _ = people
    lg = league_with(people)
    for who in (mgr, spec):
        got = who.get(f"/api/leagues/{lg['id']}").json()
        assert "inviteCode" not in got and "watchCode" not in got
    assert comm.get(f"/api/leagues/{lg['id']}").json()["inviteCode"] == lg["inviteCode"]


# ---- invites and watch codes ---------------------------------------------------------------------


def test_wrong_and_regex_like_codes_match_nothing(people):
    comm, _, _, outsider = people
    lg = make_league(comm)
    real = lg["inviteCode"]
    wrong = [".*", "%", "(.*)", "[A-Z]*", real[:-1], real + "2", real[:-1] + ".", "%25",
             real.lower()[:-1] + "*", "*" * 12, "." * 12, "%" * 12]
    for code in wrong:
        for method, path in (("GET", f"/api/invites/{code}"), ("POST", f"/api/invites/{code}/join"),
                             ("POST", f"/api/watch/{code}")):
            r = outsider.call(method, path, {} if method == "POST" else None)
            assert r.status_code == 404 and code_of(r) == "not_found", (code, r.text)
            assert real not in r.text and lg["id"] not in r.text
    # the code is case-insensitive on input but otherwise exact
    assert outsider.get(f"/api/invites/{real.lower()}").json()["leagueId"] == lg["id"]


def test_rotation_stops_the_old_code_at_once(people):
    comm, _, _, outsider = people
    lg = make_league(comm)
    new = comm.post(f"/api/leagues/{lg['id']}/invite-code").json()["inviteCode"]
    assert new != lg["inviteCode"] and len(new) >= 10
    assert outsider.get(f"/api/invites/{lg['inviteCode']}").status_code == 404
    assert outsider.get(f"/api/invites/{new}").status_code == 200
    watch = comm.post(f"/api/leagues/{lg['id']}/watch-code").json()["watchCode"]
    assert outsider.post(f"/api/watch/{lg['watchCode']}").status_code == 404
    assert outsider.post(f"/api/watch/{watch}").json()["role"] == "spectator"


def test_join_is_idempotent_and_full_league_is_409(server, people):
    comm = people[0]
    lg = make_league(comm, minManagers=1, maxManagers=2)
    a, b = Client(server), Client(server)
    code = lg["inviteCode"]
    first = a.post(f"/api/invites/{code}/join")
    assert first.status_code == 200 and first.json()["role"] == "manager"
    again = a.post(f"/api/invites/{code}/join")
    assert again.status_code == 200 and again.json()["userId"] == a.id
    assert comm.get(f"/api/leagues/{lg['id']}").json()["memberCount"] == 2
    preview = b.get(f"/api/invites/{code}").json()
    assert preview["joinable"] is False and preview["memberCount"] == 2
    r = b.post(f"/api/invites/{code}/join")
    assert r.status_code == 409 and code_of(r) == "league_full"
    # spectators are unlimited and never count toward maxManagers
    for _ in range(3):
        assert Client(server).post(f"/api/watch/{lg['watchCode']}").json()["role"] == "spectator"
    got = comm.get(f"/api/leagues/{lg['id']}").json()
    assert got["memberCount"] == 2 and got["spectatorCount"] == 3
    # a manager using the watch code stays a manager; the commissioner stays commissioner
    assert a.post(f"/api/watch/{lg['watchCode']}").json()["role"] == "manager"
    assert comm.post(f"/api/watch/{lg['watchCode']}").json()["role"] == "commissioner"
    assert comm.post(f"/api/invites/{code}/join").json()["role"] == "commissioner"


def test_many_leagues_and_the_right_one_by_code(server, people):
    c = Client(server)
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda i: make_league(c, name=f"L{i}"), range(1005)))
    target = made[737]
    assert people[3].get(f"/api/invites/{target['inviteCode']}").json()["leagueId"] == target["id"]
    mine = c.all_items("/api/leagues", limit=7)
    ids = [x["id"] for x in mine]
    assert len(ids) == len(set(ids)) == 1005
    assert set(ids) == {m["id"] for m in made}
    assert {x["role"] for x in mine} == {"commissioner"}


# ---- members --------------------------------------------------------------------------------------


def test_remove_leave_and_current_names(server, people):
    comm = people[0]
    lg = make_league(comm)
    a, b = Client(server), Client(server)
    for u in (a, b):
        u.post(f"/api/invites/{lg['inviteCode']}/join")
    a.call("PATCH", "/api/me", {"name": "Renamed Ann"})
    names = {m["userId"]: m["name"] for m in comm.get(f"/api/leagues/{lg['id']}/members").json()["items"]}
    assert names[a.id] == "Renamed Ann", "names are resolved at read time"
    assert a.call("DELETE", f"/api/leagues/{lg['id']}/members/{a.id}").status_code == 204
    assert comm.call("DELETE", f"/api/leagues/{lg['id']}/members/{b.id}").status_code == 204
    assert a.get(f"/api/leagues/{lg['id']}").status_code == 404
    r = comm.call("DELETE", f"/api/leagues/{lg['id']}/members/{comm.id}")
    assert r.status_code == 409
    r = comm.call("DELETE", f"/api/leagues/{lg['id']}/members/usr_nobody")
    assert r.status_code == 404


def test_member_events_reach_connected_members(server, people):
    comm = people[0]
    lg = make_league(comm)
    joiner, other_league_member = Client(server), Client(server)
    other = make_league(other_league_member)

    async def go():
        async with ws_connect(server) as ws, ws_connect(server) as ws_other:
            for sock, who, lid in ((ws, comm, lg["id"]), (ws_other, other_league_member, other["id"])):
                await sock.send(json.dumps({"type": "auth", "token": who.token}))
                assert json.loads(await sock.recv())["type"] == "ready"
                await sock.send(json.dumps({"type": "join_league", "leagueId": lid}))
                await sock.send(json.dumps({"type": "ping", "clientTimeMs": 1}))
                assert json.loads(await sock.recv())["type"] == "pong"
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, joiner.post, f"/api/invites/{lg['inviteCode']}/join")
            ev = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert ev["type"] == "member_joined" and ev["userId"] == joiner.id
            assert ev["name"] == joiner.user["name"] and ev["leagueId"] == lg["id"]
            await loop.run_in_executor(None, comm.call, "PATCH", f"/api/leagues/{lg['id']}",
                                       {"lotSeconds": 25})
            ev = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert ev["type"] == "league_updated" and ev["league"]["settings"]["lotSeconds"] == 25
            await loop.run_in_executor(None, joiner.call, "DELETE",
                                       f"/api/leagues/{lg['id']}/members/{joiner.id}")
            ev = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert ev == {"type": "member_left", "userId": joiner.id, "leagueId": lg["id"]}
            await loop.run_in_executor(None, comm.call, "DELETE", f"/api/leagues/{lg['id']}")
            ev = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert ev["type"] == "league_deleted"
            # nothing of that reached the member of another league
            await ws_other.send(json.dumps({"type": "ping", "clientTimeMs": 2}))
            assert json.loads(await ws_other.recv())["type"] == "pong"

    run_async(go())


def test_non_member_cannot_join_the_league_room(server, people):
    lg = make_league(people[0])

    async def go():
        async with ws_connect(server) as ws:
            await ws.send(json.dumps({"type": "auth", "token": people[3].token}))
            await ws.recv()
            await ws.send(json.dumps({"type": "join_league", "leagueId": lg["id"]}))
            err = json.loads(await ws.recv())
            assert err["type"] == "error" and err["code"] == "forbidden"

    run_async(go())


# ---- asset selection ------------------------------------------------------------------------------


def test_asset_selection_rules(people):
    comm = people[0]
    lg = make_league(comm, rosterSize=3, lotOrder="fixed")
    lid = lg["id"]
    afcon = [a["id"] for a in comm.all_items("/api/assets", competition="AFCON-2025")]
    default = comm.all_items(f"/api/leagues/{lid}/assets", limit=5)
    assert sorted(x["assetId"] for x in default) == sorted(afcon)
    assert all(x["status"] == "available" for x in default)
    pick = [afcon[i] for i in (7, 2, 19, 11)]
    assert comm.call("PUT", f"/api/leagues/{lid}/assets", {"assetIds": pick}).status_code == 200
    assert [x["assetId"] for x in comm.all_items(f"/api/leagues/{lid}/assets", limit=3)] == pick
    epl = [a["id"] for a in comm.all_items("/api/assets", competition="EPL-2025")][:1]
    cricket = [a["id"] for a in comm.all_items("/api/assets", sport="cricket", limit=1)][:1]
    bad = [
        ({"assetIds": pick[:2]}, None),  # fewer than rosterSize
        ({"assetIds": pick + [pick[0]]}, "duplicateIds"),
        ({"assetIds": pick + ["nt-atlantis"]}, "unknownIds"),
        ({"assetIds": pick + cricket}, "unknownIds"),  # another sport
        ({"assetIds": []}, None),
        ({"assetIds": "nt-mali"}, None),
        ({"assetIds": pick, "extra": 1}, None),
    ]
    for body, key in bad:
        r = comm.call("PUT", f"/api/leagues/{lid}/assets", body)
        assert r.status_code == 400, (body, r.text)
        if key:
            details = r.json()["error"]["details"]
            assert key in details and details[key], details
    assert epl  # a club of the same sport from another competition is a valid choice
    assert comm.call("PUT", f"/api/leagues/{lid}/assets", {"assetIds": pick + epl}).status_code == 200
