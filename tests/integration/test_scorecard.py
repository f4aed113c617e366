"""The cricket scorecard adapter against the real binary: a Cricsheet JSON scorecard of NZ v ENG
(1st ODI) becomes per-player stats lines. The oracle is the shipped stats sample of the same
match: imported under its match id, the scorecard must change nothing the CSV stored. Players are
matched by the people registry id among provider ids, else by name; unknown names are listed,
never guessed; a broken card writes nothing."""

import copy
import csv
import json
from pathlib import Path

import pytest
import requests

from conftest import TIMEOUT, Server
from test_auth import sign_in
from test_leagues import Client
from test_season import post_csv

HERE = Path(__file__).resolve().parent
CARD = json.loads((HERE / "data" / "cricsheet" / "nzeng-odi-1.json").read_text())
SAMPLE = HERE.parents[1] / "data" / "samples" / "cricket_stats_nzeng-odi-1.csv"
ADMIN = "scorecard-admin@example.com"
UNKNOWN = ["Will O'Rourke", "Henry Nicholls", "Blair Tickner", "Ben Sears"]  # not in the catalogue
STATS = ("runs", "wickets", "catches", "stumpings", "runOuts")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("gavel"), flags=("--admin-email", ADMIN))
    yield srv
    srv.stop_and_check()


class Admin:
    def __init__(self, server):
        s = sign_in(server, ADMIN)
        self.server, self.token = server, s["accessToken"]
        assert s["user"]["isAdmin"] is True

    def assets(self, *rows):
        """Upserts catalogue rows (the generic assets CSV of docs/catalogue.md)."""
        body = "id,sport,name,short_name,country,team,role,competitions,provider_ids\n"
        r = requests.post(self.server.url + "/api/admin/assets", data=body + "\n".join(rows),
                          headers={"Content-Type": "text/csv",
                                   "Authorization": f"Bearer {self.token}"}, timeout=TIMEOUT)
        assert r.status_code == 200, r.text


def league(who, sport="cricket", competition="NZENG-ODI-2025"):
    r = who.post("/api/leagues", {"name": "Scorecards", "sport": sport,
                                  "competition": competition})
    assert r.status_code == 201, r.text
    return r.json()


def post_card(who, lg_id, card, **params):
    body = card if isinstance(card, (bytes, str)) else json.dumps(card)
    return requests.post(f"{who.server.url}/api/leagues/{lg_id}/stats/import",
                         params={"provider": "cricsheet", **params}, data=body,
                         headers={"Content-Type": "application/json",
                                  "Authorization": f"Bearer {who.token}"}, timeout=TIMEOUT)


def sample_rows():
    with open(SAMPLE, newline="") as f:
        return list(csv.DictReader(f))


def lines(who, lg_id, asset_id):
    j = who.get(f"/api/leagues/{lg_id}/assets/{asset_id}/points").json()
    return {it["externalMatchId"]: tuple(it[k] for k in STATS) for it in j["items"]}


def all_lines(who, lg_id):
    return {r["player"]: lines(who, lg_id, r["player"]) for r in sample_rows()}


def set_registry_ids(admin):
    """Gives Harry Brook and Joe Root their Cricsheet ids (the card names them HC Brook, JE Root)."""
    people = CARD["info"]["registry"]["people"]
    admin.assets(f"ck-harry-brook,cricket,Harry Brook,,England,England,Batsman,"
                 f"ASHES-2025;NZENG-ODI-2025,cricsheet={people['HC Brook']}",
                 f"ck-joe-root,cricket,Joe Root,,England,England,Batsman,"
                 f"ASHES-2025;NZENG-ODI-2025,cricsheet={people['JE Root']}")


def test_a_scorecard_gives_the_lines_of_the_shipped_sample(server):
    comm = Client(server)
    lg = league(comm)
    # before the registry ids are known, the card's short names match nobody: listed, not guessed
    r = post_card(comm, lg["id"], CARD)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["matchId"] == "2025-10-26-new-zealand-england"
    assert sorted(rep["unmatched"]) == sorted(UNKNOWN + ["JE Root", "HC Brook"])
    assert (rep["created"], rep["updated"], rep["skipped"], rep["errors"]) == (16, 0, 0, [])

    set_registry_ids(Admin(server))
    r = post_card(comm, lg["id"], CARD)
    assert r.status_code == 200, r.text
    assert sorted(r.json()["unmatched"]) == sorted(UNKNOWN)
    assert (r.json()["created"], r.json()["updated"], r.json()["skipped"]) == (2, 0, 16)
    mid = rep["matchId"]
    got = all_lines(comm, lg["id"])
    want = {row["player"]: {mid: tuple(int(row[k]) for k in STATS)} for row in sample_rows()}
    assert got == want

    # the CSV sample and the card under the CSV's match id are the same lines: nothing changes
    r = post_csv(comm, f"/api/leagues/{lg['id']}/stats/import", SAMPLE.read_text())
    assert r.status_code == 200 and r.json()["created"] == 18, r.text
    csv_id = sample_rows()[0]["externalMatchId"]
    r = post_card(comm, lg["id"], CARD, matchId=csv_id)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["skipped"]) == (0, 0, 18)
    assert r.json()["matchId"] == csv_id


def test_scoring_changes_follow_a_corrected_scorecard(server):
    comm = Client(server)
    lg = league(comm)
    card = copy.deepcopy(CARD)
    assert post_card(comm, lg["id"], card).status_code == 200
    # a correction: Brook's last scoring shot was 2 more; the catch of Brook given to Latham
    eng = card["innings"][0]
    shots = [d for o in eng["overs"] for d in o["deliveries"] if d["batter"] == "HC Brook"]
    shots[0]["runs"]["batter"] += 2
    for o in eng["overs"]:
        for d in o["deliveries"]:
            for w in d.get("wickets", []):
                if w["player_out"] == "HC Brook":
                    w["fielders"] = [{"name": "Tom Latham"}]
    r = post_card(comm, lg["id"], card)
    assert r.status_code == 200, r.text
    assert r.json()["updated"] == 2 + 1  # Brook's runs, Latham's and Williamson's catches
    mid = r.json()["matchId"]
    assert lines(comm, lg["id"], "ck-harry-brook")[mid] == (137, 0, 0, 0, 0)
    assert lines(comm, lg["id"], "ck-tom-latham")[mid] == (24, 0, 4, 0, 0)
    assert lines(comm, lg["id"], "ck-kane-williamson")[mid] == (0, 0, 0, 0, 0)


def broken_cards():
    def with_(path, value):
        c = copy.deepcopy(CARD)
        node = c
        for k in path[:-1]:
            node = node[k]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return c
    return [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (with_(["innings"], KeyError), "invalid_scorecard"),
        (with_(["info", "dates"], ["26 Oct 2025"]), "invalid_scorecard"),
        (with_(["info", "teams"], ["New Zealand"]), "invalid_scorecard"),
        (with_(["innings", 1, "overs", 0, "deliveries", 0, "runs", "batter"], -4),
         "invalid_scorecard"),
        (with_(["innings", 1, "overs", 0, "deliveries", 0, "batter"], 7), "invalid_scorecard"),
        (with_(["innings", 0, "overs", 0, "deliveries", 0, "wickets"],
               [{"player_out": "Jamie Smith", "kind": "hit by a bus"}]), "invalid_scorecard"),
        (with_(["info", "players", "England", 0], "x" * 200), "invalid_scorecard"),
    ]


def test_a_broken_scorecard_is_refused_whole(server):
    comm = Client(server)
    lg = league(comm)
    for card, code in broken_cards():
        r = post_card(comm, lg["id"], card)
        assert r.status_code == 400, (code, r.text)
        rep = r.json()["error"]["details"]
        assert [e["code"] for e in rep["errors"]] == [code], rep
        assert rep["created"] == 0
    bad = broken_cards()[5][0]
    rep = post_card(comm, lg["id"], bad).json()["error"]["details"]
    assert rep["errors"][0]["line"] == 2, rep  # the second innings
    assert all(v == {} for v in all_lines(comm, lg["id"]).values())  # nothing written
    for bad_id in ("x" * 200, b"M2\xec"):  # too long; not UTF-8 (found by fuzz_router)
        r = post_card(comm, lg["id"], CARD, matchId=bad_id)
        assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "matchId", r.text


def test_an_ambiguous_player_is_an_error_unless_partial(server):
    admin = Admin(server)
    admin.assets("ck-matt-henry-2,cricket,Matt Henry,,New Zealand,Canterbury,Bowler,,")
    comm = Client(server)
    lg = league(comm)
    r = post_card(comm, lg["id"], CARD)
    assert r.status_code == 400, r.text
    errs = r.json()["error"]["details"]["errors"]
    pos = [n for t in CARD["info"]["players"].values() for n in t].index("Matt Henry") + 1
    assert [(e["line"], e["code"]) for e in errs] == [(pos, "ambiguous_team")]
    assert all(v == {} for v in all_lines(comm, lg["id"]).values())
    r = post_card(comm, lg["id"], CARD, partial="true")
    assert r.status_code == 200 and r.json()["created"] == 17, r.text
    assert lines(comm, lg["id"], "ck-matt-henry") == {}
    # the registry settles it: Henry's id on one of them
    henry = "a1b2c3d4"
    card = copy.deepcopy(CARD)
    card["info"]["registry"]["people"]["Matt Henry"] = henry
    admin.assets("ck-matt-henry,cricket,Matt Henry,,,Chennai Super Kings,Bowler,"
                 "NZENG-ODI-2025;IPL-2026,"
                 f"cricsheet={henry}")
    r = post_card(comm, lg["id"], card)
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    assert list(lines(comm, lg["id"], "ck-matt-henry").values()) == [(0, 2, 0, 0, 0)]


def test_who_may_import_a_scorecard(server):
    comm, mgr, spec, outsider = Client(server), Client(server), Client(server), Client(server)
    lg = league(comm)
    assert mgr.post(f"/api/invites/{lg['inviteCode']}/join").status_code == 200
    assert spec.post(f"/api/watch/{lg['watchCode']}").status_code == 200
    for who, status in ((outsider, 404), (spec, 403), (mgr, 403)):
        assert post_card(who, lg["id"], CARD).status_code == status
    football = league(comm, "football", "EPL-2025")
    r = post_card(comm, football["id"], CARD)
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "sport", r.text
    r = post_card(comm, lg["id"], CARD, provider="espn")
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "provider", r.text
    r = requests.post(f"{server.url}/api/leagues/{lg['id']}/stats/import?provider=cricsheet",
                      data=json.dumps(CARD), timeout=TIMEOUT,
                      headers={"Content-Type": "text/csv", "Authorization": f"Bearer {comm.token}"})
    assert r.status_code == 415, r.text


def test_stats_import_on_the_command_line(start_server, tmp_path):
    from conftest import run_gavel

    srv = start_server()
    comm = Client(srv)
    lg = league(comm)
    football = league(comm, "football", "EPL-2025")
    srv.stop_and_check()
    card = HERE / "data" / "cricsheet" / "nzeng-odi-1.json"
    base = ("stats", "import", "--data", srv.data, *srv.store_flags, "--league", lg["id"])
    out = run_gavel(*base, "--provider", "cricsheet", card)
    assert out.returncode == 0, out.stderr
    assert "created=16 updated=0 skipped=0 errors=0 match=2025-10-26-new-zealand-england" \
        in out.stdout, out.stdout
    unmatched = sorted(line.split(": unmatched: ")[1] for line in out.stderr.splitlines()
                       if ": unmatched: " in line)
    assert unmatched == sorted(UNKNOWN + ["JE Root", "HC Brook"]), out.stderr
    csv_id = sample_rows()[0]["externalMatchId"]
    out = run_gavel(*base, SAMPLE)
    assert out.returncode == 0 and "created=18 " in out.stdout, out
    out = run_gavel(*base, "--provider", "cricsheet", "--match-id", csv_id, card)
    assert out.returncode == 0 and "created=0 updated=0 skipped=16" in out.stdout, out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"info": {}, "innings": []}))
    out = run_gavel(*base, "--provider", "cricsheet", bad)
    assert out.returncode == 1 and f"{bad}:0: invalid_scorecard:" in out.stderr, out.stderr
    out = run_gavel("stats", "import", "--data", srv.data, *srv.store_flags, "--league",
                    football["id"], SAMPLE)
    assert out.returncode == 1 and "not a cricket league" in out.stderr, out.stderr
    assert run_gavel(*base, "--provider", "football-data", card).returncode == 2
    srv = start_server.restart(srv)
    comm.server = srv
    assert lines(comm, lg["id"], "ck-daryl-mitchell") == {
        csv_id: (78, 0, 1, 0, 0), "2025-10-26-new-zealand-england": (78, 0, 1, 0, 0)}
