#!/usr/bin/python3
"""Season benchmark at the sizes of issue 11: a football league of 20 managers x 30 clubs with a
380-fixture season, and a cricket league of 300 players (20 managers x 15) with 60 matches in
which every player has a line (18,000 lines). The assets are a synthetic competition imported by
an admin; the rosters are won in a real auction (one bid and a close per lot). Measures, for each:
the import, the recompute after one change (a result PUT, or a one-line stats CSV) as the
server's own time for the GET that follows (the access log's us=, exact) and as the client's
round trip, and the GET throughput with wrk. Appends its table to bench/results/season.md.
Uses Debian's python3 (requests)."""

import datetime
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

import requests

BIN = os.environ.get("GAVEL_BIN", "build/gavel")
OUT = os.environ.get("BENCH_OUT", "bench/results")
M = 1_000_000
ADMIN = "bench-admin@example.com"
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from season import User, pct  # noqa: E402


def start(tmp):
    log = open(f"{tmp}/gavel.log", "w")
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data", f"{tmp}/data",
                             "--dev", "--rate-limit-scale", "0", "--admin-email", ADMIN],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    url = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stdout.readline()).group(1)
    return proc, url, f"{tmp}/gavel.log"


def post_csv(who, path, text, params=None):
    r = requests.post(who.url + path, data=text.encode(), params=params or {},
                      headers={"Content-Type": "text/csv", "Authorization": f"Bearer {who.token}"})
    assert r.status_code == 200, (path, r.text[:300])
    return r.json()


def catalogue(admin, code, sport, n):
    post_csv(admin, "/api/admin/assets", f"code,sport,name,season\n{code},{sport},{code},2025/26\n",
             {"kind": "competitions"})
    rows = ["id,sport,name,short_name,country,team,role,competitions,provider_ids"]
    rows += [f"{code.lower()}-{i:03d},{sport},{code} asset {i:03d},,,,,{code}," for i in range(n)]
    post_csv(admin, "/api/admin/assets", "\n".join(rows) + "\n")
    return [f"{code.lower()}-{i:03d}" for i in range(n)]


def sold_league(people, code, sport, roster, assets):
    comm = people[0]
    lg = comm.call("POST", "/api/leagues", json={
        "name": code, "sport": sport, "competition": code, "rosterSize": roster,
        "minManagers": 1, "maxManagers": len(people), "budget": 1000 * M, "minBid": M,
        "minIncrement": M, "lotOrder": "fixed", "lotSeconds": 600, "antiSnipeSeconds": 0,
        "intermissionSeconds": 0, "reofferUnsold": 0})
    for p in people[1:]:
        p.call("POST", f"/api/invites/{lg['inviteCode']}/join")
    comm.call("PUT", f"/api/leagues/{lg['id']}/assets", json={"assetIds": assets})
    aid = comm.call("POST", f"/api/leagues/{lg['id']}/auction")["id"]
    comm.call("POST", f"/api/auctions/{aid}/begin")
    for lot in range(1, len(assets) + 1):
        people[(lot - 1) % len(people)].call("POST", f"/api/auctions/{aid}/bids",
                                             json={"lot": lot, "amount": M, "clientBidId": f"b{lot}"})
        comm.call("POST", f"/api/auctions/{aid}/close-lot")
    return lg


def server_times(log_path, since, path):
    """The us= of each GET of path logged after byte offset since, in order (ms)."""
    with open(log_path) as f:
        f.seek(since)
        text = f.read()
    return [int(m.group(1)) / 1000 for m in
            re.finditer(r"method=GET path=" + re.escape(path) + r" status=200 \S+ us=(\d+)", text)]


def measure(comm, log_path, lg_id, change, n=300):
    path = f"/api/leagues/{lg_id}/standings"
    since = os.path.getsize(log_path)
    rt = []
    for i in range(n):
        change(i)
        t0 = time.perf_counter()
        r = comm.s.get(comm.url + path)
        rt.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    time.sleep(0.2)  # the access log line is written after the answer
    srv = server_times(log_path, since, path)
    assert len(srv) == n, (len(srv), n)
    wrk = subprocess.run(["wrk", "-t2", "-c32", "-d10s", "-H", f"Authorization: Bearer {comm.token}",
                          comm.url + path], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
    return srv, rt, rps


def football(people, admin, log_path):
    comm = people[0]
    clubs = catalogue(admin, "BENCH-FB", "football", 600)
    lg = sold_league(people, "BENCH-FB", "football", 30, clubs)
    rnd = random.Random(380)
    rows = ["externalMatchId,startsAt,home,away,venue,round,status,homeGoals,awayGoals"]
    for n in range(380):
        h, a = rnd.sample(clubs, 2)
        day = datetime.date(2025, 8, 16) + datetime.timedelta(days=n // 2)
        rows.append(f"F{n:03d},{day.isoformat()}T15:00:00Z,{h},{a},,"
                    f"R{1 + n // 10},finished,{rnd.randint(0, 4)},{rnd.randint(0, 3)}")
    t0 = time.perf_counter()
    rep = post_csv(comm, f"/api/leagues/{lg['id']}/fixtures/import", "\n".join(rows) + "\n")
    imp = (time.perf_counter() - t0) * 1000
    assert rep["created"] == 380
    fx = comm.call("GET", f"/api/leagues/{lg['id']}/fixtures", params={"limit": 1})["items"][0]["id"]

    def change(i):
        comm.call("PUT", f"/api/leagues/{lg['id']}/fixtures/{fx}",
                  json={"homeGoals": i % 5, "awayGoals": 1})
    return ("football: 20 managers × 30 clubs, 380 fixtures", "380-row fixture CSV", imp,
            *measure(comm, log_path, lg["id"], change))


def cricket(people, admin, log_path, players, every):
    """60 matches: with every, all 300 players have a line in each (18,000 lines, the worst
    case); else each match is two XIs of the 20 squads of 15 (1,320 lines, as in a season)."""
    comm = people[0]
    lg = sold_league(people, "BENCH-CK", "cricket", 15, players)
    rnd = random.Random(60)
    rows = ["externalMatchId,player,runs,wickets,catches,stumpings,runOuts"]
    squads = [players[i::20] for i in range(20)]
    for m in range(60):
        home, away = rnd.sample(range(20), 2)
        side = players if every else rnd.sample(squads[home], 11) + rnd.sample(squads[away], 11)
        for p in side:
            rows.append(f"M{m:02d},{p},{rnd.randint(0, 120)},{rnd.randint(0, 5)},"
                        f"{rnd.randint(0, 2)},{rnd.randint(0, 1)},{rnd.randint(0, 1)}")
    n = len(rows) - 1
    t0 = time.perf_counter()
    rep = post_csv(comm, f"/api/leagues/{lg['id']}/stats/import", "\n".join(rows) + "\n")
    imp = (time.perf_counter() - t0) * 1000
    assert rep["created"] == n, rep
    first = rows[1].split(",")

    def change(i):
        post_csv(comm, f"/api/leagues/{lg['id']}/stats/import",
                 f"externalMatchId,player,runs,wickets,catches,stumpings,runOuts\n"
                 f"{first[0]},{first[1]},{i},1,0,0,0\n")
    what = "every player in every match" if every else "two XIs a match"
    return (f"cricket: 300 players (20 × 15), 60 matches, {what}", f"{n:,}-line stats CSV",
            imp, *measure(comm, log_path, lg["id"], change))


def main():
    tmp = tempfile.mkdtemp(prefix="gavel-season-big.")
    proc, url, log_path = start(tmp)
    try:
        admin = User(url, "admin", ADMIN)
        people = [User(url, f"big{i}") for i in range(20)]
        results = [football(people, admin, log_path)]
        players = catalogue(admin, "BENCH-CK", "cricket", 300)
        results += [cricket(people, admin, log_path, players, every) for every in (False, True)]
    finally:
        proc.terminate()
        if proc.wait() != 0:
            raise SystemExit(f"season bench: gavel exited {proc.returncode} after SIGTERM (want 0)")
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)
    with open(f"{OUT}/season.md", "a") as f:
        f.write("""
## At the issue's sizes (`bench/season_big.py`)

Synthetic competitions imported by an admin; rosters won in a real auction. "Server" is the
server's own time for the GET that follows each change (the access log's `us=`: request parsed to
answer written), "client" the round trip from the Python client on the same two cores. Access log
on in this part.

| league | import | recompute after one change, server p50 / p99 / max | client p50 / p99 | GET standings, `wrk -t2 -c32 -d10s` |
|---|---|---|---|---|
""")
        for name, what, imp, srv, rt, rps in results:
            f.write(f"| {name} | {what}: {imp:.0f} ms | {pct(srv, 50):.2f} / {pct(srv, 99):.2f} / "
                    f"{max(srv):.2f} ms | {pct(rt, 50):.2f} / {pct(rt, 99):.2f} ms | "
                    f"{rps:,.0f} req/s |\n")
    print(open(f"{OUT}/season.md").read())


if __name__ == "__main__":
    sys.exit(main())
