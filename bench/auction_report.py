"""Writes bench/results/auction.md from the JSON files of gavel-load (called by bench/auction.sh).

usage: auction_report.py MACHINE COMMANDS RUNS  (RUNS: lines "scenario run json load_rc server_rc")
"""
import json
import statistics
import sys

TITLES = {
    "seed": "Seed stress: 20 auctions × 8 managers, stress",
    "seed-20": "Seed stress capped at 20 bids/s per manager (supplementary)",
    "many": "Many rooms: 1,000 auctions × 10 managers, 1,000 bids/s",
    "big": "Big room: 1 auction, 10 bidders, 2,000 spectators, 10 bids/s",
    "throughput": "Throughput: 100 auctions × 8 managers, pipeline",
    "throughput-stress": "Throughput with plain stress (supplementary)",
}


def get(d, path, default=0.0):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return d


def missed(d):
    """Events some connection did not see: gaps, connections behind at the end, fan-outs that
    never reached every connection, connections dropped during the run."""
    return (get(d, "events.gaps") + get(d, "events.connectionsBehindAtEnd")
            + get(d, "fanoutMs.incomplete") + get(d, "connections.wsDropped"))


# (label, extractor, target text, predicate on the median or None, format)
CHECKS = {
    "seed": [
        ("valid bids accepted", lambda d: get(d, "bids.validAcceptedPct"), "100 %",
         lambda v: v >= 100.0, "{:.2f} %"),
        ("bid round trip p50", lambda d: get(d, "rttMs.p50"), "≤ 1 ms", lambda v: v <= 1, "{:.3f} ms"),
        ("bid round trip p99", lambda d: get(d, "rttMs.p99"), "≤ 5 ms", lambda v: v <= 5, "{:.3f} ms"),
        ("fan-out p99", lambda d: get(d, "fanoutMs.p99"), "≤ 10 ms", lambda v: v <= 10, "{:.3f} ms"),
        ("accepted bids/s", lambda d: get(d, "throughput.acceptedPerS"), "", None, "{:.0f}"),
        ("bids sent/s", lambda d: get(d, "bids.sent") / max(get(d, "throughput.windowS"), 1e-9), "",
         None, "{:.0f}"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "", None, "{:.0f} %"),
    ],
    "many": [
        ("WebSockets joined", lambda d: get(d, "connections.wsJoined"), "all 10,000",
         lambda v: v >= 10000, "{:.0f}"),
        ("server RSS peak", lambda d: get(d, "server.rssMiBPeak"), "≤ 300 MiB", lambda v: v <= 300,
         "{:.1f} MiB"),
        ("fan-out p99", lambda d: get(d, "fanoutMs.p99"), "≤ 50 ms", lambda v: v <= 50, "{:.3f} ms"),
        ("accepted bids/s", lambda d: get(d, "throughput.acceptedPerS"), "1,000",
         lambda v: v >= 950, "{:.0f}"),
        ("bid round trip p99", lambda d: get(d, "rttMs.p99"), "", None, "{:.3f} ms"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "", None, "{:.0f} %"),
    ],
    "big": [
        ("events missed by any connection", missed, "0 (every spectator sees every event)",
         lambda v: v == 0, "{:.0f}"),
        ("spectators + bidders joined", lambda d: get(d, "connections.wsJoined"), "2,010",
         lambda v: v >= 2010, "{:.0f}"),
        ("fan-out p99", lambda d: get(d, "fanoutMs.p99"), "≤ 30 ms", lambda v: v <= 30, "{:.3f} ms"),
        ("fan-out p50", lambda d: get(d, "fanoutMs.p50"), "", None, "{:.3f} ms"),
        ("first connection sees the bid, p50", lambda d: get(d, "fanoutFirstMs.p50"), "", None,
         "{:.3f} ms"),
        ("bid round trip p50", lambda d: get(d, "rttMs.p50"), "", None, "{:.3f} ms"),
        ("accepted bids/s", lambda d: get(d, "throughput.acceptedPerS"), "10", None, "{:.1f}"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "", None, "{:.0f} %"),
    ],
    "throughput": [
        ("durable accepted bids/s", lambda d: get(d, "throughput.acceptedPerS"), "≥ 10,000",
         lambda v: v >= 10000, "{:.0f}"),
        ("bid round trip p50", lambda d: get(d, "rttMs.p50"), "", None, "{:.3f} ms"),
        ("bid round trip p99", lambda d: get(d, "rttMs.p99"), "", None, "{:.3f} ms"),
        ("fan-out p99", lambda d: get(d, "fanoutMs.p99"), "", None, "{:.3f} ms"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "", None, "{:.0f} %"),
        ("load generator CPU", lambda d: get(d, "client.cpuPct"), "", None, "{:.0f} %"),
    ],
}
CHECKS["seed-20"] = CHECKS["seed"]
CHECKS["throughput-stress"] = CHECKS["throughput"]


def fmt(f, v):
    return f.format(v)


def row(d):
    r, f = d.get("rttMs", {}), d.get("fanoutMs", {})
    rej = ", ".join(f"{k} {v}" for k, v in sorted(get(d, "bids.rejectedBy", {}).items())) or "—"
    return ("| {run} | {joined}/{total} | {sent} | {acc} | {tput:.0f} | {valid:.2f} % | {rej} | "
            "{r50:.3f} / {r90:.3f} / {r99:.3f} / {rmax:.3f} | {f50:.3f} / {f90:.3f} / {f99:.3f} / "
            "{fmax:.3f} | {missed:.0f} | {cerr:.0f} | {cpu:.0f} % | {ccpu:.0f} % | {rss:.1f} |").format(
        run=d["_run"], joined=get(d, "connections.wsJoined"), total=get(d, "connections.wsTotal"),
        sent=get(d, "bids.sent"), acc=get(d, "bids.accepted"),
        tput=get(d, "throughput.acceptedPerS"), valid=get(d, "bids.validAcceptedPct"), rej=rej,
        r50=r.get("p50", 0), r90=r.get("p90", 0), r99=r.get("p99", 0), rmax=r.get("max", 0),
        f50=f.get("p50", 0), f90=f.get("p90", 0), f99=f.get("p99", 0), fmax=f.get("max", 0),
        missed=missed(d), cerr=get(d, "connections.wsFailed") + get(d, "connections.wsDropped"),
        cpu=get(d, "server.cpuPct"), ccpu=get(d, "client.cpuPct"), rss=get(d, "server.rssMiBPeak"))


def main():
    machine = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[1]) if "=" in line)
    commands = open(sys.argv[2]).read()
    runs = {}
    order = []
    problems = []
    for line in open(sys.argv[3]):
        scn, i, path, lrc, src = line.split()
        try:
            d = json.load(open(path))
        except (OSError, ValueError):
            problems.append(f"{scn} run {i}: no JSON (gavel-load exit {lrc})")
            continue
        d["_run"] = int(i)
        if scn not in runs:
            runs[scn] = []
            order.append(scn)
        runs[scn].append(d)
        if lrc != "0":
            problems.append(f"{scn} run {i}: gavel-load exited {lrc}")
        if src != "0":
            problems.append(f"{scn} run {i}: the server exited {src} after SIGTERM (want 0)")

    out = []
    w = out.append
    w("# Live-auction benchmark")
    w("")
    w("Written by `make bench` (bench/auction.sh, after bench/run.sh) with `build/gavel-load` "
      "(bench/gavel-load.c). Raw JSON per run: `bench/results/raw/auction-SCENARIO-N.json`.")
    w("")
    w("## Machine")
    w("")
    w(f"- CPUs: {machine.get('cpus')} ({machine.get('cpu')})")
    w(f"- RAM: {machine.get('ram')}")
    w(f"- kernel: {machine.get('kernel')}")
    w(f"- date: {machine.get('date')}")
    w(f"- commit: {machine.get('commit')}")
    w(f"- load average (1, 5, 15 min) before / after: {machine.get('load_start')} / "
      f"{machine.get('load_end')}")
    w(f"- open files limit: {machine.get('nofile')}")
    w("")
    w(f"The server and the load generator share the same {machine.get('cpus')} CPUs (one loop "
      "thread each); a load above ~0.5 before the runs means other work was competing for them.")
    w("")
    w("## Commands")
    w("")
    w(f"- server (a fresh data directory for every run): `{machine.get('server_cmd')}`")
    w(commands.rstrip("\n"))
    w("")
    w("Every run signs in its users over HTTP (magic link → devToken → verify), creates the "
      "leagues (lotOrder fixed, minManagers 1, antiSnipeSeconds 0, intermissionSeconds 0, budget "
      "10^12, minBid 1, minIncrement 1), joins the managers by invite code and the spectators by "
      "watch code, creates the auctions, connects every member over `/ws` (`auth` → `ready`, "
      "`join` → `snapshot`), begins the auctions and bids over the WebSocket. The commissioner "
      "closes a lot (REST `close-lot`) after `--bids-per-lot` accepted bids or when no other "
      "manager can outbid the leader.")
    w("")
    w(f"## Summary (medians of the runs; {machine.get('runs')} per scenario, "
      f"{machine.get('runs_big')} for many and big)")
    w("")
    w("| scenario | measure | target | median | runs | met |")
    w("| --- | --- | --- | ---: | --- | --- |")
    for scn in order:
        ds = runs[scn]
        for label, fn, target, ok, f in CHECKS.get(scn, []):
            vals = [fn(d) for d in ds]
            med = statistics.median(vals)
            each = ", ".join(fmt(f, v) for v in vals)
            met = "" if ok is None else ("yes" if ok(med) else "**no**")
            w(f"| {scn} | {label} | {target} | {fmt(f, med)} | {each} | {met} |")
    w("")
    if problems:
        w("Problems:")
        w("")
        for p in problems:
            w(f"- {p}")
        w("")
    w("## Runs")
    for scn in order:
        w("")
        w(f"### {TITLES.get(scn, scn)}")
        w("")
        w("| run | WS joined | bids sent | accepted | accepted/s | valid accepted | rejected by code "
          "| RTT p50 / p90 / p99 / max ms | fan-out p50 / p90 / p99 / max ms | missed events | "
          "conn errors | server CPU | load gen CPU | server RSS peak MiB |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: |")
        for d in runs[scn]:
            w(row(d))
        setup = [get(d, "setupS") for d in runs[scn]]
        s = setup[0] if setup else {}
        w("")
        w("Setup of run 1: sign-in {:.1f} s, leagues {:.1f} s, joins {:.1f} s, auctions {:.1f} s, "
          "WebSockets {:.1f} s; server RSS with every socket joined {:.1f} MiB.".format(
              s.get("signin", 0), s.get("leagues", 0), s.get("joins", 0), s.get("auctions", 0),
              s.get("connect", 0), get(runs[scn][0], "server.rssMiBConnected")))
        fails = {}
        for d in runs[scn]:
            for key in ("connections.failedBy", "connections.droppedBy", "connections.httpErrors",
                        "events.errorsBy"):
                for k, v in get(d, key, {}).items():
                    fails[f"{key.split('.')[1]} {k}"] = fails.get(f"{key.split('.')[1]} {k}", 0) + v
        if fails:
            w("")
            w("Errors over the runs: " + ", ".join(f"{k}: {v}" for k, v in sorted(fails.items())))
    w("")
    w("## Reading the results")
    w("")
    w("- **RTT** (bid round trip): the `bid` message written → its `bid_result` read, on the "
      "bidder's connection. Every bid is acknowledged after the group commit (durable).")
    w("- **fan-out**: the bid written → the `bid` event with that `seq` read by *every* "
      "connection joined to the room (managers and spectators); `first connection sees the bid` "
      "is the same up to the first of them.")
    w("- **valid accepted**: accepted / (accepted + rejections that are not lost races + bids "
      "without an answer). A lost race is `bid_too_low` (another bid got there first), "
      "`stale_lot` / `lot_closed` (the commissioner's hammer got there first) or "
      "`auction_not_running`; with `stress`, up to 7 managers bid the same amount at once and all "
      "but one lose the race by design.")
    w("- **missed events**: `seq` gaps on any connection + connections behind the auction's last "
      "event at the end + fan-outs that never reached every connection + connections dropped "
      "during the run.")
    w("- **server CPU**: utime + stime of the server process over the bidding window, from "
      "`/proc/PID/stat` (100 % = one core); **RSS peak**: the highest `VmRSS` sampled once a "
      "second from the start of the run.")
    w("- Strategies: `stress` — every manager bids current + minIncrement as soon as its own "
      "connection shows it is not leading (one bid in flight per manager); `pipeline` — the "
      "same, but each bid tops the highest bid already in flight in that auction, so the bids "
      "of a burst are valid in arrival order (the throughput scenario counts durable accepted "
      "bids); `rate` — a global rate spread round-robin over the auctions, one bid in flight "
      "per auction.")
    w("- The load generator is closed-loop (a manager waits for its answer before bidding again), "
      "so under saturation latency grows with the number of bidders (Little's law) rather than "
      "bids being dropped.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
