"""The catalogue against the real binary: the shipped sports, competitions and assets and their
shapes, paging through every asset without loss at any page size, literal case-insensitive search,
parameter validation, authentication, the admin import (CSV and JSON, all-or-nothing and partial,
idempotent) and `gavel import`."""

import base64
import csv
import json
import uuid

import pytest
import requests

from conftest import REPO, TIMEOUT, Server, build_request, run_gavel
from test_auth import bearer, sign_in

ADMIN = "catalogue-admin@example.com"
ASSET_KEYS = {"id", "sport", "name", "shortName", "country", "team", "role", "providerIds",
              "competitions"}


def shipped(name):
    with open(REPO / "data" / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class Client:
    def __init__(self, server, email=None):
        s = sign_in(server, email)
        self.server, self.token, self.user = server, s["accessToken"], s["user"]

    def get(self, path, params=None, token=True):
        h = bearer(self.token) if token else {}
        return requests.get(self.server.url + path, params=params, headers=h, timeout=TIMEOUT)

    def post(self, path, data, content_type, params=None):
        h = {**bearer(self.token), "Content-Type": content_type}
        if not isinstance(data, (str, bytes)):
            data = json.dumps(data)
        return requests.post(self.server.url + path, data=data, params=params, headers=h,
                             timeout=30)

    def pages(self, limit, **params):
        """Every page of /api/assets with this limit: a list of item lists."""
        out, cursor = [], None
        for _ in range(2000):
            p = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
            r = self.get("/api/assets", p)
            assert r.status_code == 200, r.text
            j = r.json()
            assert set(j) >= {"items", "nextCursor"}, j
            out.append(j["items"])
            cursor = j["nextCursor"]
            if cursor is None:
                return out
            assert len(j["items"]) == limit, "only the last page may be short"
        raise AssertionError("paging did not end")

    def assets(self, limit=500, **params):
        return [a for page in self.pages(limit, **params) for a in page]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("gavel"), flags=("--admin-email", ADMIN))
    yield srv
    srv.stop_and_check()


@pytest.fixture(scope="module")
def user(server):
    return Client(server)


@pytest.fixture(scope="module")
def admin(server):
    c = Client(server, ADMIN)
    assert c.user["isAdmin"] is True
    return c


def error_of(r, status, code="invalid_request"):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    return err


def tag():
    return uuid.uuid4().hex[:8]


# ---- sports and competitions --------------------------------------------------------------------


def test_sports_with_their_scoring(user):
    r = user.get("/api/sports")
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["nextCursor"] is None
    sports = {s["key"]: s for s in j["items"]}
    assert set(sports) == {"football", "cricket"}
    fb, ck = sports["football"], sports["cricket"]
    assert (fb["name"], fb["assetLabel"], fb["assetPlural"]) == ("Football", "Team", "Teams")
    assert fb["scoring"] == {"sport": "football",
                             "rules": {"win": 3, "draw": 1, "loss": 0, "goal": 1}}
    assert ck["assetLabel"] == "Player"
    assert ck["scoring"]["rules"]["wicket"] == 20
    assert ck["scoring"]["milestones"]["century"] == {"enabled": False, "threshold": 100,
                                                      "points": 25}


def shipped_counts():
    """Assets per competition, counted from the shipped asset files themselves."""
    counts = {}
    for name in ("football_clubs.csv", "national_teams.csv", "cricket_players.csv"):
        for row in shipped(name):
            for code in filter(None, row["competitions"].split(";")):
                counts[code] = counts.get(code, 0) + 1
    return counts


def test_competitions_by_sport_with_counts(user):
    rows = shipped("competitions.csv")
    everything = user.get("/api/competitions").json()["items"]
    assert [c["code"] for c in everything] == sorted(r["code"] for r in rows)
    counts = {c["code"]: c["assetCount"] for c in everything}
    want = shipped_counts()
    assert counts == {r["code"]: want.get(r["code"], 0) for r in rows}
    for sport in ("football", "cricket"):
        got = user.get("/api/competitions", {"sport": sport}).json()["items"]
        want = {r["code"]: r for r in rows if r["sport"] == sport}
        assert {c["code"] for c in got} == set(want)
        for c in got:
            assert set(c) >= {"code", "name", "sport", "season", "assetCount"}
            assert (c["name"], c["sport"], c["season"]) == (
                want[c["code"]]["name"], sport, want[c["code"]]["season"])
    error_of(user.get("/api/competitions", {"sport": "curling"}), 400)


# ---- assets -------------------------------------------------------------------------------------


def test_asset_shape_and_mapping(user):
    epl = user.assets(competition="EPL-2025")
    assert len(epl) == shipped_counts()["EPL-2025"]
    assert [a["id"] for a in epl] == [r["id"] for r in sorted(
        (r for r in shipped("football_clubs.csv") if "EPL-2025" in r["competitions"].split(";")),
        key=lambda r: (r["name"].casefold(), r["id"]))]  # by name, case-insensitive, then id
    for a in epl:
        assert set(a) >= ASSET_KEYS, a
        assert a["sport"] == "football" and "EPL-2025" in a["competitions"]
        assert isinstance(a["providerIds"], dict) and isinstance(a["competitions"], list)
    arsenal = next(a for a in epl if a["name"] == "Arsenal FC")
    assert arsenal == {"id": "fb-arsenal-fc", "sport": "football", "name": "Arsenal FC",
                       "shortName": "ARS", "country": "England", "team": None, "role": None,
                       "providerIds": {"footballData": "57"},
                       "competitions": ["EPL-2025", "UCL-2025"]}
    morocco = next(a for a in user.assets(q="morocco") if a["id"] == "nt-morocco")
    assert morocco["country"] == "Morocco" and morocco["providerIds"] == {}
    assert morocco["competitions"] == ["AFCON-2025", "WC-2026"]
    head = next(a for a in user.assets(q="Travis Head"))
    assert (head["sport"], head["team"], head["country"], head["role"]) == (
        "cricket", "Sunrisers Hyderabad", "Australia", "Batsman")


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def check_order(items):
    """SQLite's NOCASE folds ASCII letters only; code point order is UTF-8 byte order."""
    keys = [(a["name"].translate(ASCII_LOWER), a["id"]) for a in items]
    assert keys == sorted(keys), "ordered by name case-insensitively, then id"


@pytest.mark.parametrize("params", [{}, {"sport": "cricket"}, {"competition": "IPL-2026"}])
def test_paging_gives_every_asset_once_at_any_size(user, params):
    small = user.pages(7, **params)
    big = user.pages(500, **params)
    ids7 = [a["id"] for page in small for a in page]
    ids500 = [a["id"] for page in big for a in page]
    assert ids7 == ids500
    assert len(ids7) == len(set(ids7))
    floor = {"sport": 285, "competition": 251}.get(next(iter(params), ""), 395)
    assert len(ids7) >= floor
    assert len(small) == -(-len(ids7) // 7)
    check_order([a for page in big for a in page])


def test_search_is_case_insensitive_and_literal(user, admin):
    found = user.assets(q="arsenal")
    assert [a["name"] for a in found] == ["Arsenal FC"]
    assert [a["name"] for a in user.assets(q="ARSENAL fc")] == ["Arsenal FC"]
    assert [a["name"] for a in user.assets(q="d'Ivoire")] == ["Côte d'Ivoire"]
    assert [a["name"] for a in user.assets(q="Bodø")] == ["FK Bodø/Glimt"]
    t = tag()
    body = ("id,sport,name\n"
            f"lit-{t}-1,football,{t} 100% Club\n"
            f"lit-{t}-2,football,{t} A_B United\n"
            f"lit-{t}-3,football,{t} Dot.Star (x)\n")
    r = admin.post("/api/admin/assets", body, "text/csv")
    assert r.status_code == 200, r.text
    for q, want in [("%", [f"{t} 100% Club"]), ("_", [f"{t} A_B United"]),
                    ("t.S", [f"{t} Dot.Star (x)"]), (".*", []), ("%%", []), ("a%b", []),
                    ("[a-z]", []), ("(x)", [f"{t} Dot.Star (x)"]), ("^Ars", []),
                    ("\\", []), ("Arsenal|Chelsea", [])]:
        names = [a["name"] for a in user.assets(q=q)]
        assert names == want, (q, names)
    both = user.assets(q="united", competition="EPL-2025")
    assert sorted(a["name"] for a in both) == [
        "Leeds United FC", "Manchester United FC", "Newcastle United FC", "West Ham United FC"]


def test_bad_parameters_are_400_naming_the_field(user):
    for limit in ("0", "501", "-1", "abc", "1.5", "", "7x"):
        err = error_of(user.get("/api/assets", {"limit": limit}), 400)
        assert err["details"]["field"] == "limit", limit
    good = user.get("/api/assets", {"limit": 2}).json()["nextCursor"]
    assert good
    raw = base64.urlsafe_b64encode(b"no separator").rstrip(b"=").decode()
    empty_id = base64.urlsafe_b64encode(b"Name\n").rstrip(b"=").decode()
    for cursor in ("!!!", "a", good + "=", good[:-1] + "+", raw, empty_id, ""):
        err = error_of(user.get("/api/assets", {"cursor": cursor}), 400)
        assert err["details"]["field"] == "cursor", cursor
    assert error_of(user.get("/api/assets", {"sport": "curling"}), 400)["details"]["field"] == \
        "sport"
    assert error_of(user.get("/api/assets", {"competition": "NOPE-1"}), 400)["details"][
        "field"] == "competition"
    assert error_of(user.get("/api/assets", {"q": "x" * 300}), 400)["details"]["field"] == "q"
    r = requests.get(user.server.url + "/api/assets?q=%FF", headers=bearer(user.token),
                     timeout=TIMEOUT)
    assert error_of(r, 400)["details"]["field"] == "q"


def test_a_signed_in_user_is_required(user):
    for path in ("/api/sports", "/api/competitions", "/api/assets"):
        error_of(user.get(path, token=False), 401, "unauthorized")
        r = requests.get(user.server.url + path, headers=bearer("nope"), timeout=TIMEOUT)
        assert r.status_code == 401
    r = requests.post(user.server.url + "/api/admin/assets", data="id\n",
                      headers={"Content-Type": "text/csv"}, timeout=TIMEOUT)
    assert r.status_code == 401


# ---- the admin import ---------------------------------------------------------------------------


def test_import_is_for_admins_only(user):
    error_of(user.post("/api/admin/assets", "id,sport,name\nx,football,X\n", "text/csv"), 403,
             "forbidden")
    error_of(user.post("/api/admin/assets", {"assets": []}, "application/json"), 403,
             "forbidden")


def csv_of(t, bad=True):
    rows = [
        "id,sport,name,short_name,country,team,role,competitions,provider_ids",
        f"imp-{t}-1,football,Imported {t} One,IO1,England,,,EPL-2025;UCL-2025,footballData=9{t[:3]}",
        f"imp-{t}-2,cricket,Imported {t} Two,,India,\"Team, Two\",Bowler,IPL-2026,",
    ]
    if bad:
        rows.append(f"imp-{t}-3,football,Imported {t} Three,,,,,NOPE-2025,")  # line 4
    rows.append(f"imp-{t}-4,cricket,\"Imported {t} \"\"Four\"\"\",,,,,,cricinfo=44")
    return "\r\n".join(rows) + "\r\n"


def test_csv_import_all_or_nothing_then_partial_then_idempotent(user, admin):
    t = tag()
    before = {c["code"]: c["assetCount"] for c in user.get("/api/competitions").json()["items"]}
    err = error_of(admin.post("/api/admin/assets", csv_of(t), "text/csv"), 400)
    assert err["details"]["errors"] == [
        {"line": 4, "code": "unknown_competition", "message": err["details"]["errors"][0]["message"]}]
    assert "NOPE-2025" in err["details"]["errors"][0]["message"]
    assert user.assets(q=f"Imported {t}") == [], "nothing is written without partial"

    r = admin.post("/api/admin/assets", csv_of(t), "text/csv", {"partial": "true"})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert (rep["created"], rep["updated"], rep["skipped"]) == (3, 0, 0)
    assert [(e["line"], e["code"]) for e in rep["errors"]] == [(4, "unknown_competition")]
    listed = {a["id"]: a for a in user.assets(q=f"Imported {t}")}
    assert set(listed) == {f"imp-{t}-1", f"imp-{t}-2", f"imp-{t}-4"}
    one = listed[f"imp-{t}-1"]
    assert one["providerIds"] == {"footballData": f"9{t[:3]}"}
    assert one["competitions"] == ["EPL-2025", "UCL-2025"] and one["shortName"] == "IO1"
    assert listed[f"imp-{t}-2"]["team"] == "Team, Two"
    assert listed[f"imp-{t}-4"]["name"] == f'Imported {t} "Four"'
    assert f"imp-{t}-1" in [a["id"] for a in user.assets(competition="EPL-2025")]
    after = {c["code"]: c["assetCount"] for c in user.get("/api/competitions").json()["items"]}
    assert after["EPL-2025"] == before["EPL-2025"] + 1
    assert after["IPL-2026"] == before["IPL-2026"] + 1

    again = admin.post("/api/admin/assets", csv_of(t, bad=False), "text/csv").json()
    assert (again["created"], again["updated"], again["skipped"], again["errors"]) == (0, 0, 3, [])
    changed = csv_of(t, bad=False).replace(f"Imported {t} One", f"Imported {t} Uno")
    rep = admin.post("/api/admin/assets", changed, "text/csv").json()
    assert (rep["created"], rep["updated"], rep["skipped"]) == (0, 1, 2)
    assert [a["name"] for a in user.assets(q=f"{t} Uno")] == [f"Imported {t} Uno"]


def test_json_import(user, admin):
    t = tag()
    body = {"assets": [
        {"id": f"js-{t}-1", "sport": "football", "name": f"Json {t} One", "shortName": "J1",
         "country": "Wales", "team": None, "role": None, "providerIds": {"opta": "t1"},
         "competitions": ["UCL-2025"]},
        {"id": f"js-{t}-2", "sport": "cricket", "name": f"Json {t} Two", "colour": "red"},
        {"id": f"js-{t}-3", "sport": "cricket", "name": f"Json {t} Three", "role": "Batsman"},
    ]}
    err = error_of(admin.post("/api/admin/assets", body, "application/json"), 400)
    assert [(e["line"], e["code"]) for e in err["details"]["errors"]] == [(2, "unknown_field")]
    assert user.assets(q=f"Json {t}") == []
    rep = admin.post("/api/admin/assets", body, "application/json", {"partial": "1"}).json()
    assert (rep["created"], rep["updated"], len(rep["errors"])) == (2, 0, 1)
    got = {a["id"]: a for a in user.assets(q=f"Json {t}")}
    assert got[f"js-{t}-1"]["providerIds"] == {"opta": "t1"}
    assert got[f"js-{t}-1"]["competitions"] == ["UCL-2025"]
    assert got[f"js-{t}-3"]["role"] == "Batsman"
    del body["assets"][1]
    rep = admin.post("/api/admin/assets", body, "application/json").json()
    assert (rep["created"], rep["updated"], rep["skipped"]) == (0, 0, 2)
    # the envelope is strict
    r = admin.post("/api/admin/assets", {"assets": [], "extra": 1}, "application/json")
    assert error_of(r, 400)["details"]["field"] == "extra"
    r = admin.post("/api/admin/assets", {"assets": {}}, "application/json")
    assert error_of(r, 400)["details"]["field"] == "assets"
    error_of(admin.post("/api/admin/assets", "{", "application/json"), 400, "invalid_json")


def test_header_errors_are_400_even_with_partial(admin):
    for body, code in [("id,sport,name,colour\nx,football,X,red\n", "unknown_column"),
                       ("id,sport,name,id\n", "duplicate_column"),
                       ("id,name\nx,X\n", "missing_column"),
                       ("", "missing_header"),
                       ("id,sport,name\nx,football,\"open\n", "invalid_csv")]:
        err = error_of(admin.post("/api/admin/assets", body, "text/csv", {"partial": "true"}), 400)
        assert err["details"]["errors"][0]["code"] == code, body
        assert err["details"]["errors"][0]["line"] in (1, 2)
    r = admin.post("/api/admin/assets", b"id,sport,name\nx,football,\xff\n", "text/csv")
    assert error_of(r, 400)["details"]["errors"][0]["code"] == "invalid_csv"
    error_of(admin.post("/api/admin/assets", "x", "text/plain"), 415, "unsupported_media_type")
    r = admin.post("/api/admin/assets", "id\n", "text/csv", {"partial": "maybe"})
    assert error_of(r, 400)["details"]["field"] == "partial"


def test_import_size_limits(admin):
    big_json = json.dumps({"assets": [{"id": "x", "sport": "football", "name": "y" * 100}] * 12000})
    assert len(big_json) > 1024 * 1024
    error_of(admin.post("/api/admin/assets", big_json, "application/json"), 413,
             "payload_too_large")
    # over 10 MiB of CSV: refused from the Content-Length alone, before any body is read
    with admin.server.connect() as conn:
        conn.send(build_request("POST", "/api/admin/assets", {
            "Authorization": f"Bearer {admin.token}", "Content-Type": "text/csv",
            "Content-Length": str(10 * 1024 * 1024 + 1)}))
        assert conn.read_response().status == 413


# ---- gavel import -------------------------------------------------------------------------------


def test_gavel_import_cli(tmp_path):
    data = tmp_path / "data"
    good = tmp_path / "good.csv"
    good.write_text("id,sport,name,competitions\ncli-1,football,Cli One,EPL-2025\n"
                    "cli-2,cricket,Cli Two,ASHES-2025\n", encoding="utf-8")
    out = run_gavel("import", "--data", data, "assets", good)
    assert out.returncode == 0, out.stderr
    assert "created=2" in out.stdout
    out = run_gavel("import", "--data", data, "assets", good)
    assert out.returncode == 0 and "created=0 updated=0 skipped=2" in out.stdout, out.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("id,sport,name,competitions\ncli-3,football,Three,EPL-2025\n"
                   "cli-4,football,Four,NOPE\n", encoding="utf-8")
    out = run_gavel("import", "--data", data, "assets", bad)
    assert out.returncode == 1
    assert f"{bad}:3: unknown_competition" in out.stderr
    out = run_gavel("import", "--data", data, "players", good)
    assert out.returncode == 2
    out = run_gavel("import", "--data", data, "assets", tmp_path / "missing.csv")
    assert out.returncode == 1
