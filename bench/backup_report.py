#!/usr/bin/env python3
"""Writes bench/results/backup.md from what bench/backup.sh collected.

usage: backup_report.py META RUNS IDLE RESTORES  (markdown on stdout)

META: key=value lines (machine, commands, the fill). RUNS: one line per scenario run,
"SCENARIO I JSON BACKUPLOG LOAD_RC BIDS_BEFORE BIDS_AFTER CHECK CHECK_S DB_BYTES_END" (JSON:
gavel-load's; BACKUPLOG: "ok K START END DB_BYTES FILE_BYTES SECONDS" or "fail K START END RC"
lines). IDLE: "METHOD DB_BYTES FILE_BYTES SECONDS WALL_S". RESTORES: "LABEL FILE_BYTES RESTORE_S
RC CLI_S CHECK CHECK_S READY_S BIDS STOP_RC".
"""
import json
import statistics
import sys

TARGET_DP99_MS = 2.0
TARGET_RESTORE_S = 10.0
SCENARIO_TEXT = {
    "baseline": "no backup during the bidding",
    "pages": "`gavel backup --backup-method pages` (SQLite's online backup API) back to back",
    "vacuum": "`gavel backup --backup-method vacuum` (`VACUUM INTO`) back to back",
    "pages-nice": "the same as pages under nice and ionice",
    "vacuum-nice": "the same as vacuum under nice and ionice",
    "scheduled-pages": "serve's scheduled backups, pages, every 1 s",
    "scheduled-vacuum": "serve's scheduled backups, vacuum, every 1 s",
}


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def read_lines(path):
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def read_backups(path):
    ok, failed = [], 0
    for p in read_lines(path):
        if p[0] == "ok":
            wall = float(p[3]) - float(p[2]) if p[2] != "-" else None
            ok.append({"db": int(p[4]), "file": int(p[5]), "s": float(p[6]), "wall": wall})
        else:
            failed += 1
    return ok, failed


def read_run(p):
    scn, i, jpath, blog, lrc, before, after, chk, chk_s, db_end = p
    with open(jpath) as f:
        d = json.load(f)
    backups, failed = read_backups(blog)
    rtt = d["rttMs"]
    bids = d["bids"]
    return {
        "scn": scn,
        "i": int(i),
        "p50": rtt["p50"],
        "p90": rtt["p90"],
        "p99": rtt["p99"],
        "max": rtt["max"],
        "count": rtt["count"],
        "accepted": bids["accepted"],
        "sent": bids["sent"],
        "rejected": bids["rejected"],
        "timeouts": bids["timeouts"],
        "rate": d["throughput"]["acceptedPerS"],
        "window": d["throughput"]["windowS"],
        "settled": d["drain"]["settled"],
        "cpu": d["server"]["cpuPct"],
        "rss": d["server"]["rssMiBPeak"],
        "lrc": int(lrc),
        "before": int(before),
        "after": int(after),
        "check": chk,
        "check_s": float(chk_s),
        "db_end": int(db_end),
        "backups": backups,
        "failed": failed,
    }


def ms(x):
    return "—" if x is None else f"{x:.3f} ms"


def sec(x):
    return "—" if x is None else f"{x:.2f} s"


def mib(x):
    return "—" if x is None else f"{x / 1048576:.1f} MiB"


def signed_ms(x):
    return "—" if x is None else f"{x:+.3f} ms"


def summarize(runs, scenarios):
    out = {}
    for scn in scenarios:
        rs = [r for r in runs if r["scn"] == scn]
        if not rs:
            continue
        per_run = [r["backups"] for r in rs]
        out[scn] = {
            "runs": rs,
            "p50": median(r["p50"] for r in rs),
            "p99": median(r["p99"] for r in rs),
            "taken": median(len(b) for b in per_run) if scn != "baseline" else None,
            "bs": median(median(x["s"] for x in b) for b in per_run if b),
            "bwall": median(median(x["wall"] for x in b) for b in per_run if b),
            "bfile": median(median(x["file"] for x in b) for b in per_run if b),
            "bdb": median(median(x["db"] for x in b) for b in per_run if b),
            "cpu": median(r["cpu"] for r in rs),
        }
    base = out.get("baseline")
    for scn, s in out.items():
        s["dp99"] = s["p99"] - base["p99"] if base and scn != "baseline" else None
        s["dp50"] = s["p50"] - base["p50"] if base and scn != "baseline" else None
    return out


def paired_deltas(runs, scn):
    base = {r["i"]: r for r in runs if r["scn"] == "baseline"}
    return [r["p99"] - base[r["i"]]["p99"] for r in runs if r["scn"] == scn and r["i"] in base]


def machine_section(meta):
    busy = float(meta["load_start"].split()[0]) > 0.5
    lines = [
        "## Machine",
        "",
        f"- CPUs: {meta['cpus']} ({meta['cpu']})",
        f"- RAM: {meta['ram']}",
        f"- kernel: {meta['kernel']}",
        f"- file system of the data and the backups: {meta['fs']}",
        f"- date: {meta['date']}",
        f"- commit: {meta['commit']}",
        f"- load average (1, 5, 15 min) before / after: {meta['load_start']} / {meta['load_end']}",
        f"- the whole benchmark took {float(meta['total_s']):.0f} s",
        "",
        "The server, gavel-load and the backup command share the same CPUs and disk; a load above"
        " ~0.5 before the run means other work was competing for them.",
    ]
    if busy:
        lines += [
            "",
            f"**This run was taken on a busy machine (load {meta['load_start']} at the start):"
            " its latencies are noisy and only indicative.**",
        ]
    return lines


def commands_section(meta):
    bin_ = meta["bin"]
    return [
        "## Commands",
        "",
        f"- every server: `{bin_} serve {meta['serve_args']} --data DIR --log-level warn`"
        " (stdout read for the port)",
        f"- the database: a fresh server, then `gavel-load --url URL --server-pid PID"
        f" {meta['fill_args']} --duration S --label fill --json FILE` in rounds"
        f" ({meta['fill_rounds']} here, {float(meta['fill_s']):.0f} s) until"
        f" {int(meta['fill_bids']):,} bids were accepted; the server stopped with SIGTERM. This"
        " template is copied (`cp -a`, then `sync`) into a new directory for every run, so every"
        " run starts from the same database.",
        f"- every run ({meta['runs']} of each scenario; the order of the scenarios turns with each"
        f" run): `gavel-load --url URL --server-pid PID {meta['run_args']} --label SCENARIO"
        " --json FILE`",
        "- pages / vacuum: from gavel-load's `beginning` (every WebSocket joined, the first bid"
        " next) to its `stopped bidding`, a loop runs"
        f" `{bin_} backup --data DIR --out FILE-K --backup-method METHOD` back to back (each into"
        " a new file; the previous one removed once the next is written); the backup running"
        " when the bidding stops completes.",
        f"- *-nice: the same loop, each command run as `{meta['nice']} {bin_} backup ...`"
        " (only when BACKUP_SCENARIOS asks for them).",
        "- scheduled-*: the server runs with `--backup-dir D --backup-every-s 1 --backup-keep 2"
        " --backup-method METHOD --log-level info` and its `backup done` lines logged during the"
        " bidding are counted (only when BACKUP_SCENARIOS asks for them).",
        "- after every run: the server is killed with SIGKILL, then `gavel check --data DIR`, and"
        " `SELECT count(*) FROM auction_bids` (Python's sqlite3).",
        "- restore: `gavel restore --data NEWDIR --from FILE` of each run's last backup (and of"
        " an idle backup of the template), timed from outside; then `gavel check --data NEWDIR`,"
        " the bids counted, and a server started on NEWDIR until `/api/ready` answers 200"
        " (stopped with SIGTERM, exit 0 wanted).",
        f"- everything: `{meta['invocation']}`",
    ]


def database_section(meta, idle):
    lines = [
        "## The database",
        "",
        f"- {int(meta['template_bids']):,} accepted bids ({int(meta['fill_accepted']):,}"
        " acknowledged to gavel-load while filling), over 100 auctions per fill round",
        f"- on disk while the filling server ran (gavel.db + gavel.db-wal):"
        f" {int(meta['fill_live_bytes']):,} bytes ({mib(int(meta['fill_live_bytes']))});"
        f" after the graceful stop (checkpointed, no log): {int(meta['template_bytes']):,} bytes"
        f" ({mib(int(meta['template_bytes']))})",
    ]
    if idle:
        lines += [
            "",
            "Backups of it with no server running:",
            "",
            "| method | seconds (the command's own) | seconds (process, from outside) |"
            " database bytes | backup file bytes |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for m, db, file_, s, wall in idle:
            lines.append(f"| {m} | {float(s):.2f} | {float(wall):.2f} | {int(db):,} |"
                         f" {int(file_):,} |")
    return lines


def summary_section(meta, summ):
    lines = [
        f"## Summary (medians of {meta['runs']} runs)",
        "",
        "| scenario | bid RTT p50 | p99 | Δp99 vs baseline | backups taken | backup seconds"
        " (median) | backup bytes | database bytes | server CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scn, s in summ.items():
        taken = "—" if s["taken"] is None else f"{s['taken']:g}"
        bs = "—" if s["bs"] is None else f"{s['bs']:.2f}"
        bfile = "—" if s["bfile"] is None else f"{s['bfile']:,.0f}"
        bdb = "—" if s["bdb"] is None else f"{s['bdb']:,.0f}"
        lines.append(f"| {scn} | {ms(s['p50'])} | {ms(s['p99'])} | {signed_ms(s['dp99'])} |"
                     f" {taken} | {bs} | {bfile} | {bdb} | {s['cpu']:.0f} % |")
    lines.append("")
    lines += [f"- {scn}: {SCENARIO_TEXT[scn]}" for scn in summ]
    lines += [
        "",
        "Each column is the median of the runs on its own; Δp99 is the scenario's median p99"
        " minus the baseline's (Runs shows each run against the baseline of the same round)."
        " Backup seconds are what `gavel backup` reports (the snapshot, compression, SHA-256,"
        " fsync and rename; the process's start and the opening of the database add a few ms:"
        " Runs); backup bytes are the compressed file; database bytes the database the backup"
        " holds (its header's `bytes`). Server CPU: the server process over the bidding window"
        " (100 % = one core).",
    ]
    return lines


def targets_section(summ, restores, runs):
    lines = [
        "## Targets (issue 14)",
        "",
        "| measure | target | result | met |",
        "| --- | --- | --- | --- |",
    ]
    for scn, s in summ.items():
        if scn == "baseline" or s["dp99"] is None:
            continue
        met = "yes" if s["dp99"] <= TARGET_DP99_MS else "**no**"
        lines.append(f"| bid RTT p99 during backups ({scn}) vs without | ≤ 2 ms worse |"
                     f" {signed_ms(s['dp99'])} ({ms(summ['baseline']['p99'])} →"
                     f" {ms(s['p99'])}) | {met} |")
    good = [r for r in restores if r[3] == "0"]
    if restores:
        worst = max(float(r[2]) + (float(r[7]) if r[7] != "-" else 0) for r in restores)
        checks = all(r[5] == "ok" for r in restores)
        met = "yes" if len(good) == len(restores) and checks and worst <= TARGET_RESTORE_S else "**no**"
        lines.append(f"| restore of a backup, end to end (restore + server ready) | ≤ 10 s |"
                     f" slowest {worst:.2f} s of {len(restores)}; gavel check:"
                     f" {'ok' if checks else 'FAILED'} on every one | {met} |")
    lost = [r for r in runs if r["after"] - r["before"] < r["accepted"]]
    bad = [r for r in runs if r["check"] != "ok"]
    met = "yes" if not lost and not bad else "**no**"
    lines.append(f"| RPO for acknowledged bids on the node's own disk | 0 |"
                 f" {len(lost)} of {len(runs)} runs lost an acknowledged bid after SIGKILL;"
                 f" gavel check ok in {len(runs) - len(bad)} of {len(runs)} | {met} |")
    return lines


def restore_section(restores):
    lines = [
        "## Restore",
        "",
        "| backup | file bytes | restore (from outside) | restore (its own report) |"
        " gavel check | check seconds | server start → ready | end to end | bids restored |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for label, fb, wall, rc, cli, chk, chk_s, ready, bids, _stop in restores:
        if rc != "0":
            lines.append(f"| {label} | {int(fb):,} | {float(wall):.2f} s | refused (exit {rc}) |"
                         " — | — | — | — | — |")
            continue
        e2e = float(wall) + float(ready)
        lines.append(f"| {label} | {int(fb):,} | {float(wall):.2f} s | {cli} s | {chk} |"
                     f" {float(chk_s):.2f} s | {float(ready):.2f} s | {e2e:.2f} s |"
                     f" {int(bids):,} |")
    lines += [
        "",
        "`gavel restore` extracts into a temporary directory, checks the size and SHA-256,"
        " runs SQLite's integrity check and replays every auction's event log against its"
        " derived rows before the rename; `restore (from outside)` is the whole command timed"
        " by the script. `gavel check` then repeats the integrity check and the replay on the"
        " restored directory. End to end = restore + a server started on it until `/api/ready`"
        " answers 200 (polled every 0.1 s). `idle-*`: the template backed up with no server"
        " running; `SCENARIO-N`: the last backup taken during run N.",
    ]
    return lines


def rpo_section(runs):
    lines = [
        "## RPO: every acknowledged bid survives the process being killed",
        "",
        "| run | bids acknowledged to gavel-load | answers lost (timeouts) | drain settled |"
        " bids in the database after SIGKILL (− the template's) | gavel check |",
        "| --- | ---: | ---: | --- | ---: | --- |",
    ]
    for r in runs:
        delta = r["after"] - r["before"]
        mark = "=" if delta == r["accepted"] else ("≥" if delta > r["accepted"] else "**<**")
        lines.append(f"| {r['scn']}-{r['i']} | {r['accepted']:,} | {r['timeouts']} |"
                     f" {'yes' if r['settled'] else 'no'} | {delta:,} ({mark}) |"
                     f" {r['check']} ({r['check_s']:.2f} s) |")
    lines += [
        "",
        "How this backs RPO 0 on the node's own disk: the server answers a bid only after the"
        " group commit that holds it returned (docs/architecture.md; the auction service's"
        " commit path), and the database runs in WAL mode with `synchronous=FULL`, so that"
        " commit's fsync of the log has completed before the answer is written. gavel-load"
        " counts a bid as accepted only when its `bid_result` arrived. After each run the"
        " server is killed with SIGKILL (no shutdown, no checkpoint), then `gavel check` (SQLite's"
        " integrity check and every auction's log replayed against its derived rows) and a"
        " count of `auction_bids`: the bids added by the run must be at least the bids"
        " acknowledged (`=`: exactly those; a bid the server committed whose answer gavel-load"
        " never read would show as `≥`). SIGKILL tests the process dying, not the machine: a"
        " power cut is covered by the fsync before the answer, which this benchmark cannot"
        " pull the plug on. A backup's own RPO is the time since it was taken (here at most the"
        " duration of one backup, since they ran back to back).",
    ]
    return lines


def runs_section(runs):
    lines = [
        "## Runs",
        "",
        "| run | bids sent | accepted | accepted/s | RTT p50 / p90 / p99 / max ms | Δp99 vs the"
        " round's baseline | backups (failed) | backup s median / max | process s median |"
        " backup bytes | database bytes (backup) | gavel.db + wal after | server CPU | RSS peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        " ---: | ---: |",
    ]
    base = {r["i"]: r for r in runs if r["scn"] == "baseline"}
    for r in sorted(runs, key=lambda r: (r["scn"] != "baseline", r["scn"], r["i"])):
        b = r["backups"]
        dp = (f"{r['p99'] - base[r['i']]['p99']:+.3f} ms"
              if r["scn"] != "baseline" and r["i"] in base else "—")
        if b:
            bk = f"{len(b)} ({r['failed']})"
            bs = f"{median(x['s'] for x in b):.2f} / {max(x['s'] for x in b):.2f}"
            walls = [x["wall"] for x in b if x["wall"] is not None]
            bw = f"{median(walls):.2f}" if walls else "—"
            bf = f"{median(x['file'] for x in b):,.0f}"
            bd = f"{median(x['db'] for x in b):,.0f}"
        else:
            bk = "—" if r["scn"] == "baseline" else f"0 ({r['failed']})"
            bs = bw = bf = bd = "—"
        lines.append(
            f"| {r['scn']}-{r['i']} | {r['sent']:,} | {r['accepted']:,} | {r['rate']:.0f} |"
            f" {r['p50']:.3f} / {r['p90']:.3f} / {r['p99']:.3f} / {r['max']:.3f} | {dp} | {bk} |"
            f" {bs} | {bw} | {bf} | {bd} | {r['db_end']:,} | {r['cpu']:.0f} % |"
            f" {r['rss']:.1f} MiB |")
    lines += [
        "",
        "RTT: gavel-load writes the `bid` over the WebSocket and reads its `bid_result` (sent"
        " after the durable commit); percentiles over every bid of the run's bidding window."
        " `gavel.db + wal after`: the database directory after the run and the SIGKILL (the"
        " log keeps the size it grew to). Raw: `bench/results/raw/backup-SCENARIO-N.json`"
        " (gavel-load) and `.backups.txt` (one line per backup: start, end, database bytes, file"
        " bytes, seconds).",
    ]
    return lines


def reading_section(summ, runs, busy):
    lines = ["## Reading", ""]
    methods = [m for m in ("pages", "vacuum") if m in summ and summ[m]["dp99"] is not None]
    if len(methods) < 2:
        return lines + ["Not both methods ran: no comparison."]
    a, b = sorted(methods, key=lambda m: summ[m]["dp99"])
    sa, sb = summ[a], summ[b]
    base_p99 = [r["p99"] for r in runs if r["scn"] == "baseline"]
    spread = max(base_p99) - min(base_p99) if len(base_p99) > 1 else None
    gap = sb["dp99"] - sa["dp99"]
    pa, pb = paired_deltas(runs, a), paired_deltas(runs, b)
    wins = sum(1 for x, y in zip(pa, pb) if x < y)
    text = (f"With backups taken back to back for the whole bidding window, **{a}** disturbed"
            f" bidding less: the bid round trip's p99 moved by {sa['dp99']:+.3f} ms with {a}"
            f" against {sb['dp99']:+.3f} ms with {b} (p50 {sa['dp50']:+.3f} ms against"
            f" {sb['dp50']:+.3f} ms), over a baseline p99 of {ms(summ['baseline']['p99'])};"
            f" run by run, {a} was the lower of the two in {wins} of {min(len(pa), len(pb))}"
            " rounds.")
    if spread is not None and gap < spread:
        text += (f" The gap between them ({gap:.3f} ms) is smaller than the spread of the"
                 f" baseline's own p99 over its runs ({spread:.3f} ms), so on this evidence the"
                 " two are not distinguishable.")
    text += (f" A {a} backup took {sec(sa['bs'])} and wrote {mib(sa['bfile'])} from a"
             f" {mib(sa['bdb'])} database; a {b} backup took {sec(sb['bs'])} and wrote"
             f" {mib(sb['bfile'])} from {mib(sb['bdb'])} (vacuum writes a compacted copy, so its"
             " database bytes leave out free pages; pages copies the file as it is, page by page,"
             " in one read transaction). Both read the database through a second connection in"
             " a separate process while the server's writer keeps committing (WAL mode lets"
             " readers and the writer proceed together); the cost to bidding is the CPU and"
             " disk traffic of reading, compressing and writing the copy next to the server's"
             " fsyncs.")
    if busy:
        text += (" These numbers come from a busy machine: rerun on a quiet one before drawing"
                 " a conclusion.")
    return lines + [text]


def main():
    meta = read_meta(sys.argv[1])
    run_lines = read_lines(sys.argv[2])
    idle = read_lines(sys.argv[3])
    restores = read_lines(sys.argv[4])
    runs = [read_run(p) for p in run_lines]
    scenarios = meta["scenarios"].split()
    summ = summarize(runs, scenarios)
    busy = float(meta["load_start"].split()[0]) > 0.5
    out = ["# Backup benchmark", "",
           "Written by `make bench-backup` (bench/backup.sh, also run by `make bench`) with"
           " `build/gavel` and `build/gavel-load`: the backup of a database holding"
           f" ≥ {int(meta['fill_bids']):,} bids while 100 auctions bid, its restore, and the"
           " durability of acknowledged bids (issue 14).", ""]
    for section in (machine_section(meta), commands_section(meta), summary_section(meta, summ),
                    targets_section(summ, restores, runs), restore_section(restores),
                    rpo_section(runs), database_section(meta, idle), runs_section(runs),
                    reading_section(summ, runs, busy)):
        out += section + [""]
    sys.stdout.write("\n".join(out).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
