#!/usr/bin/python3
"""Failover time of a Gavel cluster: the owner of a live auction is killed with SIGKILL, and a
client retries one bid (the same clientBidId) through the other nodes in turn, each try with a
1 s timeout and 50 ms between tries, until one accepts it. A trial's failover time is from the
kill to that acceptance, as the client sees it.

    bench/failover.py [--trials 10] [--lease-ms 1500] [--nodes 3] [--json FILE]

It starts its own cluster with scripts/cluster.sh (PostgreSQL with fsync on, as scripts/pg-test.sh
by default, Redis and N nodes with --lease-ms; GAVEL_BIN picks the binary) and stops it at the
end. Each trial, on node k = trial % N:

  1. a league of three users (signed in once, at the start) and its auction, created and begun
     through node k, which therefore owns it (the node that creates an auction takes its lease);
  2. three bids, through node k and through two others (forwarded to the owner), all accepted:
     every node has the auction loaded and knows its owner;
  3. SIGKILL of node k; the next bid retried through the other nodes (k+1, k+2, ...), as a
     client behind a load balancer would: a 503 or no answer within 1 s is tried again 50 ms
     later on the next node;
  4. node k started again (the same command line, environment and data directory; another port)
     and waited for until healthy, before the next trial.

Besides the client's time, each trial records when a survivor's log says it took the auction's
lease ("cluster lease taken auction=ID", the log's ts against the wall clock at the kill: the
server's side of the failover, without the client's retry rhythm). Earlier trials' auctions stay
live (600 s lots) and move with their owners too.

Prints one line per trial and a summary; --json writes every trial. Needs Debian's python3 with
python3-requests, redis-server and PostgreSQL (scripts/deps.sh).
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
CLUSTER_SH = REPO / "scripts" / "cluster.sh"
TRY_TIMEOUT_S = 1.0  # one try of the bid
RETRY_PAUSE_S = 0.05  # between tries
GIVE_UP_S = 60  # a trial that takes longer has failed
START_TIMEOUT_S = 60


def log(msg):
    print(f"failover: {msg}", file=sys.stderr, flush=True)


def read_env(path):
    """cluster.env (NAME=value lines, values quoted for sh by printf %q)."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            words = shlex.split(v)
            out[k] = " ".join(words)
    return out


def proc_state(pid):
    """The state letter of /proc/PID/stat, or None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def wait_for(cond, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(interval)
    return cond()


class Node:
    def __init__(self, k, pid, url, log_path):
        self.k, self.pid, self.url, self.log_path = k, pid, url, Path(log_path)
        self.proc = None  # set once this script started it again
        self.argv = self.cwd = self.env = None

    @property
    def name(self):
        return f"node{self.k + 1}"

    def remember(self):
        """The command line, directory and environment of the running process (to start it again
        the same way after the kill)."""
        self.argv = Path(f"/proc/{self.pid}/cmdline").read_bytes().decode().split("\0")[:-1]
        self.cwd = os.readlink(f"/proc/{self.pid}/cwd")
        raw = Path(f"/proc/{self.pid}/environ").read_bytes().decode(errors="replace")
        self.env = dict(kv.split("=", 1) for kv in raw.split("\0") if "=" in kv)

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)

    def wait_dead(self):
        if self.proc:
            self.proc.wait(10)
        else:  # not our child: gone, or a zombie nobody reaped
            wait_for(lambda: proc_state(self.pid) in (None, "Z"), 10, 0.01)

    def start(self, out_path):
        out = open(out_path, "wb")
        err = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                     start_new_session=True)
        out.close()
        err.close()
        self.pid = self.proc.pid

        def listening():
            assert self.proc.poll() is None, f"{self.name} exited at start ({self.proc.returncode})"
            m = re.search(r"^gavel listening on (http://127\.0\.0\.1:\d+)$",
                          Path(out_path).read_text(errors="replace"), re.M)
            return m and m.group(1)

        url = wait_for(listening, START_TIMEOUT_S)
        assert url, f"{self.name} did not announce its port"
        self.url = url

    def healthy(self):
        try:
            r = requests.get(self.url + "/api/health", timeout=2)
            return r.status_code == 200 and r.json().get("checks", {}).get("redis") == "ok"
        except (requests.RequestException, ValueError):
            return False

    def stop(self):
        """SIGTERM to a process this script started; returns its exit status."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after 15 s"

    def lease_taken_at(self, auction, after_wall):
        """The wall time (s) of the first "cluster lease taken auction=ID" line of this node's
        log at or after after_wall, or None."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return None
        for m in re.finditer(r"^ts=(\S+) \S+ cluster lease taken auction=" + re.escape(auction)
                             + r"\b", text, re.M):
            ts = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
            wall = (ts - datetime(1970, 1, 1)).total_seconds()
            if wall >= after_wall - 0.002:  # the log's ts has milliseconds
                return wall
        return None


class User:
    def __init__(self, node, email):
        r = requests.post(node.url + "/api/auth/magic-link", json={"email": email}, timeout=10)
        assert r.status_code == 202 and "devToken" in r.json(), f"magic link: {r.status_code} {r.text}"
        r = requests.post(node.url + "/api/auth/verify",
                          json={"email": email, "token": r.json()["devToken"]}, timeout=10)
        assert r.status_code == 200, f"verify: {r.status_code} {r.text}"
        self.token = r.json()["accessToken"]
        self.id = r.json()["user"]["id"]

    def call(self, node, method, path, body=None, timeout=10):
        return requests.request(method, node.url + path, json=body, timeout=timeout,
                                headers={"Authorization": f"Bearer {self.token}"})


def bid(node, who, aid, lot, amount, cbid, timeout):
    """One try; the Response, or None without an answer in time."""
    try:
        return who.call(node, "POST", f"/api/auctions/{aid}/bids",
                        {"lot": lot, "amount": amount, "clientBidId": cbid}, timeout=timeout)
    except requests.RequestException:
        return None


def accepted(r):
    return r is not None and r.status_code == 200 and r.json().get("accepted") is True


def show(r):
    return "no answer" if r is None else f"{r.status_code} {r.text[:200]}"


class Bench:
    def __init__(self, args):
        self.args = args
        self.dir = Path(tempfile.mkdtemp(prefix="gavel-failover-"))
        self.nodes = []
        self.started = False

    def start(self):
        env = {**os.environ, "GAVEL_PG_FSYNC": "on", "CLUSTER_LEASE_MS": str(self.args.lease_ms),
               "CLUSTER_FLAGS": "--access-log 0"}
        env.pop("CLUSTER_BASE_PORT", None)
        self.started = True
        r = subprocess.run([str(CLUSTER_SH), "start", str(self.dir), str(self.args.nodes)],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"scripts/cluster.sh start failed:\n{r.stdout}\n{r.stderr}")
        e = read_env(self.dir / "cluster.env")
        self.env = e
        self.nodes = [Node(k, int(e[f"NODE{k + 1}_PID"]), e[f"NODE{k + 1}_URL"],
                           e[f"NODE{k + 1}_LOG"]) for k in range(self.args.nodes)]

    def close(self):
        rcs = {}
        for n in self.nodes:
            rc = n.stop()
            if rc is not None:
                rcs[n.name] = rc
        if self.started:
            subprocess.run([str(CLUSTER_SH), "stop", str(self.dir)], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
        if self.args.keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return rcs

    def league_auction(self, node, comm, members, t):
        body = {"name": f"failover {t}", "sport": "football", "competition": "EPL-2025",
                "lotOrder": "fixed", "minManagers": 1, "maxManagers": 3, "lotSeconds": 600,
                "antiSnipeSeconds": 0, "intermissionSeconds": 0, "rosterSize": 2,
                "budget": 10**12, "minBid": 1, "minIncrement": 1}
        r = comm.call(node, "POST", "/api/leagues", body)
        assert r.status_code == 201, f"league: {show(r)}"
        lg = r.json()
        for m in members:
            r = m.call(node, "POST", f"/api/invites/{lg['inviteCode']}/join")
            assert r.status_code == 200, f"join: {show(r)}"
        r = comm.call(node, "POST", f"/api/leagues/{lg['id']}/auction")
        assert r.status_code == 201, f"auction: {show(r)}"
        aid = r.json()["id"]
        r = comm.call(node, "POST", f"/api/auctions/{aid}/begin")
        assert r.status_code == 200, f"begin: {show(r)}"
        return aid, r.json()["lot"]["number"]

    def trial(self, t, users):
        n = len(self.nodes)
        k = t % n
        owner = self.nodes[k]
        others = [self.nodes[(k + j) % n] for j in range(1, n)]
        comm, a, b = users
        aid, lot = self.league_auction(owner, comm, (a, b), t)
        # bids through the owner and through two others (forwarded): all accepted
        amount = 0
        before = [owner, *others][:3]
        for j, node in enumerate(before):
            amount += 1
            r = bid(node, (a, b)[j % 2], aid, lot, amount, uuid.uuid4().hex, 10)
            assert accepted(r), f"trial {t}: a bid through {node.name}: {show(r)}"
        owner.remember()
        amount += 1
        who = (a, b)[len(before) % 2]  # not the leader
        cbid = uuid.uuid4().hex
        wall_kill = time.time()
        t_kill = time.monotonic()
        owner.kill()
        tries = []
        r = None
        while True:
            node = others[len(tries) % len(others)]
            t0 = time.monotonic()
            r = bid(node, who, aid, lot, amount, cbid, TRY_TIMEOUT_S)
            at = time.monotonic()
            tries.append({"node": node.name, "startS": round(t0 - t_kill, 4),
                          "answer": None if r is None else r.status_code})
            if r is not None and r.status_code != 503:
                break
            if at - t_kill > GIVE_UP_S:
                break
            time.sleep(RETRY_PAUSE_S)
        ok = accepted(r)
        took = at - t_kill
        taken = [x for x in (o.lease_taken_at(aid, wall_kill) for o in others) if x]
        lease_s = min(taken) - wall_kill if taken else None
        rec = {"trial": t, "killed": owner.name, "auction": aid, "accepted": ok,
               "failoverS": round(took, 4), "acceptedBy": tries[-1]["node"],
               "leaseTakenS": None if lease_s is None else round(lease_s, 4),
               "tries": len(tries), "answers": tries,
               "last": None if ok else show(r)}
        log(f"trial {t + 1}/{self.args.trials}: killed {owner.name}; "
            + (f"accepted by {rec['acceptedBy']} {took:.3f} s after the kill" if ok
               else f"NOT accepted ({show(r)}) after {took:.3f} s")
            + f" ({len(tries)} tries; a survivor's log: lease taken "
            + (f"{lease_s:.3f} s after the kill)" if lease_s is not None else "not found)"))
        # the killed node again, before the next trial
        owner.wait_dead()
        owner.start(self.dir / f"{owner.name}.out")
        assert wait_for(owner.healthy, START_TIMEOUT_S, 0.1), f"{owner.name} not healthy again"
        return rec

    def run(self):
        self.start()
        log(f"cluster of {self.args.nodes} nodes, --lease-ms {self.args.lease_ms}, PostgreSQL "
            f"fsync on; {self.args.trials} trials")
        stamp = uuid.uuid4().hex[:8]
        users = [User(self.nodes[0], f"failover-{stamp}-{i}@load.test") for i in range(3)]
        trials = []
        for t in range(self.args.trials):
            trials.append(self.trial(t, users))
        return trials


def summary(trials, lease_ms):
    ok = [t for t in trials if t["accepted"]]
    times = sorted(t["failoverS"] for t in ok)
    lease = sorted(t["leaseTakenS"] for t in ok if t["leaseTakenS"] is not None)

    def pct(v, q):
        return v[min(len(v) - 1, max(0, int(q * len(v) + 0.999999) - 1))] if v else None

    return {
        "leaseMs": lease_ms, "trials": len(trials), "accepted": len(ok),
        "failoverS": {"p50": statistics.median(times) if times else None,
                      "min": times[0] if times else None, "max": times[-1] if times else None,
                      "p90": pct(times, 0.9), "mean": statistics.mean(times) if times else None},
        "leaseTakenS": {"p50": statistics.median(lease) if lease else None,
                        "min": lease[0] if lease else None, "max": lease[-1] if lease else None,
                        "found": len(lease)},
        "triesP50": statistics.median(t["tries"] for t in ok) if ok else None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--lease-ms", type=int, default=1500)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--json", help="write the trials and the summary here")
    ap.add_argument("--keep", action="store_true", help="keep the cluster's directory (logs)")
    args = ap.parse_args()
    if args.nodes < 2 or args.trials < 1 or args.lease_ms < 100:
        ap.error("--nodes >= 2, --trials >= 1, --lease-ms >= 100")
    bench = Bench(args)
    trials, error = [], None
    try:
        trials = bench.run()
    except (AssertionError, RuntimeError, OSError, requests.RequestException) as e:
        error = f"{type(e).__name__}: {e}"
        log(f"error: {error}")
    finally:
        rcs = bench.close()
    bad_exits = {k: v for k, v in rcs.items() if v not in (0, None)}
    out = {"summary": summary(trials, args.lease_ms), "trials": trials, "error": error,
           "restartedNodesExit": rcs,
           "tryTimeoutS": TRY_TIMEOUT_S, "retryPauseS": RETRY_PAUSE_S, "nodes": args.nodes,
           "pgFsync": "on"}
    s = out["summary"]
    if s["accepted"]:
        f = s["failoverS"]
        ls = s["leaseTakenS"]
        print(f"lease {args.lease_ms} ms: {s['accepted']}/{s['trials']} trials accepted; kill -> "
              f"first accepted bid p50 {f['p50']:.3f} s, max {f['max']:.3f} s (min {f['min']:.3f});"
              + (f" kill -> lease taken (log) p50 {ls['p50']:.3f} s, max {ls['max']:.3f} s"
                 if ls["found"] else ""))
    if bad_exits:
        log(f"restarted nodes that did not exit 0 on SIGTERM: {bad_exits}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    failed = error or s["accepted"] != len(trials) or len(trials) != args.trials or bad_exits
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
