"""The periodic Football-Data.org sync inside `gavel serve`, against a fake provider started here
(http.server in a thread) that serves recorded v4 `GET /v4/competitions/{code}/matches` answers
from data/football-data/ and logs every request: fixtures and results imported into a Premier
League league with the standings checked against the oracle of test_season; the token sent in
X-Auth-Token and never logged; a 429's Retry-After (and X-RequestCounter-Reset) honoured across
all competitions; malformed answers writing nothing and logged once; 5xx and time-outs backed
off; the request limit holding in every window with several competitions and leagues; bids
answered while the provider holds its answer; `standings_updated` in the league room; SIGTERM
during a request; and the flags refused when wrong.

The server runs on the real clock (it has no fake one): periods are 1 s, waits are polls with
generous deadlines, and timing is asserted only as lower bounds taken from the provider's own
log (a request's arrival against the moment an earlier answer was written)."""

import asyncio
import json
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import TIMEOUT, run_async, run_gavel, wait_for, ws_connect
from test_auction import M, bid, control, state
from test_leagues import Client, make_league
from test_season import FOOTBALL, check_standings

DATA = Path(__file__).resolve().parent / "data" / "football-data"
TOKEN = "fd-test-token-5b1e0c9a"
DEADLINE = 30.0  # for anything the sync does: several periods, and the sanitizer build is slow
EPL_TEAMS = {"fb-arsenal-fc": "Arsenal FC", "fb-chelsea-fc": "Chelsea FC",
             "fb-liverpool-fc": "Liverpool FC", "fb-afc-bournemouth": "AFC Bournemouth"}
EMPTY = json.dumps({"filters": {}, "resultSet": {"count": 0}, "competition": {},
                    "matches": []}).encode()


# ---- the fake provider --------------------------------------------------------------------------


class Reply:
    """One scripted answer: status, headers, body; held until `hold` is set (when given), or
    delayed by delay_s."""

    def __init__(self, status=200, body=EMPTY, headers=None, hold=None, delay_s=0):
        self.status, self.body, self.headers = status, body, dict(headers or {})
        self.hold, self.delay_s = hold, delay_s
        self.headers.setdefault("Content-Type", "application/json;charset=UTF-8")

    @classmethod
    def file(cls, name, **kw):
        return cls(body=(DATA / name).read_bytes(), **kw)


class FakeProvider:
    """Answers GET /v4/competitions/{code}/matches from per-competition scripts (each reply used
    once, in order), then from the competition's default (else an empty matches list). Every
    request is logged with its arrival time, token and the time its answer was written."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.scripts, self.defaults = {}, {}
        self.holding = 0
        self.holds = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                provider._answer(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def script(self, code, *replies, then=None):
        with self.lock:
            self.scripts[code] = list(replies)
            if then is not None:
                self.defaults[code] = then
            self.holds += [r.hold for r in replies if r.hold] + ([then.hold] if then and then.hold
                                                                 else [])

    def _next(self, code):
        with self.lock:
            script = self.scripts.get(code, [])
            return script.pop(0) if script else self.defaults.get(code, Reply())

    def _answer(self, h):
        url = urlsplit(h.path)
        m = re.fullmatch(r"/v4/competitions/([A-Z0-9]+)/matches", url.path)
        rec = {"t": time.monotonic(), "path": url.path, "query": parse_qs(url.query),
               "code": m.group(1) if m else None, "token": h.headers.get("X-Auth-Token"),
               "answered": None, "status": None}
        with self.lock:
            self.requests.append(rec)
        reply = self._next(rec["code"]) if m else Reply(404, b'{"message":"not found"}')
        if reply.hold:
            with self.lock:
                self.holding += 1
            reply.hold.wait(60)
            with self.lock:
                self.holding -= 1
        if reply.delay_s:
            time.sleep(reply.delay_s)
        with self.lock:
            rec["answered"], rec["status"] = time.monotonic(), reply.status
        try:
            h.send_response(reply.status)
            for name, value in reply.headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(reply.body)))
            h.end_headers()
            h.wfile.write(reply.body)
        except OSError:
            pass  # the client gave up (a time-out, or the server stopping)

    def log(self, code=None):
        with self.lock:
            return [dict(r) for r in self.requests if code is None or r["code"] == code]

    def close(self):
        for ev in self.holds:
            ev.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def provider():
    p = FakeProvider()
    yield p
    p.close()


def sync_server(start_server, provider, *flags, every=1, max_requests=1000, window=1):
    return start_server("--football-data-token", TOKEN, "--football-data-url", provider.url,
                        "--sync-every-s", every, "--sync-max-requests", max_requests,
                        "--sync-window-s", window, *flags)


# ---- leagues ------------------------------------------------------------------------------------


def league_with_auction(server, competition, assets=None, managers=2):
    """A league of competition with its auction created (not begun); assets: the selection (by
    default every asset of the competition). Returns (people, league, auction id)."""
    people = [Client(server) for _ in range(managers)]
    comm = people[0]
    lg = make_league(comm, competition=competition, budget=500 * M, rosterSize=2, minBid=M,
                     minIncrement=M, lotSeconds=60, antiSnipeSeconds=0, intermissionSeconds=0,
                     reofferUnsold=0, lotOrder="fixed", minManagers=1, maxManagers=8)
    for p in people[1:]:
        assert p.post(f"/api/invites/{lg['inviteCode']}/join").status_code == 200
    if assets:
        r = comm.call("PUT", f"/api/leagues/{lg['id']}/assets", {"assetIds": assets})
        assert r.status_code == 200, r.text
    r = comm.post(f"/api/leagues/{lg['id']}/auction")
    assert r.status_code == 201, r.text
    return people, lg, r.json()["id"]


def sold_epl_league(server):
    """Two managers; Arsenal, Chelsea, Liverpool, Bournemouth sold in that order to comm, mgr,
    comm, mgr. Returns (people, league, owners {team name: userId})."""
    people, lg, aid = league_with_auction(server, "EPL-2025", list(EPL_TEAMS))
    control(people[0], aid, "begin")
    owners = {}
    for lot, name in enumerate(EPL_TEAMS.values(), start=1):
        buyer = people[(lot - 1) % 2]
        assert bid(buyer, aid, lot, M).status_code == 200
        control(people[0], aid, "close-lot")
        owners[name] = buyer.id
    assert state(people[0], aid)["status"] == "completed"
    return people, lg, owners


def fixtures(who, lg_id):
    r = who.get(f"/api/leagues/{lg_id}/fixtures", params={"limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def result_rows(name):
    """What a recorded answer means for the oracle: finished rows by team name."""
    rows = []
    for m in json.loads((DATA / name).read_text())["matches"]:
        done = m["status"] in ("FINISHED", "AWARDED")
        rows.append(dict(home=m["homeTeam"]["name"], away=m["awayTeam"]["name"],
                         status="finished" if done else "scheduled",
                         homeGoals=m["score"]["fullTime"]["home"] if done else "",
                         awayGoals=m["score"]["fullTime"]["away"] if done else ""))
    return rows


def sync_lines(server, outcome=None, code="PL"):
    pat = rf"football-data sync competition={code} season=\d+ outcome=" + (outcome or r"\w+")
    return [line for line in server.log().splitlines() if re.search(pat, line)]


def wait_requests(provider, n, code=None, timeout=DEADLINE):
    got = wait_for(lambda: len(provider.log(code)) >= n, timeout)
    assert got, f"fewer than {n} requests: {provider.log(code)}"
    return provider.log(code)


def wait_holding(provider, timeout=DEADLINE):
    assert wait_for(lambda: provider.holding >= 1, timeout), provider.log()


# ---- tests --------------------------------------------------------------------------------------


def test_sync_imports_fixtures_and_results_and_the_standings_follow(start_server, provider):
    later = threading.Event()
    provider.script("PL", Reply.file("pl-2025.json"),
                    Reply.file("pl-2025-later.json", hold=later),
                    then=Reply.file("pl-2025-later.json"))
    srv = sync_server(start_server, provider)
    people, lg, owners = sold_epl_league(srv)
    comm = people[0]
    wait_holding(provider)  # the first answer was applied before the second request went out
    got = fixtures(comm, lg["id"])
    assert len(got) == 7
    by_id = {f["externalMatchId"]: f for f in got}
    assert (by_id["537785"]["homeName"], by_id["537785"]["awayName"], by_id["537785"]["status"],
            by_id["537785"]["homeGoals"], by_id["537785"]["awayGoals"]) == \
        ("Liverpool FC", "AFC Bournemouth", "finished", 4, 2)
    assert (by_id["537796"]["status"], by_id["537796"]["homeGoals"]) == ("finished", 3), "AWARDED"
    assert [by_id[i]["status"] for i in ("537805", "537806", "537807")] == \
        ["scheduled", "scheduled", "postponed"]
    assert by_id["537785"]["round"] == "Matchday 1"
    check_standings(comm, lg["id"], result_rows("pl-2025.json"), owners, FOOTBALL)
    before = comm.get(f"/api/leagues/{lg['id']}/standings").json()

    later.set()
    assert wait_for(lambda: len(fixtures(comm, lg["id"])) == 8, DEADLINE)
    after = check_standings(comm, lg["id"], result_rows("pl-2025-later.json"), owners, FOOTBALL)
    assert [it["points"] for it in after["items"]] != [it["points"] for it in before["items"]]

    for r in provider.log():  # the provider saw the token, and only what it should
        assert (r["path"], r["query"], r["token"]) == \
            ("/v4/competitions/PL/matches", {"season": ["2025"]}, TOKEN), r
    ok = sync_lines(srv, "ok")
    assert any("leagues=1 created=7 updated=0" in line for line in ok), ok
    assert any("leagues=1 created=1 updated=2" in line for line in ok), ok
    metrics = srv.metrics()
    assert metrics.value("gavel_football_data_fixtures_total", change="created") == 8
    assert metrics.value("gavel_football_data_fixtures_total", change="updated") == 2
    assert metrics.value("gavel_football_data_requests_total", outcome="ok") >= 2
    assert metrics.types["gavel_football_data_requests_total"] == "counter"
    assert TOKEN not in srv.log(), "the token is never logged"


def test_429_retry_after_holds_back_every_request(start_server, provider):
    provider.script("PL",
                    Reply.file("429.json", status=429,
                               headers={"Retry-After": "2", "X-RequestCounter-Reset": "1"}),
                    Reply.file("429.json", status=429, headers={"X-RequestCounter-Reset": "2"}),
                    then=Reply.file("pl-2025.json"))
    provider.script("CL", then=Reply.file("cl-2025.json"))
    srv = sync_server(start_server, provider)
    people, lg, aid = league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    league_with_auction(srv, "UCL-2025")
    assert wait_for(lambda: len(fixtures(people[0], lg["id"])) == 7, DEADLINE), provider.log()
    log = provider.log()
    throttled = [r for r in log if r["status"] == 429]
    assert len(throttled) == 2
    for r in throttled:  # no request at all, for any competition, before the wait was over
        later = [x for x in log if x["t"] > r["t"]]
        assert later and all(x["t"] >= r["answered"] + 2.0 for x in later), (r, later)
    lines = sync_lines(srv, "throttled")
    assert len(lines) == 2 and all("status=429 retry_after_ms=2000" in x for x in lines), lines
    assert srv.metrics().value("gavel_football_data_requests_total", outcome="throttled") == 2


def test_malformed_answers_write_nothing_and_the_next_good_one_is_applied(start_server,
                                                                         provider):
    release = threading.Event()
    provider.script("PL",
                    Reply.file("not-json.html", headers={"Content-Type": "text/html"}),
                    Reply.file("no-matches.json"),
                    Reply.file("pl-2025.json", hold=release),
                    then=Reply.file("pl-2025.json"))
    srv = sync_server(start_server, provider)
    people, lg, aid = league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    comm = people[0]
    wait_holding(provider)  # both malformed answers were handled before the third request
    assert wait_for(lambda: len(sync_lines(srv, "malformed")) == 2, DEADLINE), srv.log()
    bad = sync_lines(srv, "malformed")
    assert 'error="invalid_json: ' in bad[0] and "competition=PL" in bad[0], bad
    assert 'error="missing_matches: ' in bad[1], bad
    assert fixtures(comm, lg["id"]) == [], "nothing written"
    metrics = srv.metrics()
    assert metrics.value("gavel_football_data_requests_total", outcome="malformed") == 2
    assert metrics.value("gavel_football_data_requests_total", outcome="ok") == 0
    release.set()
    assert wait_for(lambda: len(fixtures(comm, lg["id"])) == 7, DEADLINE)
    assert len(sync_lines(srv, "malformed")) == 2, "each malformed answer is logged once"


def test_5xx_and_timeouts_back_off(start_server, provider):
    provider.script("PL",
                    Reply.file("pl-2025.json", delay_s=3),  # the server gives up after 1 s
                    Reply(503, b'{"message":"Service Unavailable"}'),
                    then=Reply.file("pl-2025.json"))
    srv = sync_server(start_server, provider, "--sync-timeout-s", 1)
    people, lg, aid = league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    assert wait_for(lambda: len(fixtures(people[0], lg["id"])) == 7, DEADLINE), provider.log()
    log = provider.log("PL")
    assert len(log) >= 3 and [r["status"] for r in log[:3]] == [200, 503, 200], log
    assert log[1]["t"] >= log[0]["t"] + 2.0, "after one failure: 2 periods"
    assert log[2]["t"] >= log[1]["answered"] + 4.0, "after two in a row: 4 periods"
    failed = sync_lines(srv, "failed")
    assert 'error="timeout: ' in failed[0] and 'status=503' in failed[1], failed
    assert srv.metrics().value("gavel_football_data_requests_total", outcome="failed") == 2


def test_the_request_limit_holds_in_every_window(start_server, provider):
    provider.script("PL", then=Reply.file("pl-2025.json"))
    provider.script("CL", then=Reply.file("cl-2025.json"))
    provider.script("WC", then=Reply.file("wc-2026.json"))
    # 3 competitions every second want 3 requests a second; 3 per 2 s are allowed
    srv = sync_server(start_server, provider, max_requests=3, window=2)
    pl1 = league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    pl2 = league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    league_with_auction(srv, "UCL-2025")
    wc = league_with_auction(srv, "WC-2026")
    log = wait_requests(provider, 15)
    times = [r["t"] for r in log]
    slack = 0.5  # a request reaches the provider a little after the server sent it
    for i, t in enumerate(times):
        in_window = [u for u in times[i:] if u < t + 2.0 - slack]
        assert len(in_window) <= 3, (i, [round(u - times[0], 3) for u in times])
    assert {"PL", "CL", "WC"} <= {r["code"] for r in log}
    for people, lg, _ in (pl1, pl2):
        assert len(fixtures(people[0], lg["id"])) == 7
    assert any("leagues=2" in line for line in sync_lines(srv, "ok")), "one request, two leagues"
    wc_fx = fixtures(wc[0][0], wc[1]["id"])
    assert {f["homeName"] for f in wc_fx} == {"Morocco", "Ghana"}, "matched by name"


def test_bids_are_answered_while_the_provider_holds_its_answer(start_server, provider):
    release = threading.Event()
    provider.script("PL", Reply.file("pl-2025.json", hold=release),
                    then=Reply.file("pl-2025.json"))
    srv = sync_server(start_server, provider)
    people, lg, aid = league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    comm, mgr = people
    control(comm, aid, "begin")
    wait_holding(provider)
    r = bid(mgr, aid, 1, 3 * M)
    assert r.status_code == 200, r.text
    st = state(comm, aid)
    assert (st["lot"]["currentBid"], st["lot"]["leaderId"]) == (3 * M, mgr.id)
    assert bid(comm, aid, 1, 4 * M).status_code == 200
    assert requests.get(srv.url + "/api/health", timeout=TIMEOUT).status_code == 200
    # all of that while the request was still in flight, and nothing applied yet
    assert provider.holding == 1 and fixtures(comm, lg["id"]) == []
    release.set()
    assert wait_for(lambda: len(fixtures(comm, lg["id"])) == 7, DEADLINE)
    st = state(comm, aid)
    assert (st["status"], st["lot"]["currentBid"], st["lot"]["leaderId"]) == \
        ("running", 4 * M, comm.id)


def test_standings_updated_reaches_the_league_room_after_a_sync(start_server, provider):
    release = threading.Event()
    provider.script("PL", Reply.file("pl-2025.json", hold=release),
                    then=Reply.file("pl-2025.json"))
    srv = sync_server(start_server, provider)
    people, lg, aid = league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    mgr = people[1]

    async def go():
        async with ws_connect(srv) as ws:
            await ws.send(json.dumps({"type": "auth", "token": mgr.token}))
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(json.dumps({"type": "join_league", "leagueId": lg["id"]}))
            await ws.send(json.dumps({"type": "ping", "clientTimeMs": 1}))
            assert json.loads(await ws.recv())["type"] == "pong"  # joined
            release.set()
            ev = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
            assert ev == {"type": "standings_updated", "leagueId": lg["id"]}, ev
            # the next round changes nothing: no event (its log line comes after any event)
            loop = asyncio.get_running_loop()
            more = await loop.run_in_executor(
                None, wait_for, lambda: len(sync_lines(srv, "ok")) >= 2, DEADLINE)
            assert more, srv.log()
            try:
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    assert msg.get("type") != "standings_updated", msg
            except asyncio.TimeoutError:
                pass

    run_async(go(), timeout=2 * DEADLINE)
    assert "created=0 updated=0 skipped=7" in sync_lines(srv, "ok")[1]


def test_sigterm_during_a_request_exits_promptly_and_cleanly(start_server, provider):
    never = threading.Event()
    provider.script("PL", Reply.file("pl-2025.json", hold=never))
    srv = sync_server(start_server, provider, "--sync-timeout-s", 120)
    league_with_auction(srv, "EPL-2025", list(EPL_TEAMS))
    wait_holding(provider)
    started = time.monotonic()
    srv.stop(signal.SIGTERM)
    took = time.monotonic() - started
    assert srv.returncode == 0, srv.describe()
    assert not srv.problems(), srv.problems()
    # well inside the 10 s grace period; without cancelling, the request would hold the process
    # until its 120 s time-out
    assert took < 8, took
    assert sync_lines(srv, "ok") == []


@pytest.mark.parametrize("flags, says", [
    (("--football-data-token", "two words"), "token"),
    (("--football-data-token", TOKEN, "--football-data-url", "ftp://example.org"), "URL"),
    (("--football-data-token", TOKEN, "--football-data-url", "https://u:p@example.org"), "URL"),
    (("--football-data-token", TOKEN, "--sync-every-s", "0"), "--sync-every-s"),
    (("--football-data-token", TOKEN, "--sync-every-s", "86401"), "--sync-every-s"),
    (("--football-data-token", TOKEN, "--sync-max-requests", "0"), "--sync-max-requests"),
])
def test_bad_sync_flags_are_refused(tmp_path, flags, says):
    r = run_gavel("serve", "--listen", "127.0.0.1:0", "--data", tmp_path / "data", *flags)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert says in r.stderr and TOKEN not in r.stderr, r.stderr


def test_a_league_without_an_auction_gets_its_fixtures(start_server, provider):
    """Every football league of the competition is synced, with or without an auction yet."""
    provider.script("PL", Reply.file("pl-2025.json"), then=Reply.file("pl-2025.json"))
    srv = sync_server(start_server, provider)
    comm = Client(srv)
    lg = make_league(comm, sport="football", competition="EPL-2025")
    assert comm.get(f"/api/leagues/{lg['id']}").json()["auctionId"] is None
    assert wait_for(lambda: len(fixtures(comm, lg["id"])) == 7, DEADLINE)
