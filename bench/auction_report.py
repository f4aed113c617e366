"""Writes bench/results/auction.md from the JSON files of gavel-load (called by bench/auction.sh).

usage: auction_report.py MACHINE COMMANDS RUNS [SOAK_SUMMARY]
         RUNS: lines "scenario run json load_rc server_rc"; SOAK_SUMMARY: a JSON file that holds the
         soak's comparison: written when this report has soak runs, read (for the summary's soak
         rows) when it has none
       auction_report.py --merge-metrics JSON METRICS
         adds what the server's GET /metrics text (METRICS, scraped at the end of the run) says
         about its loop turns and commits since it started to the run's JSON, as "serverMetrics"

The measured phase's own loop turns and commits (the bidding, or the sign-in storm, without the
setup) come from gavel-load, which scrapes /metrics when the phase begins and when it ends: the
run's "bidding" (or "duringStorm") object.
"""
import json
import os
import statistics
import sys

TITLES = {
    "seed-paced": "Seed paced: 20 auctions × 8 managers, each bidding about 1 s after being outbid",
    "seed": "Seed stress: 20 auctions × 8 managers, stress",
    "seed-20": "Seed stress capped at 20 bids/s per manager (supplementary)",
    "many": "Many rooms: 1,000 auctions × 10 managers, 1,000 bids/s",
    "big": "Big room: 1 auction, 10 bidders, 2,000 spectators, 10 bids/s",
    "throughput": "Throughput: 100 auctions × 8 managers, pipeline",
    "throughput-stress": "Throughput with plain stress (supplementary)",
    "signin-storm": "Sign-in storm: 300 users in 10 s (magic link → verify → WebSocket → ready)",
    "soak": "Soak: 200 auctions × 10 managers (2,000 sockets), 500 bids/s",
}

def floor_md_row(path, n_cells, prefix, last=None):
    """The cells of floor.md's first table row of n_cells cells or more that begins with prefix
    (and ends with last, when given), or None (no such row, or no floor.md). The tables' first
    cells tell them apart: bytes per commit, requests/s, connections."""
    try:
        for line in open(path):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= n_cells and cells[:len(prefix)] == prefix and \
                    last in (None, cells[-1]):
                return cells
    except OSError:
        pass
    return None


def commit_floor_row(path, size="262144"):
    """(arrival wait p99, p99.9) in ms of floor.md's commit-floor row for size bytes, or None."""
    cells = floor_md_row(path, 15, [size])
    return (cells[12], cells[13]) if cells else None


def copy_floor_rows(path):
    """(wait p99, copy ms p50) of floor.md's --copy-matrix rows: no copier, a 20 MiB and a
    500 MiB database, and 500 MiB written back every 16 pages (None when floor.md lacks that
    row); None when any of the first three is missing."""
    rows = [floor_md_row(path, 13, ["500", "16384", mib]) for mib in ("none", "20", "500")]
    rows.append(floor_md_row(path, 14, ["500", "16384", "500"], last="16 pages"))
    return [(c[9], c[12]) if c else None for c in rows] if all(rows[:3]) else None


def paced_floor_row(path, rate):
    """(wait p50, p99) in ms of floor.md's paced commit-floor row for requests/s rate, or None."""
    cells = floor_md_row(path, 13, [rate, "16384"])
    return (cells[9], cells[10]) if cells else None


# ---- /metrics -------------------------------------------------------------------------------------


def floor_row(path):
    """(burst p50, p99) in ms of floor.md's row for 2,010 sockets, 300 bytes, one writer and one
    reader thread, or None."""
    cells = floor_md_row(path, 13, ["2010", "300", "1", "1"])
    return (cells[10], cells[11]) if cells else None


def parse_prometheus(text):
    """{name: [(labels dict, value)]} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            head, value = line.rsplit(" ", 1)
            value = float(value)
        except ValueError:
            continue
        labels = {}
        if "{" in head:
            name, rest = head.split("{", 1)
            for part in rest.rstrip("}").split(","):
                if "=" in part:
                    k, v = part.split("=", 1)
                    labels[k.strip()] = v.strip().strip('"')
        else:
            name = head
        out.setdefault(name, []).append((labels, value))
    return out


def hist(m, name):
    """(buckets [(le, cumulative)], sum, count) of a histogram summed over its other labels, or
    None when the server does not expose it."""
    if name + "_count" not in m:
        return None
    buckets = {}
    for labels, v in m.get(name + "_bucket", []):
        le = labels.get("le")
        if le is None:
            continue
        le = float("inf") if le == "+Inf" else float(le)
        buckets[le] = buckets.get(le, 0) + v
    total = sum(v for _, v in m.get(name + "_sum", []))
    count = sum(v for _, v in m.get(name + "_count", []))
    return sorted(buckets.items()), total, count


def quantile(h, q):
    """histogram_quantile as Prometheus does it: linear inside the bucket; the largest finite
    bound when it falls in +Inf."""
    if not h or not h[2]:
        return None
    buckets, _, count = h
    rank = q * count
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le


def gauge(m, name):
    vals = [v for _, v in m.get(name, [])]
    return max(vals) if vals else None


def server_metrics(text):
    m = parse_prometheus(text)
    ms = lambda v: None if v is None else v * 1000.0  # noqa: E731
    loop = hist(m, "gavel_loop_turn_seconds")
    commit = hist(m, "gavel_auction_commit_seconds")
    batch = hist(m, "gavel_auction_commit_batch_events")
    db = hist(m, "gavel_db_commit_duration_seconds")
    http = hist(m, "gavel_http_request_duration_seconds")
    return {
        "loopTurnMaxMs": ms(gauge(m, "gavel_loop_turn_max_seconds")),
        "loopTurnP99Ms": ms(quantile(loop, 0.99)),
        "loopTurnCount": loop[2] if loop else None,
        "auctionCommitP99Ms": ms(quantile(commit, 0.99)),
        "auctionCommitMeanMs": ms(commit[1] / commit[2]) if commit and commit[2] else None,
        "auctionCommitCount": commit[2] if commit else None,
        "commitBatchMeanEvents": batch[1] / batch[2] if batch and batch[2] else None,
        "commitBatchP99Events": quantile(batch, 0.99),
        "dbCommitP99Ms": ms(quantile(db, 0.99)),
        "dbCommitMeanMs": ms(db[1] / db[2]) if db and db[2] else None,
        "auctionCommitsFailed": gauge(m, "gavel_auction_commits_failed_total"),
        "httpRequestP99Ms": ms(quantile(http, 0.99)),
        "httpRequestCount": http[2] if http else None,
        "wsOutputCutoffs": gauge(m, "gavel_ws_output_cutoffs_total"),
        "processRssMiB": (gauge(m, "process_resident_memory_bytes") or 0) / 1048576 or None,
    }


def merge_metrics(json_path, metrics_path):
    try:
        d = json.load(open(json_path))
    except (OSError, ValueError):
        return
    try:
        text = open(metrics_path).read()
    except OSError:
        text = ""
    d["serverMetrics"] = server_metrics(text) if text else {"error": "no /metrics answer"}
    with open(json_path, "w") as f:
        json.dump(d, f, indent=2)


# ---- reading runs ---------------------------------------------------------------------------------


def get(d, path, default=0.0):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return default
        d = d[k]
    return default if d is None else d


def metric(d, key):
    """A value from serverMetrics, None when the server does not expose it."""
    v = get(d, "serverMetrics." + key, None)
    return v if isinstance(v, (int, float)) else None


def phase(d):
    """The measured phase's deltas of /metrics from gavel-load: "bidding", or "duringStorm"."""
    p = d.get("bidding") or d.get("duringStorm")
    return p if isinstance(p, dict) else {}


def phase_num(d, key):
    """A number of the phase's deltas, None when n/a."""
    v = phase(d).get(key)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def phase_le(d, key):
    """A bucket bound of the phase's deltas (ms): a number, inf for "+Inf", None when n/a."""
    v = phase(d).get(key)
    if v == "+Inf":
        return float("inf")
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def med_le(vals):
    """The median of bucket bounds, kept a bound (the higher middle one of an even count)."""
    vals = [v for v in vals if v is not None]
    return statistics.median_high(vals) if vals else None


def fmt_le(v, unit="ms"):
    """A bucket's upper bound: "≤ 2.5 ms", "≤ 1 s", "> 10 s" (+Inf), "n/a"."""
    if v is None:
        return "n/a"
    if v == float("inf"):
        return "> 10 s" if unit == "ms" else "> last bucket"
    if unit == "ms" and v >= 1000:
        return f"≤ {v / 1000:g} s"
    return f"≤ {v:g}{' ' + unit if unit else ''}"


def missed(d):
    """Events an open joined connection never saw (gaps in its seq, or behind the auction's seq at
    the end) plus events seen twice or out of order. Connections the server cut (1008) or that
    dropped are counted apart."""
    return get(d, "events.missed", get(d, "events.gaps") + get(d, "events.behindEventsAtEnd")) + \
        get(d, "events.duplicates")


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(f, v):
    return "n/a" if v is None else f.format(v)


def soak_summary(ds):
    """The soak's comparison, median over its runs (normally one)."""
    cmps = [d.get("soakCompare") for d in ds if d.get("soakCompare")]
    if not cmps:
        return None
    pick = lambda path: med([get(c, path, None) for c in cmps])  # noqa: E731
    out = {
        "runs": len(cmps),
        "minutes": get(ds[0], "params.durationS") / 60,
        "windowS": pick("windowS"),
        "windowsCompared": pick("windowsCompared"),
        "rssMiBFirst": pick("first.rssMiB"), "rssMiBLast": pick("last.rssMiB"),
        "rssChangePct": pick("rssChangePct"),
        "rssAnonMiBFirst": pick("first.rssAnonMiB"), "rssAnonMiBLast": pick("last.rssAnonMiB"),
        "rssAnonChangePct": pick("rssAnonChangePct"),
        "rssFileMiBFirst": pick("first.rssFileMiB"), "rssFileMiBLast": pick("last.rssFileMiB"),
        "rttP99MsFirst": pick("first.rttP99Ms"), "rttP99MsLast": pick("last.rttP99Ms"),
        "rttP99ChangePct": pick("rttP99ChangePct"),
        "acceptedPerS": med([get(d, "throughput.acceptedPerS") for d in ds]),
        "missed": med([missed(d) for d in ds]),
    }
    # the machine under it: (summary stem, gavel-load's value in first/last, its change key)
    for stem, value, change in (("hostRefMs", "hostRefMs.total", "hostRefChangePct"),
                                ("clientCpuMsPerBid", "clientCpuMsPerBid",
                                 "clientCpuPerBidChangePct"),
                                ("serverCpuMsPerBid", "serverCpuMsPerBid",
                                 "serverCpuPerBidChangePct"),
                                ("diskMsPerWrite", "diskMsPerWrite", "diskMsPerWriteChangePct")):
        out[stem + "First"] = pick("first." + value)
        out[stem + "Last"] = pick("last." + value)
        out[stem + "ChangePct"] = pick(change)
    return out


def soak_cost_row(soak):
    """The summary's line on the machine under the soak, or None when the runs lack it."""
    parts = []
    for label, stem in (("the host reference (the same work every second in a thread of "
                         "gavel-load's own: a slower machine makes it take longer)", "hostRefMs"),
                        ("the load generator's CPU per accepted bid", "clientCpuMsPerBid"),
                        ("the server's CPU per accepted bid", "serverCpuMsPerBid"),
                        ("the disk's time per write (/proc/diskstats, every process's writes)",
                         "diskMsPerWrite")):
        ch, a, b = (soak.get(stem + k) for k in ("ChangePct", "First", "Last"))
        if None not in (ch, a, b):
            parts.append(f"{label}: {ch:+.1f} % ({a:.3f} → {b:.3f} ms)")
    return "; ".join(parts) if parts else None


def soak_correlations(w, wins):
    """Says how the windows' RTT p99 moved with the machine's speed and each side's CPU."""
    full = [x for x in wins if x.get("clientCpuMsPerBid") is not None]
    p99 = [x["rttP99Ms"] for x in full]
    parts = []
    for label, key in (("the load generator's CPU per bid", "clientCpuMsPerBid"),
                       ("the server's CPU per bid", "serverCpuMsPerBid"),
                       ("the host reference", "hostRefMs.total"),
                       ("the disk's time per write", "diskMsPerWrite")):
        vals = [get(x, key, None) for x in full]
        if vals and None not in vals:
            r = pearson(p99, vals)
            if r is not None:
                parts.append(f"{label} r = {r:.2f}")
    if parts:
        w("")
        w("How each window's RTT p99 moved with (Pearson's r over the windows): "
          + ", ".join(parts) + ". The host reference's work never changes: where it rises with "
          "the p99, the machine under both processes was slower in that window. A durable "
          "commit waits for the disk: where the disk's time per write rises with the p99, the "
          "round trips waited for it.")


def pearson(xs, ys):
    """The correlation of two equally long lists (None when it is undefined)."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / (sxx * syy) ** 0.5 if sxx > 0 and syy > 0 else None


# ---- the summary: issue 13's targets --------------------------------------------------------------

# (scenario, measure, target, before, extractor, predicate on the median, format)
SUMMARY = [
    ("seed-paced", "bid round trip p50", "≤ 1 ms", "—", lambda d: get(d, "rttMs.p50"),
     lambda v: v <= 1, "{:.3f} ms"),
    ("seed-paced", "bid round trip p99", "≤ 3 ms", "—", lambda d: get(d, "rttMs.p99"),
     lambda v: v <= 3, "{:.3f} ms"),
    ("seed-paced", "fan-out p99", "≤ 5 ms", "—", lambda d: get(d, "fanoutMs.p99"),
     lambda v: v <= 5, "{:.3f} ms"),
    ("seed", "bid round trip p99", "≤ 10 ms", "36.081 ms", lambda d: get(d, "rttMs.p99"),
     lambda v: v <= 10, "{:.3f} ms"),
    ("seed", "accepted bids/s", "≥ 3,621 (3 × 1,207)", "1,207",
     lambda d: get(d, "throughput.acceptedPerS"), lambda v: v >= 3 * 1207, "{:,.0f}"),
    ("throughput", "durable accepted bids/s", "≥ 10,000", "2,648",
     lambda d: get(d, "throughput.acceptedPerS"), lambda v: v >= 10000, "{:,.0f}"),
    ("many", "fan-out p99", "≤ 15 ms", "72.143 ms", lambda d: get(d, "fanoutMs.p99"),
     lambda v: v <= 15, "{:.3f} ms"),
    ("many", "server RSS peak", "≤ 200 MiB", "250.0 MiB", lambda d: get(d, "server.rssMiBPeak"),
     lambda v: v <= 200, "{:.1f} MiB"),
    ("big", "fan-out p99", "≤ 15 ms", "37.618 ms", lambda d: get(d, "fanoutMs.p99"),
     lambda v: v <= 15, "{:.3f} ms"),
    ("signin-storm", "users all the way in", "300 of 300", "—", lambda d: get(d, "storm.in"),
     lambda v: v >= 300, "{:.0f}"),
    ("signin-storm", "p99 of the slowest step", "≤ 50 ms per step", "—",
     lambda d: get(d, "storm.worstStepP99Ms"), lambda v: v <= 50, "{:.3f} ms"),
]

# per scenario: further medians (measure, extractor, format)
DETAILS = {
    "seed-paced": [
        ("valid bids accepted", lambda d: get(d, "bids.validAcceptedPct"), "{:.2f} %"),
        ("bid round trip p90", lambda d: get(d, "rttMs.p90"), "{:.3f} ms"),
        ("fan-out p50", lambda d: get(d, "fanoutMs.p50"), "{:.3f} ms"),
        ("accepted bids/s", lambda d: get(d, "throughput.acceptedPerS"), "{:.0f}"),
        ("bids sent/s", lambda d: get(d, "bids.sent") / max(get(d, "throughput.windowS"), 1e-9),
         "{:.0f}"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "{:.0f} %"),
    ],
    "seed": [
        ("valid bids accepted", lambda d: get(d, "bids.validAcceptedPct"), "{:.2f} %"),
        ("bid round trip p50", lambda d: get(d, "rttMs.p50"), "{:.3f} ms"),
        ("fan-out p99", lambda d: get(d, "fanoutMs.p99"), "{:.3f} ms"),
        ("bids sent/s", lambda d: get(d, "bids.sent") / max(get(d, "throughput.windowS"), 1e-9),
         "{:.0f}"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "{:.0f} %"),
    ],
    "many": [
        ("WebSockets joined (of 10,000)", lambda d: get(d, "connections.wsJoined"), "{:.0f}"),
        ("accepted bids/s (of 1,000)", lambda d: get(d, "throughput.acceptedPerS"), "{:.0f}"),
        ("fan-out p50", lambda d: get(d, "fanoutMs.p50"), "{:.3f} ms"),
        ("bid round trip p99", lambda d: get(d, "rttMs.p99"), "{:.3f} ms"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "{:.0f} %"),
    ],
    "big": [
        ("spectators + bidders joined (of 2,010)", lambda d: get(d, "connections.wsJoined"),
         "{:.0f}"),
        ("fan-out p50", lambda d: get(d, "fanoutMs.p50"), "{:.3f} ms"),
        ("first connection sees the bid, p50", lambda d: get(d, "fanoutFirstMs.p50"), "{:.3f} ms"),
        ("bid round trip p50", lambda d: get(d, "rttMs.p50"), "{:.3f} ms"),
        ("accepted bids/s", lambda d: get(d, "throughput.acceptedPerS"), "{:.1f}"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "{:.0f} %"),
    ],
    "throughput": [
        ("bid round trip p50", lambda d: get(d, "rttMs.p50"), "{:.3f} ms"),
        ("bid round trip p99", lambda d: get(d, "rttMs.p99"), "{:.3f} ms"),
        ("fan-out p99", lambda d: get(d, "fanoutMs.p99"), "{:.3f} ms"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "{:.0f} %"),
        ("load generator CPU", lambda d: get(d, "client.cpuPct"), "{:.0f} %"),
    ],
    "signin-storm": [
        ("magic link p50 / p99", lambda d: (get(d, "storm.stepsMs.magicLink.p50"),
                                            get(d, "storm.stepsMs.magicLink.p99")), None),
        ("verify p50 / p99", lambda d: (get(d, "storm.stepsMs.verify.p50"),
                                        get(d, "storm.stepsMs.verify.p99")), None),
        ("WebSocket connect p50 / p99", lambda d: (get(d, "storm.stepsMs.wsConnect.p50"),
                                                   get(d, "storm.stepsMs.wsConnect.p99")), None),
        ("auth → ready p50 / p99", lambda d: (get(d, "storm.stepsMs.wsAuth.p50"),
                                              get(d, "storm.stepsMs.wsAuth.p99")), None),
        ("all steps p99 / max", lambda d: (get(d, "storm.stepsMs.total.p99"),
                                           get(d, "storm.stepsMs.total.max")), None),
        ("start lag of this tool p99 (ms)", lambda d: get(d, "storm.startLagMs.p99"), "{:.3f}"),
        ("the server's own HTTP request p99 (magic link and verify, from /metrics)",
         lambda d: metric(d, "httpRequestP99Ms"), "{:.3f} ms"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "{:.0f} %"),
    ],
    "soak": [
        ("accepted bids/s (of 500)", lambda d: get(d, "throughput.acceptedPerS"), "{:.0f}"),
        ("bid round trip p99 (whole run)", lambda d: get(d, "rttMs.p99"), "{:.3f} ms"),
        ("fan-out p99 (whole run)", lambda d: get(d, "fanoutMs.p99"), "{:.3f} ms"),
        ("server RSS peak", lambda d: get(d, "server.rssMiBPeak"), "{:.1f} MiB"),
        ("server CPU", lambda d: get(d, "server.cpuPct"), "{:.0f} %"),
    ],
}
DETAILS["seed-20"] = DETAILS["seed"]
DETAILS["throughput-stress"] = DETAILS["throughput"]


def pair_fmt(v):
    return "{:.3f} / {:.3f} ms".format(*v)


def row(d):
    r, f = d.get("rttMs", {}), d.get("fanoutMs", {})
    rej = ", ".join(f"{k} {v}" for k, v in sorted(get(d, "bids.rejectedBy", {}).items())) or "—"
    return ("| {run} | {joined}/{total} | {sent} | {acc} | {tput:.0f} | {valid:.2f} % | {rej} | "
            "{r50:.3f} / {r90:.3f} / {r99:.3f} / {rmax:.3f} | {f50:.3f} / {f90:.3f} / {f99:.3f} / "
            "{fmax:.3f} | {missed:.0f} | {cut:.0f} / {cutoffs} | {cerr:.0f} | {cpu:.0f} % | "
            "{ccpu:.0f} % | {rss:.1f} | {loop} |").format(
        run=d["_run"], joined=get(d, "connections.wsJoined"), total=get(d, "connections.wsTotal"),
        sent=get(d, "bids.sent"), acc=get(d, "bids.accepted"),
        tput=get(d, "throughput.acceptedPerS"), valid=get(d, "bids.validAcceptedPct"), rej=rej,
        r50=r.get("p50", 0), r90=r.get("p90", 0), r99=r.get("p99", 0), rmax=r.get("max", 0),
        f50=f.get("p50", 0), f90=f.get("p90", 0), f99=f.get("p99", 0), fmax=f.get("max", 0),
        missed=missed(d), cut=get(d, "connections.wsCutSlow"),
        cutoffs=fmt("{:.0f}", metric(d, "wsOutputCutoffs")),
        cerr=get(d, "connections.wsFailed") + get(d, "connections.wsDropped"),
        cpu=get(d, "server.cpuPct"), ccpu=get(d, "client.cpuPct"), rss=get(d, "server.rssMiBPeak"),
        loop=fmt_le(phase_le(d, "loopTurnMaxLeMs")))


def storm_row(d):
    s = lambda step, q: get(d, f"storm.stepsMs.{step}.{q}")  # noqa: E731
    fails = ", ".join(f"{k} {v}" for k, v in sorted(get(d, "storm.failedBy", {}).items())) or "—"
    return ("| {run} | {inn:.0f}/{users:.0f} | {} | {} | {} | {} | {} | {lag:.1f} | {fails} | "
            "{cpu:.0f} % | {loop} |").format(
        *[f"{s(k, 'p50'):.3f} / {s(k, 'p99'):.3f} / {s(k, 'max'):.3f}"
          for k in ("magicLink", "verify", "wsConnect", "wsAuth", "total")],
        run=d["_run"], inn=get(d, "storm.in"), users=get(d, "storm.users"),
        lag=get(d, "storm.startLagMs.max"), fails=fails, cpu=get(d, "server.cpuPct"),
        loop=fmt_le(phase_le(d, "loopTurnMaxLeMs")))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--merge-metrics":
        merge_metrics(sys.argv[2], sys.argv[3])
        return
    machine = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[1]) if "=" in line)
    commands = open(sys.argv[2]).read()
    soak_path = sys.argv[4] if len(sys.argv) > 4 else None
    runs = {}
    order = []
    problems = []
    for line in open(sys.argv[3]):
        scn, i, path, lrc, src, *rest = line.split()
        try:
            d = json.load(open(path))
        except (OSError, ValueError):
            problems.append(f"{scn} run {i}: no JSON (gavel-load exit {lrc})")
            continue
        d["_run"] = int(i)
        d["_steal"] = float(rest[0]) if rest else None
        if scn not in runs:
            runs[scn] = []
            order.append(scn)
        runs[scn].append(d)
        if lrc != "0":
            problems.append(f"{scn} run {i}: gavel-load exited {lrc}")
        if src != "0":
            problems.append(f"{scn} run {i}: the server exited {src} after SIGTERM (want 0)")

    # the soak: from this report's runs (and saved for the next auction.md), or the last saved one
    soak = soak_summary(runs["soak"]) if "soak" in runs else None
    soak_from = "this report"
    if soak and soak_path:
        soak["date"] = machine.get("date")
        soak["commit"] = machine.get("commit")
        with open(soak_path, "w") as f:
            json.dump(soak, f, indent=2)
    elif not soak and soak_path and os.path.exists(soak_path):
        try:
            soak = json.load(open(soak_path))
            soak_from = f"`make bench-soak` of {soak.get('date')} at {soak.get('commit')}"
        except ValueError:
            soak = None

    out = []
    w = out.append
    w("# Live-auction benchmark")
    w("")
    w("Written by `make bench` (bench/auction.sh, after bench/run.sh) with `build/gavel-load` "
      "(bench/gavel-load.c); the soak by `make bench-soak`. Raw JSON per run: "
      "`bench/results/raw/auction-SCENARIO-N.json` (and the server's `/metrics` at the end of the "
      "run beside it, `.metrics.txt`).")
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
    w("Every auction run signs in its users over HTTP (magic link → devToken → verify), creates "
      "the leagues (lotOrder fixed, minManagers 1, antiSnipeSeconds 0, intermissionSeconds 0, "
      "budget 10^12, minBid 1, minIncrement 1), joins the managers by invite code and the "
      "spectators by watch code, creates the auctions, connects every member over `/ws` (`auth` → "
      "`ready`, `join` → `snapshot`), begins the auctions and bids over the WebSocket. The "
      "commissioner closes a lot (REST `close-lot`) after `--bids-per-lot` accepted bids or when "
      "no other manager can outbid the leader. gavel-load scrapes `GET /metrics` when the bidding "
      "begins and when it ended (the sign-in storm: before its first user and after its last) "
      "for the server's loop turns and commits during that phase alone; at the end, "
      "`curl URL/metrics` is kept with the run.")
    w("")

    # ---- summary
    w("## Summary: issue 13's targets (medians of each scenario's runs; Commands says how many)")
    w("")
    w("| scenario | measure | target | before | now | runs | met |")
    w("| --- | --- | --- | ---: | ---: | --- | --- |")
    soak_only = order == ["soak"]
    for scn, label, target, before, fn, ok, f in SUMMARY:
        if scn not in runs and soak_only:
            continue
        if scn not in runs:
            w(f"| {scn} | {label} | {target} | {before} | not run | | |")
            continue
        vals = [fn(d) for d in runs[scn]]
        m = med(vals)
        each = ", ".join(fmt(f, v) for v in vals)
        w(f"| {scn} | {label} | {target} | {before} | {fmt(f, m)} | {each} | "
          f"{'yes' if ok(m) else '**no**'} |")
    # the longest loop turn: the worst scenario (median of its runs), over the measured phase
    # only (the bidding; the sign-in storm's storm), not since the server started
    per = [(scn, med_le([phase_le(d, "loopTurnMaxLeMs") for d in runs[scn]])) for scn in order]
    have = [(s, v) for s, v in per if v is not None]
    label = ("longest loop turn under any scenario (during the bidding / the storm, from "
             "`gavel_loop_turn_seconds` deltas)")
    if have:
        worst = max(have, key=lambda x: x[1])
        each = ", ".join(f"{s} {fmt_le(v)}" for s, v in per)
        w(f"| every scenario | {label} | ≤ 5 ms | — | {fmt_le(worst[1])} ({worst[0]}) | {each} | "
          f"{'yes' if worst[1] <= 5 else '**no**'} |")
    else:
        w(f"| every scenario | {label} | ≤ 5 ms | — | n/a (no bidding-phase /metrics) | | |")
    cpu = [(scn, med_le([phase_le(d, "loopTurnCpuMaxLeMs") for d in runs[scn]])) for scn in order]
    have = [(s, v) for s, v in cpu if v is not None]
    if have:
        worst = max(have, key=lambda x: x[1])
        each = ", ".join(f"{s} {fmt_le(v)}" for s, v in cpu)
        w(f"| every scenario | of that: the loop thread's own CPU in its longest turn (from "
          f"`gavel_loop_turn_cpu_seconds` deltas; the rest is waiting for a core) | | — | "
          f"{fmt_le(worst[1])} ({worst[0]}) | {each} | |")
    if soak:
        for label, key, a, b, unit in (("server RSS", "rssChangePct", "rssMiBFirst", "rssMiBLast",
                                        "MiB"),
                                       ("bid round trip p99", "rttP99ChangePct", "rttP99MsFirst",
                                        "rttP99MsLast", "ms")):
            ch = soak.get(key)
            span = soak.get("windowsCompared", 0) * soak.get("windowS", 0) / 60
            w(f"| soak ({soak.get('minutes', 0):.0f} min; {soak_from}) | {label}, last "
              f"{span:.1f} min vs first {span:.1f} min | within 10 % | — | "
              f"{ch:+.1f} % ({soak.get(a):.1f} → {soak.get(b):.1f} {unit}) | | "
              f"{'yes' if ch is not None and abs(ch) <= 10 else '**no**'} |")
        cost = soak_cost_row(soak)
        if cost:
            w(f"| soak | the same spans: {cost} | | — | | | |")
        if soak.get("rssAnonChangePct") is not None:
            w(f"| soak | of the RSS: anonymous memory (heap, SQLite's page cache included) | | — | "
              f"{soak['rssAnonChangePct']:+.1f} % ({soak['rssAnonMiBFirst']:.1f} → "
              f"{soak['rssAnonMiBLast']:.1f} MiB; file-backed, i.e. the database's mmap, the WAL "
              f"index and the binary: {soak['rssFileMiBFirst']:.1f} → "
              f"{soak['rssFileMiBLast']:.1f} MiB) | | |")
    else:
        w("| soak | server RSS and bid round trip p99, last 5 min vs first 5 min | within 10 % | — "
          "| not run (`make bench-soak`) | | |")
    w("")
    w("`before` is the issue's starting point (bench/results/auction.md of 4c526af). A soak "
      "shorter than 30 minutes (`AUCTION_SOAK_MINUTES`) compares its first and last sixth.")
    w("")
    steal = [scn + " " + ", ".join(f"{d['_steal']:.2f}" for d in runs[scn])
             for scn in order if all(d["_steal"] is not None for d in runs[scn])]
    if steal:
        w("CPU time the hypervisor gave to other guests during each run (`/proc/stat` steal, all "
          "CPUs, seconds; the fan-out floor measures it too): " + "; ".join(steal) + ". A few "
          "tenths of a second or more in a run means the server and the load generator did not "
          "have the machine to themselves, and that run's tails are the host's as much as Gavel's.")
        w("")
    floor_md = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "floor.md")
    commit_floor = commit_floor_row(floor_md)
    if commit_floor:
        w("The round trips against this disk's floor: `make bench-floor`'s commit-floor (no Gavel "
          "code, no SQLite) writes 256 KiB, a seed-stress commit, and `fdatasync`s it, back to "
          "back; a request arriving at a random instant waits for the rest of the commit in flight "
          f"and then its own: {commit_floor[0]} ms p99, {commit_floor[1]} ms p99.9. That is the "
          "least a durable round trip costs here when the writer is never idle (seed stress, "
          "throughput), before SQLite, the network and both sides' CPU.")
        w("")
    paced = [paced_floor_row(floor_md, r) for r in ("100", "500")]
    if all(paced):
        w("The quiet rooms' round trips against this disk's floor: `make bench-floor`'s "
          "`commit-floor --paced-matrix` (no Gavel code, no SQLite) lets requests arrive at random, "
          "100 a second (about seed-paced's 105 bids/s) and then 500 (the soak's), and answers "
          "each after the `write` + `fdatasync` of 16 KiB that carries it: "
          f"{paced[0][0]} ms p50 / {paced[0][1]} ms p99 at 100/s, {paced[1][0]} ms p50 / "
          f"{paced[1][1]} ms p99 at 500/s. A commit that starts from idle is slower than "
          "back-to-back ones on this virtual disk, so that is the least a quiet room's durable "
          "round trip costs here, before SQLite, the network and both sides' CPU.")
        w("")
    copy = copy_floor_rows(floor_md)
    if copy and soak:
        w("The soak against this disk's floor as its database grows: `make bench-floor`'s "
          "`commit-floor --copy-matrix` (no Gavel code, no SQLite) answers requests arriving at "
          "random, 500 a second, each after the `write` + `fdatasync` of 16 KiB that carries it, "
          "while a second thread, as a checkpointer does, writes 2,100 random pages of a database "
          "file every 1.5 s and syncs it. Wait p99: "
          f"{copy[0][0]} ms with no copier, {copy[1][0]} ms beside a 20 MiB database (the soak's "
          f"after its first minute; a copy takes {copy[1][1]} ms) and {copy[2][0]} ms beside a "
          f"500 MiB one (the soak's at its end; a copy takes {copy[2][1]} ms). The same writes "
          "spread over a larger file take longer and a commit's sync queues behind them, so a "
          "durable round trip's tail grows with the database on this disk whatever the server "
          "does; the soak's windows (Runs, below) show the disk's time per write rising with it."
          + (f" Written back every 16 pages instead of all at its sync, the same copy into 500 MiB "
             f"leaves the commits a wait p99 of {copy[3][0]} ms (a copy takes {copy[3][1]} ms)."
             if copy[3] else ""))
        w("")
    floor = floor_row(floor_md)
    if floor:
        w("The big room against this machine's floor: `make bench-floor` (bench/results/floor.md, "
          "no Gavel code) writes a 300-byte frame to 2,010 loopback sockets from one thread and "
          f"reads them in another process in {floor[0]} ms p50 / {floor[1]} ms p99 until the last "
          "one has it: the fan-out target of 15 ms is below what loopback TCP allows here.")
        w("")
    if problems:
        w("Problems:")
        w("")
        for p in problems:
            w(f"- {p}")
        w("")

    # ---- correctness
    w("## Delivery: every open connection sees every event of its room once, in order")
    w("")
    w("| scenario | missed or duplicated events | cut for being slow (1008 seen / server "
      "cutoffs) | other drops | connect failures | would the old 3 s rule have called missed |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for scn in order:
        ds = runs[scn]
        if scn == "signin-storm":
            w(f"| {scn} | — | — | {', '.join(str(int(get(d, 'storm.droppedAfterIn'))) for d in ds)}"
              f" | {', '.join(str(int(get(d, 'storm.users') - get(d, 'storm.in'))) for d in ds)}"
              " | — |")
            continue
        j = lambda fn: ", ".join(fn(d) for d in ds)  # noqa: E731
        w("| {} | {} | {} | {} | {} | {} |".format(
            scn, j(lambda d: f"{missed(d):.0f}"),
            j(lambda d: f"{get(d, 'connections.wsCutSlow'):.0f} / "
                        f"{fmt('{:.0f}', metric(d, 'wsOutputCutoffs'))}"),
            j(lambda d: f"{get(d, 'connections.wsDropped'):.0f}"),
            j(lambda d: f"{get(d, 'connections.wsFailed'):.0f}"),
            j(lambda d: f"{get(d, 'events.oldRuleMissedAt3s'):.0f}")))
    w("")
    w("One value per run. **missed**: a joined connection that stayed open did not see an event "
      "of its room (a gap in its `seq`, or behind the seq `GET /api/auctions/{id}` reports once "
      "the run has settled), or saw one twice or out of order — a server bug when not 0. "
      "Connections the server closed with 1008 (a slow reader at the output cap) are counted "
      "apart, as the server's `gavel_ws_output_cutoffs_total` is (a reader stalled for more than "
      "the close grace gets an EOF instead of the 1008: it shows as a drop with a cutoff beside "
      "it). The last column is what the accounting before issue 13 would have reported: it "
      "counted whatever was still in flight 3 s after the stop as missed.")
    w("")

    # ---- server internals
    w("## Server internals during the bidding (the sign-in storm: during the storm)")
    w("")
    w("| scenario | loop turns | loop turn p50 / p99 | longest loop turn | its CPU: p99 / "
      "longest / mean | mean loop turn | group commits | commit p99 | mean events per commit |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for scn in order:
        ds = runs[scn]
        n = lambda k: med([phase_num(d, k) for d in ds])  # noqa: E731
        b = lambda k: med_le([phase_le(d, k) for d in ds])  # noqa: E731
        w(f"| {scn} | {fmt('{:,.0f}', n('loopTurns'))} | {fmt_le(b('loopTurnP50Ms'))} / "
          f"{fmt_le(b('loopTurnP99Ms'))} | {fmt_le(b('loopTurnMaxLeMs'))} | "
          f"{fmt_le(b('loopTurnCpuP99Ms'))} / {fmt_le(b('loopTurnCpuMaxLeMs'))} / "
          f"{fmt('{:.3f} ms', n('loopTurnCpuMeanMs'))} | "
          f"{fmt('{:.3f} ms', n('loopTurnMeanMs'))} | {fmt('{:,.0f}', n('commits'))} | "
          f"{fmt_le(b('commitP99Ms'))} | {fmt('{:.1f}', n('commitBatchMeanEvents'))} |")
    w("")
    w("gavel-load scrapes `GET /metrics` when the bidding begins (every WebSocket joined, before "
      "the first bid) and when it ended (after the drain), or before the storm's first user and "
      "after its last; these are the histograms' deltas between the two (medians of the runs). "
      "A percentile or the longest turn is the upper bound of the bucket that holds it (buckets "
      "0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s, +Inf); "
      "the mean is Δsum / Δcount. n/a: a scrape failed or the server does not expose the metric. "
      "A turn's CPU (`gavel_loop_turn_cpu_seconds`) is the loop thread's own CPU time in it: "
      "where the longest turn is well above its CPU, the loop was runnable but waiting for a core "
      "that the writer thread, the checkpointer or the load generator held (two cores here).")
    w("")
    w("## Server internals since the server started (`GET /metrics` at the end of each run, "
      "setup included)")
    w("")
    w("| scenario | longest loop turn, setup included | loop turn p99 | auction commit p99 | mean "
      "events per commit | db commit p99 / mean |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for scn in order:
        ds = runs[scn]
        m = lambda k: med([metric(d, k) for d in ds])  # noqa: E731
        w(f"| {scn} | {fmt('{:.2f} ms', m('loopTurnMaxMs'))} | {fmt('{:.3f} ms', m('loopTurnP99Ms'))}"
          f" | {fmt('{:.3f} ms', m('auctionCommitP99Ms'))} | "
          f"{fmt('{:.1f}', m('commitBatchMeanEvents'))} | {fmt('{:.3f}', m('dbCommitP99Ms'))} / "
          f"{fmt('{:.3f} ms', m('dbCommitMeanMs'))} |")
    w("")
    w("Medians of the runs; n/a: the server does not expose the metric. Everything here counts "
      "from the server's start, so it includes the setup (every sign-in, league, join and auction "
      "of the run, whose SQLite commits run on the loop): the longest turn is "
      "`gavel_loop_turn_max_seconds`; percentiles come from the histogram buckets (interpolated "
      "as Prometheus' `histogram_quantile` does).")
    w("")

    # ---- details
    w("## More measures (medians)")
    w("")
    w("| scenario | measure | median | runs |")
    w("| --- | --- | ---: | --- |")
    for scn in order:
        for label, fn, f in DETAILS.get(scn, []):
            vals = [fn(d) for d in runs[scn]]
            if f is None:  # pairs
                m = (med([v[0] for v in vals]), med([v[1] for v in vals]))
                w(f"| {scn} | {label} | {pair_fmt(m)} | {', '.join(pair_fmt(v) for v in vals)} |")
            else:
                w(f"| {scn} | {label} | {fmt(f, med(vals))} | "
                  f"{', '.join(fmt(f, v) for v in vals)} |")
    w("")

    # ---- runs
    w("## Runs")
    for scn in order:
        w("")
        w(f"### {TITLES.get(scn, scn)}")
        w("")
        if scn == "signin-storm":
            w("| run | in | magic link p50 / p99 / max ms | verify | WebSocket connect | auth → "
              "ready | all steps | start lag max ms | failures | server CPU | longest loop turn "
              "(storm) |")
            w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
            for d in runs[scn]:
                w(storm_row(d))
            continue
        w("| run | WS joined | bids sent | accepted | accepted/s | valid accepted | rejected by code "
          "| RTT p50 / p90 / p99 / max ms | fan-out p50 / p90 / p99 / max ms | missed events | "
          "cut 1008 / cutoffs | conn errors | server CPU | load gen CPU | server RSS peak MiB | "
          "longest loop turn (bidding) |")
        w("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: | ---: | ---: |")
        for d in runs[scn]:
            w(row(d))
        s = get(runs[scn][0], "setupS", {})
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
        details = [x for d in runs[scn] for x in get(d, "events.missDetails", [])]
        if details:
            w("")
            w("First misses: " + "; ".join(
                "{kind} auction {auction} member {member} seq {fromSeq}–{toSeq} at {atS:.1f} s "
                "(last event {lastEventAgoS:.1f} s before)".format(**x) for x in details[:5]))
        if scn == "soak":
            for d in runs[scn]:
                wins = d.get("windows", [])
                if not wins:
                    continue
                w("")
                w(f"Windows of run {d['_run']} ({get(d, 'params.windowS'):.0f} s each):")
                w("")
                w("| from s | accepted/s | RTT p50 / p99 ms | fan-out p99 ms | server RSS MiB (mean "
                  "/ max) | anonymous / file-backed MiB | server CPU | CPU ms per bid: server / "
                  "load generator | host reference ms | disk writes/s, ms per write |")
                w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
                for x in wins:
                    srv_bid, cli_bid = x.get("serverCpuMsPerBid"), x.get("clientCpuMsPerBid")
                    w(f"| {x['fromS']:.0f} | {x['acceptedPerS']:.0f} | {x['rttP50Ms']:.3f} / "
                      f"{x['rttP99Ms']:.3f} | {x['fanoutP99Ms']:.3f} | {x['rssMiB']:.1f} / "
                      f"{x['rssMiBMax']:.1f} | {x.get('rssAnonMiB', 0):.1f} / "
                      f"{x.get('rssFileMiB', 0):.1f} | {x['serverCpuPct']:.0f} % | "
                      f"{fmt('{:.3f}', srv_bid)} / {fmt('{:.3f}', cli_bid)} | "
                      f"{fmt('{:.3f}', get(x, 'hostRefMs.total', None))} | "
                      f"{fmt('{:.0f}', x.get('diskWritesPerS'))}, "
                      f"{fmt('{:.3f}', x.get('diskMsPerWrite'))} |")
                soak_correlations(w, wins)
    w("")
    w("## Reading the results")
    w("")
    w("- **RTT** (bid round trip): the `bid` message written → its `bid_result` read, on the "
      "bidder's connection. Every bid is acknowledged after the group commit (durable).")
    w("- **fan-out**: the bid written → the `bid` event with that `seq` read by *every* "
      "connection joined to the room (managers and spectators); `first connection sees the bid` "
      "is the same up to the first of them. A connection that closes stops being waited for.")
    w("- **valid accepted**: accepted / (accepted + rejections that are not lost races + bids "
      "without an answer). A lost race is `bid_too_low` (another bid got there first), "
      "`stale_lot` / `lot_closed` (the commissioner's hammer got there first) or "
      "`auction_not_running`; with `stress`, up to 7 managers bid the same amount at once and all "
      "but one lose the race by design.")
    w("- **missed events**: see the delivery section. At the end of a run gavel-load waits (up to "
      "10 s) until every answer and event in flight arrived, asks the server for every auction's "
      "`seq`, and waits (up to 10 s) for every open connection to reach it.")
    w("- **server CPU**: utime + stime of the server process over the bidding window, from "
      "`/proc/PID/stat` (100 % = one core); **RSS peak**: the highest `VmRSS` sampled once a "
      "second from the start of the run.")
    w("- Strategies: `paced` — a manager that is outbid (or sees a lot open that it does not "
      "lead) thinks 800–1200 ms (uniform, seeded), then bids the minimum on what its connection "
      "shows; `stress` — every manager bids current + minIncrement as soon as its own connection "
      "shows it is not leading (one bid in flight per manager); `pipeline` — the same, but each "
      "bid tops the highest bid already in flight in that auction, so the bids of a burst are "
      "valid in arrival order (the throughput scenario counts durable accepted bids); `rate` — a "
      "global rate spread round-robin over the auctions, one bid in flight per auction.")
    w("- **sign-in storm**: 300 users started evenly over 10 s, each with its own HTTP "
      "connection: `POST /api/auth/magic-link` (202 with `devToken`, the server runs with "
      "`--dev`), `POST /api/auth/verify`, the WebSocket's TCP connect + upgrade, `auth` → "
      "`ready`. The start lag is how late this tool started a user (it must stay small for the "
      "steps to measure the server). The bench's `--rate-limit-scale 0` turns every per-IP and "
      "per-e-mail limiter off (the magic-link route's `link_ip` and `link_email` included), "
      "otherwise one address could not sign 300 users in.")
    w("- **soak**: 500 bids/s (`rate`) over 200 auctions × 10 managers for 30 minutes; the RTT, "
      "fan-out and the server's RSS are recorded per window (60 s for 30 minutes), and the first "
      "5 windows are compared with the last 5 (pooled percentiles, mean RSS). The server runs "
      "with `--access-ttl-s` longer than the soak (tokens last 15 minutes by default and the "
      "WebSockets close with 4401 when theirs expires).")
    w("- The load generator is closed-loop (a manager waits for its answer before bidding again), "
      "so under saturation latency grows with the number of bidders (Little's law) rather than "
      "bids being dropped.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
