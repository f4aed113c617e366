"""The season against the real binary: fixture and cricket-stat imports with per-row reports
(all or nothing unless partial, idempotent re-import), results edited and deleted, scoring
overrides (merge patch, null restores), standings and per-asset points checked against an
oracle written here from PRODUCT.md's rules (with one table also worked out by hand), the
shipped samples, RBAC, and `standings_updated` in the league room."""

import asyncio
import json
import time
from pathlib import Path

import requests

from conftest import TIMEOUT, run_async, ws_connect
from test_auction import M, bid, control, setup_auction, state
from test_leagues import Client

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"  # copies of the shared samples
CSV = {"Content-Type": "text/csv; charset=utf-8"}
HEADER = "externalMatchId,startsAt,home,away,venue,round,status,homeGoals,awayGoals"
FOOTBALL = {"win": 3, "draw": 1, "loss": 0, "goal": 1}


def post_csv(who, path, text, **params):
    body = text.encode() if isinstance(text, str) else text
    return requests.post(who.server.url + path, data=body, params=params,
                         headers={**CSV, "Authorization": f"Bearer {who.token}"}, timeout=TIMEOUT)


def sold_league(server):
    """Three managers, six AFCON teams sold in a fixed order: lots 1..6 to comm, a, b, comm, a, b.
    Returns (people, league, team names in lot order, owners {name: userId})."""
    people, lg, st, assets = setup_auction(server, 3, n_assets=6, rosterSize=2)
    aid = st["id"]
    names = {a["id"]: a["name"] for a in people[0].all_items("/api/assets",
                                                             competition="AFCON-2025")}
    owners = {}
    for lot in range(1, 7):
        buyer = people[(lot - 1) % 3]
        assert bid(buyer, aid, lot, M).status_code == 200
        control(people[0], aid, "close-lot")
        owners[names[assets[lot - 1]]] = buyer.id
    assert state(people[0], aid)["status"] == "completed"
    return people, lg, [names[a] for a in assets], owners


def football_table(rows, owners, rules):
    """The oracle: points, goals and wins per manager from finished rows (PRODUCT.md)."""
    per_team = {}
    for r in rows:
        if r.get("status", "finished") != "finished" or r["homeGoals"] == "":
            continue
        for me, gf, ga in ((r["home"], int(r["homeGoals"]), int(r["awayGoals"])),
                           (r["away"], int(r["awayGoals"]), int(r["homeGoals"]))):
            res = rules["win"] if gf > ga else rules["draw"] if gf == ga else rules["loss"]
            t = per_team.setdefault(me, [0, 0, 0])
            t[0] += res + rules["goal"] * gf
            t[1] += gf
            t[2] += gf > ga
    table = {}
    for team, uid in owners.items():
        m = table.setdefault(uid, [0, 0, 0])
        for i, v in enumerate(per_team.get(team, [0, 0, 0])):
            m[i] += v
    order = sorted(table, key=lambda u: (-table[u][0], -table[u][1], -table[u][2]))
    ranks, prev = {}, None
    for i, u in enumerate(order):
        key = tuple(table[u])
        ranks[u] = ranks[order[i - 1]] if prev == key else i + 1
        prev = key
    return table, ranks, per_team


def csv_text(rows):
    cols = HEADER.split(",")
    return "\n".join([HEADER] + [",".join(str(r.get(c, "")) for c in cols) for r in rows]) + "\n"


def check_standings(who, lg_id, rows, owners, rules):
    table, ranks, per_team = football_table(rows, owners, rules)
    got = who.get(f"/api/leagues/{lg_id}/standings").json()
    assert {it["userId"] for it in got["items"]} == set(table)
    for it in got["items"]:
        pts, goals, wins = table[it["userId"]]
        assert (it["points"], it["tiebreak"], it["rank"]) == \
            (pts, {"goals": goals, "wins": wins}, ranks[it["userId"]]), it
        for a in it["assets"]:
            assert a["points"] == per_team.get(a["name"], [0])[0], a
    assert [it["points"] for it in got["items"]] == sorted((it["points"] for it in got["items"]),
                                                           reverse=True)
    return got


def test_a_small_season_by_hand_and_by_the_oracle(server):
    people, lg, teams, owners = sold_league(server)
    comm, a, b = people
    t = teams
    rows = [
        dict(externalMatchId="M1", startsAt="2025-12-21T19:00:00Z", home=t[0], away=t[1],
             status="finished", homeGoals=2, awayGoals=0),
        dict(externalMatchId="M2", startsAt="2025-12-22T19:00:00Z", home=t[2], away=t[3],
             homeGoals=1, awayGoals=1),  # no status but both goals: finished
        dict(externalMatchId="M3", startsAt="2025-12-23T19:00:00+01:00", home=t[4].lower(),
             away=t[5], status="finished", homeGoals=0, awayGoals=3),  # names case-insensitive
        dict(externalMatchId="M4", startsAt="2025-12-24T19:00:00Z", home=t[0], away=t[2],
             status="finished", homeGoals=1, awayGoals=2),
        dict(externalMatchId="M5", startsAt="2030-01-01T19:00:00Z", home=t[1], away=t[5]),
    ]
    r = post_csv(comm, f"/api/leagues/{lg['id']}/fixtures/import", csv_text(rows))
    assert r.status_code == 200, r.text
    assert r.json() | {"errorCount": 0} == {"created": 5, "updated": 0, "skipped": 0, "errors": [],
                                           "errorCount": 0}
    for row in rows:  # what the rows mean, for the oracle
        row.setdefault("status", "finished" if row.get("homeGoals", "") != "" else "scheduled")
        row.setdefault("homeGoals", "")
        row.setdefault("awayGoals", "")
    rows[2]["home"] = t[4]
    got = check_standings(a, lg["id"], rows, owners, FOOTBALL)
    # by hand: comm owns t0 (5 + 1) and t3 (2) = 8; a owns t1 (0) and t4 (0); b owns t2 (2 + 5)
    # and t5 (6) = 13
    assert [(it["userId"], it["points"], it["rank"]) for it in got["items"]] == \
        [(b.id, 13, 1), (comm.id, 8, 2), (a.id, 0, 3)]
    assert [x["name"] for x in got["items"][1]["assets"]] == [t[0], t[3]], "in lot order"
    # one asset's history
    t0 = next(x["assetId"] for x in got["items"][1]["assets"] if x["name"] == t[0])
    hist = a.get(f"/api/leagues/{lg['id']}/assets/{t0}/points").json()
    assert hist["points"] == 6 and [h["points"] for h in hist["items"]] == [5, 1]
    assert [h["opponent"] for h in hist["items"]] == [t[1], t[2]]
    # re-import: idempotent; then one changed result is an update
    r = post_csv(comm, f"/api/leagues/{lg['id']}/fixtures/import", csv_text(rows))
    assert (r.json()["created"], r.json()["updated"], r.json()["skipped"]) == (0, 0, 5)
    rows[3]["homeGoals"], rows[3]["awayGoals"] = 2, 2
    r = post_csv(comm, f"/api/leagues/{lg['id']}/fixtures/import", csv_text(rows))
    assert (r.json()["created"], r.json()["updated"], r.json()["skipped"]) == (0, 1, 4)
    check_standings(b, lg["id"], rows, owners, FOOTBALL)
    # overrides: a merge patch re-scores at once; null restores the default
    rules = dict(FOOTBALL, win=5, goal=0)
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/scoring", {"rules": {"win": 5, "goal": 0}})
    assert r.status_code == 200 and r.json() == {"sport": "football", "rules": rules}, r.text
    check_standings(comm, lg["id"], rows, owners, rules)
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/scoring", {"rules": {"win": None}})
    assert r.json()["rules"] == dict(FOOTBALL, goal=0)
    check_standings(comm, lg["id"], rows, owners, dict(FOOTBALL, goal=0))
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/scoring", {"rules": {"draw": -1}})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "rules.draw"
    assert a.get(f"/api/leagues/{lg['id']}/scoring").json()["rules"] == dict(FOOTBALL, goal=0)


def test_edit_and_delete_a_fixture(server):
    people, lg, teams, owners = sold_league(server)
    comm = people[0]
    rows = [dict(externalMatchId="E1", startsAt="2025-12-21T19:00:00Z", home=teams[0],
                 away=teams[1], status="", homeGoals="", awayGoals="")]
    assert post_csv(comm, f"/api/leagues/{lg['id']}/fixtures/import", csv_text(rows)).status_code == 200
    fx = comm.get(f"/api/leagues/{lg['id']}/fixtures").json()["items"][0]
    assert (fx["status"], fx["homeGoals"]) == ("scheduled", None)
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/fixtures/{fx['id']}",
                  {"homeGoals": 3, "awayGoals": 1})
    assert r.status_code == 200 and (r.json()["status"], r.json()["homeGoals"]) == ("finished", 3)
    rows[0].update(status="finished", homeGoals=3, awayGoals=1)
    check_standings(comm, lg["id"], rows, owners, FOOTBALL)
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/fixtures/{fx['id']}", {"homeGoals": None})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "homeGoals"
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/fixtures/{fx['id']}",
                  {"startsAt": "2099-01-01T00:00:00Z"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "startsAt", \
        "a result for a fixture more than 24 h ahead is refused"
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/fixtures/{fx['id']}", {"winner": "x"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "winner"
    assert comm.call("DELETE", f"/api/leagues/{lg['id']}/fixtures/{fx['id']}").status_code == 204
    assert comm.call("DELETE", f"/api/leagues/{lg['id']}/fixtures/{fx['id']}").status_code == 404
    check_standings(comm, lg["id"], [], owners, FOOTBALL)


def test_bad_rows_are_reported_and_nothing_is_written_unless_partial(server):
    people, lg, teams, owners = sold_league(server)
    comm = people[0]
    base = f"/api/leagues/{lg['id']}/fixtures/import"
    good = f"G1,2025-12-21T19:00:00Z,{teams[0]},{teams[1]},,,finished,1,0"
    lines = [
        HEADER,
        good,                                                             # line 2
        f"B1,2025-12-21T19:00:00Z,Atlantis,{teams[1]},,,,,",              # 3 unknown team
        f"B2,21/12/2025,{teams[0]},{teams[1]},,,,,",                      # 4 bad date
        f"B3,2025-12-21T19:00:00Z,{teams[0]},{teams[1]},,,finished,-1,0",  # 5 negative number
        f"G1,2025-12-22T19:00:00Z,{teams[2]},{teams[3]},,,,,",            # 6 duplicate id
        f"B4,2099-12-21T19:00:00Z,{teams[2]},{teams[3]},,,finished,1,0",  # 7 result in future
        f"B5,2025-12-21T19:00:00Z,{teams[2]},{teams[3]},,,maybe,,",       # 8 bad status
        f"B6,2025-12-21T19:00:00Z,{teams[2]},{teams[3]}",                 # 9 wrong field count
        f"G2,2025-12-23T19:00:00Z,{teams[4]},{teams[5]},,,,,",            # 10 good
    ]
    text = "\n".join(lines) + "\n"
    r = post_csv(comm, base, text)
    assert r.status_code == 400, r.text
    errs = r.json()["error"]["details"]["errors"]
    assert [(e["line"], e["code"]) for e in errs] == [
        (3, "unknown_team"), (4, "invalid_date"), (5, "invalid_number"), (6, "duplicate_id"),
        (7, "result_in_future"), (8, "invalid_status"), (9, "wrong_column_count")], errs
    assert all(e["message"] for e in errs)
    assert comm.get(f"/api/leagues/{lg['id']}/fixtures").json()["items"] == [], "nothing written"
    r = post_csv(comm, base, text, partial="true")
    assert r.status_code == 200 and (r.json()["created"], len(r.json()["errors"])) == (2, 7)
    ids = [f["externalMatchId"] for f in comm.get(f"/api/leagues/{lg['id']}/fixtures").json()["items"]]
    assert ids == ["G1", "G2"]
    # header errors are 400 whatever partial says
    for head, code in (("externalMatchId,startsAt,home", "missing_column"),
                       (HEADER + ",winner", "unknown_column"),
                       (HEADER + ",home", "duplicate_column")):
        r = post_csv(comm, base, head + "\n", partial="true")
        assert r.status_code == 400 and r.json()["error"]["details"]["errors"][0]["code"] == code
    r = post_csv(comm, base, HEADER.encode() + b"\nX,2025-12-21T19:00:00Z,\xff,y,,,,,\n")
    assert r.status_code == 400 and r.json()["error"]["details"]["errors"][0]["code"] == "invalid_csv"
    r = post_csv(comm, base, b"x" * (10 * 1024 * 1024 + 1))
    assert r.status_code == 413
    r = requests.post(comm.server.url + base, json={"rows": []},
                      headers={"Authorization": f"Bearer {comm.token}"}, timeout=TIMEOUT)
    assert r.status_code == 415


def test_rbac_of_every_season_endpoint(server):
    people, lg, teams, owners = sold_league(server)
    comm, mgr = people[0], people[1]
    spec, outsider = Client(server), Client(server)
    assert spec.post(f"/api/watch/{lg['watchCode']}").status_code == 200
    L = f"/api/leagues/{lg['id']}"
    csv = csv_text([dict(externalMatchId="R1", startsAt="2025-12-21T19:00:00Z", home=teams[0],
                         away=teams[1])])
    asset = mgr.get(f"{L}/members").json()["items"][0]["roster"][0]["assetId"]
    reads = [f"{L}/fixtures", f"{L}/scoring", f"{L}/standings", f"{L}/assets/{asset}/points"]
    for path in reads:
        for who in (comm, mgr, spec):
            assert who.get(path).status_code == 200, (path, who.id)
        assert outsider.get(path).status_code == 404, path
    for who, status in ((outsider, 404), (spec, 403), (mgr, 403)):
        assert post_csv(who, f"{L}/fixtures/import", csv).status_code == status
        assert who.call("PUT", f"{L}/scoring", {"rules": {"win": 4}}).status_code == status
    assert post_csv(comm, f"{L}/fixtures/import", csv).status_code == 200
    fx = comm.get(f"{L}/fixtures").json()["items"][0]["id"]
    for who, status in ((outsider, 404), (spec, 403), (mgr, 403)):
        assert who.call("PUT", f"{L}/fixtures/{fx}", {"venue": "x"}).status_code == status
        assert who.call("DELETE", f"{L}/fixtures/{fx}").status_code == status
    assert post_csv(comm, f"{L}/stats/import", "x\n").status_code == 400, "football has no stats"


def test_standings_updated_reaches_the_league_room(server):
    people, lg, teams, owners = sold_league(server)
    comm, mgr = people[0], people[1]
    csv = csv_text([dict(externalMatchId="W1", startsAt="2025-12-21T19:00:00Z", home=teams[0],
                         away=teams[1], status="finished", homeGoals=1, awayGoals=0)])

    async def go():
        async with ws_connect(server) as ws:
            await ws.send(json.dumps({"type": "auth", "token": mgr.token}))
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(json.dumps({"type": "join_league", "leagueId": lg["id"]}))
            await ws.send(json.dumps({"type": "ping", "clientTimeMs": 1}))
            assert json.loads(await ws.recv())["type"] == "pong"  # joined
            loop = asyncio.get_running_loop()
            r = await loop.run_in_executor(None, post_csv, comm,
                                           f"/api/leagues/{lg['id']}/fixtures/import", csv)
            assert r.status_code == 200
            ev = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            assert ev == {"type": "standings_updated", "leagueId": lg["id"]}, ev

    run_async(go())


def test_shipped_samples_import_cleanly(server):
    comm = Client(server)
    for comp, sample in (("AFCON-2025", "fixtures_afcon-2025.csv"),
                         ("EPL-2025", "fixtures_epl-2025.csv")):
        r = comm.post("/api/leagues", {"name": comp, "sport": "football", "competition": comp})
        text = (SAMPLES / sample).read_text()
        rows = len(text.strip().splitlines()) - 1
        rep = post_csv(comm, f"/api/leagues/{r.json()['id']}/fixtures/import", text)
        assert rep.status_code == 200 and rep.json()["created"] == rows, rep.text
        assert rep.json()["errors"] == []
    r = comm.post("/api/leagues", {"name": "ODI", "sport": "cricket",
                                   "competition": "NZENG-ODI-2025"})
    text = (SAMPLES / "cricket_stats_nzeng-odi-1.csv").read_text()
    rep = post_csv(comm, f"/api/leagues/{r.json()['id']}/stats/import", text)
    assert rep.status_code == 200, rep.text
    assert rep.json()["created"] == len(text.strip().splitlines()) - 1


def test_cricket_points_with_milestones(server):
    comm, other = Client(server), Client(server)
    r = comm.post("/api/leagues", {"name": "Ashes", "sport": "cricket",
                                   "competition": "NZENG-ODI-2025", "rosterSize": 1,
                                   "minManagers": 1, "budget": 10 * M, "minBid": M,
                                   "minIncrement": M, "lotOrder": "fixed", "lotSeconds": 60,
                                   "antiSnipeSeconds": 0, "intermissionSeconds": 0,
                                   "reofferUnsold": 0})
    lg = r.json()
    assert other.post(f"/api/invites/{lg['inviteCode']}/join").status_code == 200
    players = ["ck-michael-bracewell", "ck-matt-henry"]
    comm.call("PUT", f"/api/leagues/{lg['id']}/assets", {"assetIds": players})
    aid = comm.post(f"/api/leagues/{lg['id']}/auction").json()["id"]
    control(comm, aid, "begin")
    assert bid(comm, aid, 1, M).status_code == 200
    control(comm, aid, "close-lot")
    assert bid(other, aid, 2, M).status_code == 200
    control(comm, aid, "close-lot")
    stats = ("externalMatchId,player,runs,wickets,catches,stumpings,runOuts\n"
             "T1,ck-michael-bracewell,104,1,1,0,0\n"
             "T1,Matt Henry,12,5,0,0,1\n")
    r = post_csv(comm, f"/api/leagues/{lg['id']}/stats/import", stats)
    assert r.status_code == 200 and r.json()["created"] == 2, r.text

    def table():
        items = comm.get(f"/api/leagues/{lg['id']}/standings").json()["items"]
        return {it["userId"]: (it["points"], it["tiebreak"]) for it in items}

    # defaults: run 1, wicket 20, catch 10, stumping 25, run-out 20; milestones off
    assert table() == {comm.id: (104 + 20 + 10, {"runs": 104, "wickets": 1}),
                       other.id: (12 + 100 + 20, {"runs": 12, "wickets": 5})}
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/scoring",
                  {"milestones": {"halfCentury": {"enabled": True}, "century": {"enabled": True},
                                  "fiveWicketHaul": {"enabled": True}}})
    assert r.status_code == 200, r.text
    assert table() == {comm.id: (104 + 20 + 10 + 10 + 25, {"runs": 104, "wickets": 1}),
                       other.id: (12 + 100 + 20 + 25, {"runs": 12, "wickets": 5})}


def test_leaderboard_and_points_over_time(server):
    people, lg, teams, owners = sold_league(server)
    comm = people[0]
    t = teams
    rows = [
        dict(externalMatchId="S1", startsAt="2025-12-21T12:00:00Z", home=t[0], away=t[1],
             status="finished", homeGoals=2, awayGoals=1),
        dict(externalMatchId="S2", startsAt="2025-12-21T18:00:00Z", home=t[2], away=t[3],
             status="finished", homeGoals=0, awayGoals=0),
        dict(externalMatchId="S3", startsAt="2025-12-23T23:30:00-02:00", home=t[4], away=t[0],
             status="finished", homeGoals=1, awayGoals=4),  # 2025-12-24 in UTC
        dict(externalMatchId="S4", startsAt="2025-12-26T18:00:00Z", home=t[5], away=t[1],
             status="", homeGoals="", awayGoals=""),
    ]
    r = post_csv(comm, f"/api/leagues/{lg['id']}/fixtures/import", csv_text(rows))
    assert r.status_code == 200, r.text
    rows[3]["status"] = "scheduled"
    # the oracle, day by day
    days = {"2025-12-21": rows[:2], "2025-12-24": rows[2:3]}
    running, expected = {}, {}
    for day in sorted(days):
        table, _, _ = football_table(days[day], owners, FOOTBALL)
        for uid in set(owners.values()):
            running[uid] = running.get(uid, 0) + table.get(uid, [0])[0]
            expected.setdefault(uid, []).append(running[uid])
    got = comm.get(f"/api/leagues/{lg['id']}/standings/series").json()
    assert got["by"] == "date" and got["labels"] == sorted(days)
    assert {s["userId"]: s["points"] for s in got["series"]} == expected
    # every selected asset, owned or not, with its points
    _, _, per_team = football_table(rows, owners, FOOTBALL)
    board = comm.get(f"/api/leagues/{lg['id']}/leaderboard").json()["items"]
    assert {x["name"]: x["points"] for x in board} == {n: per_team.get(n, [0])[0] for n in t}
    assert {x["name"]: x["ownerId"] for x in board} == owners
    assert [x["points"] for x in board] == sorted((x["points"] for x in board), reverse=True)
    assert board[0]["rank"] == 1


def post_json(who, path, text, **params):
    return requests.post(who.server.url + path, data=text, params=params, timeout=TIMEOUT,
                         headers={"Content-Type": "application/json",
                                  "Authorization": f"Bearer {who.token}"})


def test_football_data_adapter_on_a_recorded_response(server):
    comm = Client(server)
    lg = comm.post("/api/leagues", {"name": "PL", "sport": "football",
                                    "competition": "EPL-2025"}).json()
    path = f"/api/leagues/{lg['id']}/fixtures/import"
    text = (Path(__file__).parent / "data" / "football_data_matches.json").read_text()
    r = post_json(comm, path, text, provider="football-data")
    assert r.status_code == 400, "one match names a team nobody has: all or nothing"
    errs = r.json()["error"]["details"]["errors"]
    assert [(e["line"], e["code"]) for e in errs] == [(5, "unknown_team")], errs
    r = post_json(comm, path, text, provider="football-data", partial="true")
    assert r.status_code == 200 and (r.json()["created"], len(r.json()["errors"])) == (4, 1)
    fx = {f["externalMatchId"]: f for f in comm.get(f"/api/leagues/{lg['id']}/fixtures").json()["items"]}
    assert (fx["537785"]["homeName"], fx["537785"]["awayName"]) == ("Liverpool FC",
                                                                    "AFC Bournemouth")
    assert (fx["537785"]["status"], fx["537785"]["homeGoals"], fx["537785"]["awayGoals"]) == \
        ("finished", 4, 2)
    assert fx["537785"]["round"] == "Matchday 1" and fx["537785"]["startsAt"] == \
        "2025-08-15T19:00:00.000Z"
    # an unknown provider id falls back to the exact name
    assert fx["537786"]["homeName"] == "Arsenal FC" and fx["537786"]["homeGoals"] == 1
    assert (fx["537787"]["status"], fx["537787"]["awayGoals"]) == ("finished", 3)  # AWARDED
    assert (fx["537795"]["status"], fx["537795"]["homeGoals"]) == ("scheduled", None)  # TIMED
    r = post_json(comm, path, text, provider="football-data", partial="true")
    assert (r.json()["created"], r.json()["updated"], r.json()["skipped"]) == (0, 0, 4)
    # malformed responses never write anything
    for bad, code in (("{not json", "invalid_json"), ("[1, 2]", "invalid_json"),
                      ('{"errorCode": 429, "message": "You reached your request limit."}',
                       "missing_matches"),
                      ('{"matches": [7]}', "invalid_match")):
        r = post_json(comm, path, bad, provider="football-data", partial="true")
        if code == "invalid_match":
            assert r.status_code == 200 and r.json()["errors"][0]["code"] == code, r.text
        else:
            assert r.status_code == 400 and \
                r.json()["error"]["details"]["errors"][0]["code"] == code, r.text
    assert post_csv(comm, path, text, provider="football-data").status_code == 415
    assert post_json(comm, path, text, provider="opta").status_code == 400


def test_fixtures_import_on_the_command_line(start_server, tmp_path):
    from conftest import run_gavel

    srv = start_server()
    comm = Client(srv)
    lg = comm.post("/api/leagues", {"name": "PL", "sport": "football",
                                    "competition": "EPL-2025"}).json()
    srv.stop_and_check()
    data = Path(__file__).parent / "data" / "football_data_matches.json"
    cli = ("fixtures", "import", "--data", srv.data, *srv.store_flags)
    out = run_gavel(*cli, "--league", lg["id"], "--provider", "football-data", data)
    assert out.returncode == 1 and f"{data}:5: unknown_team:" in out.stderr, out.stderr
    assert "nothing was imported" in out.stderr
    out = run_gavel(*cli, "--league", lg["id"], "--provider", "football-data", "--partial", "1",
                    data)
    assert out.returncode == 0 and "created=4 updated=0 skipped=0 errors=1" in out.stdout, out
    sample = SAMPLES / "fixtures_epl-2025.csv"
    out = run_gavel(*cli, "--league", lg["id"], sample)
    rows = len(sample.read_text().strip().splitlines()) - 1
    assert out.returncode == 0 and f"created={rows} " in out.stdout, out
    out = run_gavel(*cli, "--league", "lg_nope", sample)
    assert out.returncode == 1 and "no league lg_nope" in out.stderr
    assert run_gavel(*cli, sample).returncode == 2
    srv = start_server.restart(srv)
    comm.server = srv
    assert len(comm.all_items(f"/api/leagues/{lg['id']}/fixtures")) == 4 + rows


def test_fixture_file_as_a_multipart_upload(server):
    people, lg, teams, owners = sold_league(server)
    comm = people[0]
    text = csv_text([dict(externalMatchId="U1", startsAt="2025-12-21T19:00:00Z", home=teams[0],
                          away=teams[1], status="finished", homeGoals=1, awayGoals=0)])
    url = f"{server.url}/api/leagues/{lg['id']}/fixtures/import"
    auth = {"Authorization": f"Bearer {comm.token}"}
    r = requests.post(url, files={"file": ("fixtures.csv", text, "text/csv")},
                      data={"note": "from a form"}, headers=auth, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    r = requests.post(url, files={"other": ("x.csv", text, "text/csv")}, headers=auth,
                      timeout=TIMEOUT)
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "file"
    r = requests.post(url, data=b"--B\r\nbroken", timeout=TIMEOUT,
                      headers={**auth, "Content-Type": "multipart/form-data; boundary=B"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "file"


def test_kept_standings_follow_every_write_even_from_another_process(server, tmp_path):
    """Standings are kept between reads; any write makes them stale: a rename in this server,
    a result imported by `gavel fixtures import` (another process) into the running server's
    database."""
    from conftest import run_gavel

    people, lg, teams, owners = sold_league(server)
    comm = people[0]
    L = f"/api/leagues/{lg['id']}"
    first = comm.get(f"{L}/standings").json()
    assert comm.get(f"{L}/standings").json() == first, "unchanged: the same answer"
    assert all(it["points"] == 0 for it in first["items"])
    comm.call("PATCH", "/api/me", {"name": "Renamed Ann"})
    names = {it["userId"]: it["name"] for it in comm.get(f"{L}/standings").json()["items"]}
    assert names[comm.id] == "Renamed Ann"
    f = tmp_path / "one.csv"
    f.write_text(csv_text([dict(externalMatchId="X1", startsAt="2025-12-21T19:00:00Z",
                                home=teams[0], away=teams[1], status="finished", homeGoals=2,
                                awayGoals=0)]))
    out = run_gavel("fixtures", "import", "--data", server.data, *server.store_flags,
                    "--league", lg["id"], f)
    assert out.returncode == 0, out.stderr
    pts = {it["userId"]: it["points"] for it in comm.get(f"{L}/standings").json()["items"]}
    assert pts[owners[teams[0]]] == 3 + 2, pts


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def test_lot_card_carries_the_next_fixture(server):
    """The asset on the block carries its live or next scheduled fixture (opponent, home or away,
    date), in the snapshot and in lot_opened; null when it has none."""
    people, lg, st, assets = setup_auction(server, 2, n_assets=3, begin=False)
    comm = people[0]
    names = {a["id"]: a["name"] for a in comm.all_items("/api/assets", competition="AFCON-2025")}
    now = int(time.time())
    a, b, c = assets
    rows = [dict(externalMatchId="P1", startsAt=iso(now - 5 * 86400), home=a, away=b,
                 status="finished", homeGoals=2, awayGoals=1),
            dict(externalMatchId="N2", startsAt=iso(now + 9 * 86400), home=a, away=c,
                 status="scheduled"),
            dict(externalMatchId="N1", startsAt=iso(now + 2 * 86400), home=b, away=a,
                 status="scheduled", round="Round 2"),
            dict(externalMatchId="X1", startsAt=iso(now + 1 * 86400), home=b, away=c,
                 status="postponed")]
    r = post_csv(comm, f"/api/leagues/{lg['id']}/fixtures/import", csv_text(rows))
    assert r.status_code == 200, r.text
    ids = {f["externalMatchId"]: f["id"] for f in comm.all_items(f"/api/leagues/{lg['id']}/fixtures")}
    aid = control(comm, st["id"], "begin")["id"]

    lot = state(comm, aid)["lot"]
    assert lot["asset"]["id"] == a
    assert lot["asset"]["nextFixture"] == {
        "fixtureId": ids["N1"], "startsAt": iso(now + 2 * 86400).replace("Z", ".000Z"),
        "opponentId": b, "opponentName": names[b], "home": False, "round": "Round 2",
        "status": "scheduled"}
    assert bid(comm, aid, 1, M).status_code == 200
    control(comm, aid, "close-lot")
    lot = state(comm, aid)["lot"]  # b: its only upcoming fixture is N1 at home (X1 postponed)
    assert lot["asset"]["id"] == b and lot["asset"]["nextFixture"]["fixtureId"] == ids["N1"]
    assert lot["asset"]["nextFixture"]["home"] is True
    assert lot["asset"]["nextFixture"]["opponentName"] == names[a]
    # the fixture is played: c's only match left is gone once it is deleted
    assert comm.call("DELETE", f"/api/leagues/{lg['id']}/fixtures/{ids['N2']}").status_code == 204
    assert bid(comm, aid, 2, M).status_code == 200
    control(comm, aid, "close-lot")
    lot = state(comm, aid)["lot"]
    assert lot["asset"]["id"] == c and lot["asset"]["nextFixture"] is None
    events = comm.all_items(f"/api/auctions/{aid}/events")
    opened = [e["lot"]["asset"] for e in events if e["type"] == "lot_opened"]
    assert [o["id"] for o in opened] == [a, b, c]
    assert [o["nextFixture"] and o["nextFixture"]["fixtureId"] for o in opened] == \
        [ids["N1"], ids["N1"], None]
