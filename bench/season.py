#!/usr/bin/python3
"""Season benchmark: a 20-manager Premier League league (one club each, sold in a real auction)
with a 380-fixture double round robin. Measures the 380-row CSV import, the standings (recomputed
from the stored rows on every read: one GET is one recompute) sequentially for latency, and with
wrk for throughput. Writes bench/results/season.md. Run by `make bench`; uses Debian's python3."""

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

BIN = os.environ.get("GAVEL_BIN", "build/gavel")
OUT = os.environ.get("BENCH_OUT", "bench/results")
M = 1_000_000


def start(tmp):
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data", f"{tmp}/data",
                             "--dev", "--rate-limit-scale", "0", "--access-log", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stdout.readline()).group(1)
    for _ in range(100):
        try:
            if requests.get(url + "/api/ready", timeout=1).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise SystemExit("season bench: the server did not become ready")


class User:
    def __init__(self, url, i, email=None):
        self.url, s = url, requests.Session()
        email = email or f"bench{i}@example.com"
        token = s.post(url + "/api/auth/magic-link", json={"email": email}).json()["devToken"]
        tok = s.post(url + "/api/auth/verify", json={"email": email, "token": token}).json()
        self.token, self.id, self.s = tok["accessToken"], tok["user"]["id"], s
        s.headers["Authorization"] = f"Bearer {self.token}"

    def call(self, method, path, **kw):
        r = self.s.request(method, self.url + path, **kw)
        assert r.status_code < 300, (path, r.status_code, r.text)
        return r.json() if r.content else None


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    tmp = tempfile.mkdtemp(prefix="gavel-season-bench.")
    proc, url = start(tmp)
    try:
        people = [User(url, i) for i in range(20)]
        comm = people[0]
        lg = comm.call("POST", "/api/leagues", json={
            "name": "Bench", "sport": "football", "competition": "EPL-2025", "rosterSize": 1,
            "minManagers": 1, "maxManagers": 20, "budget": 100 * M, "minBid": M,
            "minIncrement": M, "lotOrder": "fixed", "lotSeconds": 600, "antiSnipeSeconds": 0,
            "intermissionSeconds": 0, "reofferUnsold": 0})
        for p in people[1:]:
            p.call("POST", f"/api/invites/{lg['inviteCode']}/join")
        clubs = comm.call("GET", "/api/assets", params={"competition": "EPL-2025", "limit": 50})["items"]
        assert len(clubs) == 20
        aid = comm.call("POST", f"/api/leagues/{lg['id']}/auction")["id"]
        comm.call("POST", f"/api/auctions/{aid}/begin")
        for lot in range(1, 21):
            people[lot - 1].call("POST", f"/api/auctions/{aid}/bids",
                                 json={"lot": lot, "amount": M, "clientBidId": f"b{lot}"})
            comm.call("POST", f"/api/auctions/{aid}/close-lot")
        rnd = random.Random(2025)
        rows, n = ["externalMatchId,startsAt,home,away,venue,round,status,homeGoals,awayGoals"], 0
        for i, h in enumerate(clubs):
            for j, a in enumerate(clubs):
                if i != j:
                    n += 1
                    rows.append(f"B{n:03d},2025-{8 + n // 84:02d}-{1 + n % 28:02d}T15:00:00Z,"
                                f"{h['id']},{a['id']},,R{1 + n // 10},finished,"
                                f"{rnd.randint(0, 4)},{rnd.randint(0, 3)}")
        csv = ("\n".join(rows) + "\n").encode()
        path = f"{url}/api/leagues/{lg['id']}/fixtures/import"
        hdr = {"Content-Type": "text/csv", "Authorization": f"Bearer {comm.token}"}
        t0 = time.perf_counter()
        r = requests.post(path, data=csv, headers=hdr)
        first_ms = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200 and r.json()["created"] == 380, r.text[:300]
        again = []
        for _ in range(5):
            t0 = time.perf_counter()
            r = requests.post(path, data=csv, headers=hdr)
            again.append((time.perf_counter() - t0) * 1000)
            assert r.json()["skipped"] == 380
        fixtures = comm.call("GET", f"/api/leagues/{lg['id']}/fixtures", params={"limit": 10})
        fx = fixtures["items"][0]["id"]
        lat, kept = [], []
        for i in range(300):  # one result changes, then the standings are recomputed
            comm.call("PUT", f"/api/leagues/{lg['id']}/fixtures/{fx}",
                      json={"homeGoals": i % 5, "awayGoals": 1})
            t0 = time.perf_counter()
            st = comm.s.get(f"{url}/api/leagues/{lg['id']}/standings")
            lat.append((time.perf_counter() - t0) * 1000)
            assert st.status_code == 200
            t0 = time.perf_counter()
            comm.s.get(f"{url}/api/leagues/{lg['id']}/standings")
            kept.append((time.perf_counter() - t0) * 1000)
        wrk = subprocess.run(["wrk", "-t2", "-c32", "-d10s", "-H",
                              f"Authorization: Bearer {comm.token}",
                              f"{url}/api/leagues/{lg['id']}/standings"],
                             capture_output=True, text=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
    finally:
        proc.terminate()
        if proc.wait() != 0:
            raise SystemExit(f"season bench: gavel exited {proc.returncode} after SIGTERM (want 0)")
        shutil.rmtree(tmp, ignore_errors=True)
    machine = subprocess.run(["sh", "-c", "nproc; grep -m1 'model name' /proc/cpuinfo"],
                             capture_output=True, text=True).stdout.split("\n")
    os.makedirs(OUT, exist_ok=True)
    with open(f"{OUT}/season.md", "w") as f:
        f.write(f"""# Season benchmark

Machine: {machine[0]} cores, {machine[1].split(':')[-1].strip()}; server and load on the same
cores. Command: `make bench` (`bench/season.py`, `{BIN}` built with -O2, access log off).
League: 20 managers, one Premier League club each (sold in a real auction), a 380-fixture double
round robin with results. Standings are computed from the stored rows and the answer is kept
until the store's change stamp moves (any write by the server or another process).

| measure | target | measured |
|---|---|---|
| import 380-row fixture CSV (first, all created), client round trip | ≤ 50 ms | {first_ms:.1f} ms |
| re-import, all unchanged, median of 5 | — | {statistics.median(again):.1f} ms |
| recompute after one result: GET standings after a PUT of a result, p50 / p99 of 300 | p99 ≤ 5 ms | {pct(lat, 50):.2f} / {pct(lat, 99):.2f} ms |
| GET standings unchanged since the last read (kept answer), p50 / p99 of 300 | — | {pct(kept, 50):.2f} / {pct(kept, 99):.2f} ms |
| GET standings throughput, `wrk -t2 -c32 -d10s` (nothing changes meanwhile) | ≥ 5,000 req/s | {rps:,.0f} req/s |
""")
    print(open(f"{OUT}/season.md").read())


if __name__ == "__main__":
    sys.exit(main())
