"""Writes bench/results/cluster.md from bench/cluster.sh's runs (called by it).

usage: cluster_report.py MACHINE COMMANDS RUNS FAILOVER
  MACHINE   key=value lines (the machine, the dates, the servers' command lines)
  COMMANDS  "scenario|gavel-load options" lines
  RUNS      "scenario side run json load_rc nodes_rc steal_s pg_deadlocks pg_errors metrics,..."
            lines (side: cluster, pg or sqlite; metrics: each node's /metrics at the end)
  FAILOVER  "lease_ms json rc" lines (bench/failover.py's JSON)
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auction_report import fmt_le, get, hist, missed, parse_prometheus, quantile  # noqa: E402

SIDES = {"cluster": "{n}-node cluster (PostgreSQL + Redis)", "pg": "1 node, PostgreSQL",
         "sqlite": "1 node, SQLite"}


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def med_high(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median_high(vals) if vals else None


def fmt(f, v):
    return "n/a" if v is None else f.format(v)


def le_of(v):
    return float("inf") if v == "+Inf" else v if isinstance(v, (int, float)) else None


def runs_fmt(f, vals):
    return "; ".join(fmt(f, v) for v in vals)


class Run:
    def __init__(self, line):
        parts = line.split()
        (self.scn, self.side, run, self.json_path, lrc, nrc, steal, dl, errs) = parts[:9]
        self.run, self.load_rc, self.nodes_rc = int(run), int(lrc), int(nrc)
        self.steal = float(steal)
        self.deadlocks = None if dl == "-" else int(dl)
        self.pg_errors = None if errs == "-" else int(errs)
        self.metrics_paths = parts[9].split(",") if len(parts) > 9 else []
        try:
            self.d = json.load(open(self.json_path))
        except (OSError, ValueError):
            self.d = {}
        self.metrics = []
        for p in self.metrics_paths:
            try:
                self.metrics.append(parse_prometheus(open(p).read()))
            except OSError:
                self.metrics.append({})

    def g(self, path, default=None):
        return get(self.d, path, default)

    def counter(self, name, **labels):
        """The sum over the nodes of a family's samples whose labels match."""
        total, seen = 0.0, False
        for m in self.metrics:
            for lab, v in m.get(name, []):
                if all(lab.get(k) == want for k, want in labels.items()):
                    total += v
                    seen = True
        return total if seen else None

    def hist_q(self, name, q):
        """A quantile (ms) of a histogram summed over the nodes (since they started)."""
        merged = {}
        total = count = 0.0
        for m in self.metrics:
            h = hist(m, name)
            if not h:
                continue
            for le, c in h[0]:
                merged[le] = merged.get(le, 0) + c
            total += h[1]
            count += h[2]
        if not count:
            return None
        v = quantile((sorted(merged.items()), total, count), q)
        return None if v is None else v * 1000

    def node_loop_max(self):
        """Each node's longest loop turn of the bidding (bucket bounds, ms)."""
        by = self.d.get("biddingByNode")
        if isinstance(by, list):
            return [le_of(n.get("loopTurnMaxLeMs")) for n in by]
        return [le_of(get(self.d, "bidding.loopTurnMaxLeMs", None))]

    @property
    def ok(self):
        return self.load_rc == 0 and self.nodes_rc == 0 and bool(self.d)


def loop_list(r):
    return ", ".join(fmt_le(v) for v in r.node_loop_max())


def main():
    machine = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[1]) if "=" in line)
    commands = [line.rstrip("\n").split("|", 1) for line in open(sys.argv[2]) if "|" in line]
    runs = [Run(line) for line in open(sys.argv[3]) if line.strip()]
    failover = []
    for line in open(sys.argv[4]):
        if line.strip():
            lease, path, rc = line.split()
            try:
                d = json.load(open(path))
            except (OSError, ValueError):
                d = {}
            failover.append((int(lease), d, int(rc)))
    n = int(machine.get("nodes", 3))
    sides = {k: v.format(n=n) for k, v in SIDES.items()}
    by = {}
    for r in runs:
        by.setdefault((r.scn, r.side), []).append(r)
    out = []
    w = out.append

    w(f"# Cluster benchmark: {n} nodes on one PostgreSQL and one Redis, one machine")
    w("")
    w("Written by `make bench-cluster` (`bench/cluster.sh`, `bench/failover.py`, this report by "
      "`bench/cluster_report.py`). Raw JSON of every gavel-load run and each node's `/metrics` at "
      "its end: `bench/results/raw/cluster-*` (not committed).")
    w("")
    w("## Machine")
    w("")
    w(f"- CPUs: {machine.get('cpus')} ({machine.get('cpu')}), RAM {machine.get('ram')}, "
      f"{machine.get('kernel')}")
    w(f"- **Everything shares these {machine.get('cpus')} cores**: the load generator (one "
      f"thread), the {n} nodes (a loop thread and a writer thread each), PostgreSQL (a backend "
      "per connection, its WAL writer) and Redis. A cluster on one machine does not add "
      "CPUs: it measures what clustering costs, not how far it scales out.")
    w(f"- date: {machine.get('date')}; commit {machine.get('commit')}; the whole bench took "
      f"{int(machine.get('elapsed_s', 0)) / 60:.1f} min (expected "
      f"{int(machine.get('expected_s', 0)) / 60:.1f})")
    w(f"- load average (1, 5, 15 min) before / after: {machine.get('load_start')} / "
      f"{machine.get('load_end')}; open files limit {machine.get('nofile')}")
    w(f"- PostgreSQL {machine.get('postgres')} (`scripts/pg-test.sh`: a throwaway server on "
      "loopback, on the same disk; one server for every run of a and b, a fresh schema per "
      f"run); Redis {machine.get('redis')} without persistence")
    steals = [r.steal for r in runs]
    if steals:
        w(f"- CPU time the hypervisor took during the runs of a and b (s, each run): "
          f"{', '.join(f'{s:.2f}' for s in steals)}. A few tenths of a second or more: the host, "
          "not only Gavel, shaped that run.")
    w("")

    # ---- summary
    def tput(side):
        rs = by.get(("throughput", side), [])
        return med(r.g("throughput.acceptedPerS") for r in rs), rs

    def fan(side):
        rs = by.get(("many", side), [])
        return med(r.g("fanoutMs.p99") for r in rs), rs

    w("## Summary")
    w("")
    w(f"| measure | {sides['cluster']} | {sides['pg']} | {sides['sqlite']} |")
    w("| --- | ---: | ---: | ---: |")
    if any(s == "throughput" for s, _ in by):
        cells = []
        for side in ("cluster", "pg", "sqlite"):
            v, rs = tput(side)
            each = runs_fmt("{:,.0f}", [r.g("throughput.acceptedPerS") for r in rs])
            cells.append(fmt("**{:,.0f}**", v) + (f" ({each})" if rs else ""))
        w(f"| a. durable accepted bids/s, `throughput` (median of {machine.get('runs')}) | "
          + " | ".join(cells) + " |")
    if any(s == "many" for s, _ in by):
        cells = []
        for side in ("cluster", "pg"):
            v, rs = fan(side)
            each = runs_fmt("{:.1f}", [r.g("fanoutMs.p99") for r in rs])
            cells.append(fmt("**{:.1f} ms**", v) + (f" ({each})" if rs else ""))
        sockets = by.get(("many", "cluster"), by.get(("many", "pg"), []))
        total = sockets[0].g("connections.wsTotal") if sockets else None
        w(f"| b. fan-out p99, `many` ({fmt('{:,.0f}', total)} WebSockets, 1,000 bids/s; median "
          f"of {machine.get('runs')}) | " + " | ".join(cells) + " | — |")
    for lease, d, _ in failover:
        s = d.get("summary", {})
        f = s.get("failoverS", {})
        label = "the default" if lease == 5000 else "the tests' lease" if lease == 1500 else ""
        w(f"| c. failover, `--lease-ms {lease}`{' (' + label + ')' if label else ''}: kill -9 of "
          f"the owner → first accepted bid on another node, p50 / max of "
          f"{s.get('accepted', 0)}/{s.get('trials', 0)} trials | "
          f"**{fmt('{:.2f}', f.get('p50'))} s** / {fmt('{:.2f}', f.get('max'))} s | — | — |")
    w("")

    # ---- commands
    w("## Commands")
    w("")
    w(f"- a and b: `bench/cluster.sh` (AUCTION_DURATION={machine.get('duration')}, "
      f"CLUSTER_RUNS={machine.get('runs')}); runs interleaved (cluster, one node on PostgreSQL, "
      "one node on SQLite, then again), each on fresh data directories and a fresh schema.")
    w(f"- a cluster node (node1 … node{n}; the lease is the server's default, 5000 ms): "
      f"`{machine.get('cluster_cmd') or 'n/a'}`")
    w(f"- one node on PostgreSQL: `{machine.get('pg_cmd') or 'n/a'}`")
    w(f"- one node on SQLite: `{machine.get('sqlite_cmd') or 'n/a'}`")
    for scn, args in commands:
        urls = " ".join(f"--url URL{k} --server-pid PID{k}" for k in range(n))
        w(f"- {scn}, cluster: `gavel-load {urls} {args} --label {scn} --json FILE`; one node: "
          "the same with one `--url` and `--server-pid`")
    w(f"- gavel-load with {n} `--url`: sign-ins, leagues and joins go through node 0; auction a "
      f"is created, begun and closed through node a % {n}, which owns it; member m of auction a "
      f"connects its WebSocket and bids through node (a + m) % {n}. With 8 managers "
      f"{sum(1 for m in range(8) if m % n):d} of 8 bid through a node that forwards to the "
      f"owner; with 10, {sum(1 for m in range(10) if m % n):d} of 10. CPU and RSS are the sums "
      "over the nodes (`--server-pid` per node). Fan-out is measured in gavel-load, from the "
      "moment the bid was written to the moment each socket read its event, on every node: "
      "one clock, one process.")
    fo_leases = ", ".join(str(lease) for lease, _, _ in failover)
    if failover:
        d0 = failover[0][1]
        w(f"- c: `bench/failover.py --trials {machine.get('trials')} --lease-ms L` for L in "
          f"{fo_leases}: a fresh cluster (`scripts/cluster.sh`, PostgreSQL fsync on, "
          f"{d0.get('nodes', n)} nodes); per trial, an auction created and begun through node "
          f"k = trial % {d0.get('nodes', n)}, bids through it and the others, then `kill -9` of "
          f"node k and the next bid retried with one clientBidId through the other nodes in "
          f"turn, {d0.get('tryTimeoutS', 1):g} s per try, {d0.get('retryPauseS', 0.05) * 1000:g} "
          "ms between tries; node k is started again before the next trial. The time is from "
          "the kill to the acceptance, as the client sees it.")
    w("")

    # ---- a
    if any(s == "throughput" for s, _ in by):
        w("## a. Durable accepted bids/s: 100 auctions × 8 managers, every bid tops the highest "
          "in flight (`throughput`)")
        w("")
        w("| setup | accepted bids/s (runs) | round trip p50 / p99 ms | fan-out p99 ms | "
          "Gavel CPU (all nodes) | Gavel RSS peak (all nodes) | missed events | "
          "PostgreSQL deadlocks (runs) |")
        w("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |")
        for side in ("cluster", "pg", "sqlite"):
            rs = by.get(("throughput", side), [])
            if not rs:
                continue
            v = med(r.g("throughput.acceptedPerS") for r in rs)
            dls = "—" if side == "sqlite" else ", ".join(str(r.deadlocks) for r in rs)
            w(f"| {sides[side]} | **{fmt('{:,.0f}', v)}** "
              f"({runs_fmt('{:,.0f}', [r.g('throughput.acceptedPerS') for r in rs])}) | "
              f"{fmt('{:.1f}', med(r.g('rttMs.p50') for r in rs))} / "
              f"{fmt('{:.1f}', med(r.g('rttMs.p99') for r in rs))} | "
              f"{fmt('{:.1f}', med(r.g('fanoutMs.p99') for r in rs))} | "
              f"{fmt('{:.0f} %', med(r.g('server.cpuPct') for r in rs))} | "
              f"{fmt('{:.0f} MiB', med(r.g('server.rssMiBPeak') for r in rs))} | "
              f"{sum(missed(r.d) for r in rs):.0f} | {dls} |")
        w("")
        cluster_details(w, by.get(("throughput", "cluster"), []), n)

    # ---- b
    if any(s == "many" for s, _ in by):
        w("## b. Fan-out across nodes: 10 managers per auction, 1,000 bids/s overall (`many`)")
        w("")
        w("| setup | WebSockets joined | fan-out p50 / p99 ms (runs' p99) | first socket p99 ms | "
          "round trip p99 ms | accepted bids/s | Gavel CPU (all nodes) | Gavel RSS peak (all "
          "nodes) | missed events | PostgreSQL deadlocks (runs) |")
        w("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for side in ("cluster", "pg"):
            rs = by.get(("many", side), [])
            if not rs:
                continue
            w(f"| {sides[side]} | {fmt('{:,.0f}', med(r.g('connections.wsJoined') for r in rs))}"
              f" / {fmt('{:,.0f}', rs[0].g('connections.wsTotal'))} | "
              f"{fmt('{:.1f}', med(r.g('fanoutMs.p50') for r in rs))} / "
              f"**{fmt('{:.1f}', med(r.g('fanoutMs.p99') for r in rs))}** "
              f"({runs_fmt('{:.1f}', [r.g('fanoutMs.p99') for r in rs])}) | "
              f"{fmt('{:.1f}', med(r.g('fanoutFirstMs.p99') for r in rs))} | "
              f"{fmt('{:.1f}', med(r.g('rttMs.p99') for r in rs))} | "
              f"{fmt('{:,.0f}', med(r.g('throughput.acceptedPerS') for r in rs))} | "
              f"{fmt('{:.0f} %', med(r.g('server.cpuPct') for r in rs))} | "
              f"{fmt('{:.0f} MiB', med(r.g('server.rssMiBPeak') for r in rs))} | "
              f"{sum(missed(r.d) for r in rs):.0f} | "
              f"{', '.join(str(r.deadlocks) for r in rs)} |")
        w("")
        cluster_details(w, by.get(("many", "cluster"), []), n)

    # ---- c
    if failover:
        w("## c. Failover: the owner killed with SIGKILL → first accepted bid on another node")
        w("")
        w("| --lease-ms | trials accepted | kill → accepted p50 / max s (min) | kill → a "
          "survivor's log says it took the lease, p50 / max s | tries p50 | every trial (s) |")
        w("| --- | ---: | --- | --- | ---: | --- |")
        for lease, d, rc in failover:
            s = d.get("summary", {})
            f, ls = s.get("failoverS", {}), s.get("leaseTakenS", {})
            label = " (default)" if lease == 5000 else ""
            every = ", ".join(f"{t['failoverS']:.2f}" if t.get("accepted") else "failed"
                              for t in d.get("trials", []))
            w(f"| {lease}{label} | {s.get('accepted', 0)}/{s.get('trials', 0)}"
              f"{'' if rc == 0 else ' (exit ' + str(rc) + ')'} | "
              f"**{fmt('{:.2f}', f.get('p50'))}** / {fmt('{:.2f}', f.get('max'))} "
              f"({fmt('{:.2f}', f.get('min'))}) | {fmt('{:.2f}', ls.get('p50'))} / "
              f"{fmt('{:.2f}', ls.get('max'))} | {fmt('{:g}', s.get('triesP50'))} | {every} |")
            if d.get("error"):
                w(f"|  | error: {d['error']} | | | | |")
        w("")
        w("A node renews its leases every quarter of the lease and takes free or expired ones at "
          "the same pace; a follower caches the owner until the lease it read runs out. After "
          "the kill, a bid forwarded to the dead owner is answered 503 at once (Redis says "
          "nobody listens on the dead node's channel), so the client's tries come every 50 ms "
          "(the `tries` column); once the lease the survivor read runs out, the next try makes "
          "that survivor take the auction (a command for an auction whose owner's lease ran out "
          "takes it), and the bid is accepted: the time is the lease, a few milliseconds more.")
        w("")

    # ---- limits
    w("## What limits these numbers")
    w("")
    cl_t = by.get(("throughput", "cluster"), [])
    pg_t = by.get(("throughput", "pg"), [])
    w(f"- **One machine.** The {n} nodes, PostgreSQL, Redis and gavel-load share "
      f"{machine.get('cpus')} cores, so the cluster has no more CPU than one node; it has more "
      "work per bid: the event is applied by every node (each keeps a follower copy of every "
      "auction its clients joined), published to Redis by the owner and read from it by the "
      "others, and every node keeps its own connections to PostgreSQL.")
    if cl_t:
        d50 = med(r.g("rttDirectMs.p50") for r in cl_t)
        f50 = med(r.g("rttForwardedMs.p50") for r in cl_t)
        d99 = med(r.g("rttDirectMs.p99") for r in cl_t)
        f99 = med(r.g("rttForwardedMs.p99") for r in cl_t)
        w(f"- **Forwarding.** A bid that reaches another node goes to the owner over Redis and "
          "its answer comes back the same way: two more pub/sub hops and two more JSON "
          f"passes. In a (medians): round trip p50 {fmt('{:.1f}', d50)} ms through the owner, "
          f"{fmt('{:.1f}', f50)} ms forwarded; p99 {fmt('{:.1f}', d99)} / "
          f"{fmt('{:.1f}', f99)} ms.")
    if pg_t:
        eb_c = med(r.g("bidding.commitBatchMeanEvents") for r in cl_t)
        eb_p = med(r.g("bidding.commitBatchMeanEvents") for r in pg_t)
        w("- **PostgreSQL's commits.** Every accepted bid is durable: each node's writer commits "
          "its batch with a WAL flush (fsync on) on the same disk, and each node's batches hold "
          "only its own auctions' events, so there are more, smaller flushes per bid (in a, "
          f"{fmt('{:.0f}', eb_c)} events per group commit on the cluster's nodes against "
          f"{fmt('{:.0f}', eb_p)} on one node, medians). One node on PostgreSQL already spends "
          "most of the machine in PostgreSQL rather than in Gavel "
          "(`bench/results/postgres.md`).")
    cl_runs = [r for r in runs if r.side == "cluster"]
    dls = [r.deadlocks for r in cl_runs if r.deadlocks]
    unavailable = sum(r.g("bids.rejectedBy.unavailable", 0) or 0 for r in cl_runs)
    if dls:
        w(f"- **Deadlocks between a node's lease renewal and its own writer.** PostgreSQL "
          f"detected {sum(dls)} deadlock{'s' if sum(dls) != 1 else ''} during the cluster runs "
          "(one node without "
          "`--node-id` renews no lease). The renewal updates every auction row the node owns "
          "in one statement, in the table's order; the writer's group commit updates the rows "
          "of the auctions in its batch, in the batch's order; each can wait for a row the "
          "other holds. PostgreSQL finds it after `deadlock_timeout` (1 s) and aborts one of "
          "them: the renewal (it is tried again a quarter lease later) or the group commit "
          "(its bids are answered `unavailable` and its auctions reloaded: "
          f"{unavailable:.0f} bids answered `unavailable` in the cluster runs). The renewal "
          "runs on the node's loop thread, so the node serves nothing for that second (the "
          "longest loop turns in the tables above). Without a deadlock the renewal still waits "
          "on the loop thread for the writer's transaction in flight (its WAL flush).")
    w("- **The lease renewal runs on the loop.** Every quarter lease each node renews its leases "
      "in one statement on its loop thread's connection. The statement waits for the row locks "
      "of its own writer's transaction in flight (until that commit's WAL flush), so the loop "
      "serves nothing for up to one commit; under load that is tens of milliseconds, and it "
      "shows in the fan-out p99. Moving the renewal to a thread of its own (or the leases to a "
      "table the group commit only reads with `FOR KEY SHARE`) is the next step. (Followers "
      "read the log only after a lease without a word, at most 32 a look, and their owner only "
      "when a command needs it.)")
    w("- **Failover** is bounded below by the lease (the owner's last renewal must run out) and, "
      "as the client sees it, by its retry rhythm (section c).")
    w("")

    # ---- runs
    w("## Runs")
    w("")
    w("| scenario | setup | run | accepted bids/s | sent | accepted | valid accepted | round "
      "trip p50 / p99 / max ms | fan-out p50 / p99 / max ms | missed | conn errors | Gavel CPU "
      "| Gavel RSS peak | longest loop turn of the bidding, each node | host steal s | exit "
      "(load, nodes) |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | "
      "--- | ---: | --- |")
    for r in runs:
        conn_errors = (r.g("connections.wsFailed", 0) or 0) + (r.g("connections.wsDropped", 0) or 0)
        w(f"| {r.scn} | {sides[r.side]} | {r.run} | "
          f"{fmt('{:,.0f}', r.g('throughput.acceptedPerS'))} | "
          f"{fmt('{:.0f}', r.g('bids.sent'))} | {fmt('{:.0f}', r.g('bids.accepted'))} | "
          f"{fmt('{:.2f} %', r.g('bids.validAcceptedPct'))} | "
          f"{fmt('{:.1f}', r.g('rttMs.p50'))} / {fmt('{:.1f}', r.g('rttMs.p99'))} / "
          f"{fmt('{:.1f}', r.g('rttMs.max'))} | {fmt('{:.1f}', r.g('fanoutMs.p50'))} / "
          f"{fmt('{:.1f}', r.g('fanoutMs.p99'))} / {fmt('{:.1f}', r.g('fanoutMs.max'))} | "
          f"{missed(r.d) if r.d else 'n/a'} | "
          f"{conn_errors:.0f} | {fmt('{:.0f} %', r.g('server.cpuPct'))} | "
          f"{fmt('{:.0f} MiB', r.g('server.rssMiBPeak'))} | "
          f"{loop_list(r)} | {r.steal:.2f} | {r.load_rc}, {r.nodes_rc} |")
    w("")
    w("`missed` counts events an open connection never saw or saw twice (must be 0); a "
      "nonzero exit of gavel-load or of a node after SIGTERM marks a failed run.")
    print("\n".join(out))


def cluster_details(w, rs, n):
    """The cluster's own figures of a scenario's runs."""
    if not rs:
        return
    w(f"The cluster's runs in detail (each node's `/metrics` at the end of the run, summed over "
      "the nodes; gavel-load's split of the round trips and deliveries):")
    w("")
    w("| run | round trip p99 ms: via the owner / forwarded | delivery p99 ms (bid written → a "
      "socket read the event): owner's sockets / other nodes' | bids forwarded | forward "
      "failures | bids answered `unavailable` | leases held at the end (each node) | leases "
      "lost | gap repairs | publish lag p99 ms | PostgreSQL deadlocks / errors | longest loop "
      "turn of the bidding, each node |")
    w("| ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |")
    for r in rs:
        held = [nd.get("leasesHeldAtEnd") for nd in r.d.get("biddingByNode", [])]
        w(f"| {r.run} | {fmt('{:.1f}', r.g('rttDirectMs.p99'))} / "
          f"{fmt('{:.1f}', r.g('rttForwardedMs.p99'))} | "
          f"{fmt('{:.1f}', r.g('deliveryMs.ownerNode.p99'))} / "
          f"{fmt('{:.1f}', r.g('deliveryMs.otherNodes.p99'))} | "
          f"{fmt('{:,.0f}', r.counter('gavel_cluster_forwarded_total', kind='bid'))} | "
          f"{fmt('{:,.0f}', r.counter('gavel_cluster_forward_failures_total'))} | "
          f"{r.g('bids.rejectedBy.unavailable', 0) or 0:,.0f} | "
          f"{', '.join('n/a' if h is None else str(h) for h in held) or 'n/a'} | "
          f"{fmt('{:,.0f}', r.counter('gavel_cluster_lease_changes_total', change='lost'))} | "
          f"{fmt('{:,.0f}', r.counter('gavel_cluster_gap_repairs_total'))} | "
          f"{fmt('{:.1f}', r.hist_q('gavel_cluster_publish_lag_seconds', 0.99))} | "
          f"{r.deadlocks} / {r.pg_errors} | {loop_list(r)} |")
    w("")


if __name__ == "__main__":
    main()
