"""Backups and restores against the real binary: `gavel backup` while auctions take bids, then
`gavel restore` into a new directory and `gavel check` of it, with every acknowledged bid up to
the snapshot's seq in the copy; the file checked independently with Debian's zstd and Python's
sqlite3; damaged, truncated, newer-format and newer-schema backups refused with the directory left
as it was; restore refused while a server holds the directory (and a second server refused too);
--force keeping the replaced database aside; scheduled backups inside serve with their metrics,
pruning, `backup list` and `--from latest`."""

import hashlib
import json
import shutil
import sqlite3
import struct
import subprocess
import threading
import uuid

import pytest
import requests

from conftest import Server, parse_metrics, run_gavel, wait_for
from test_auction import M, bid, setup_auction, state
from test_auth import sign_in

# backup, restore, check and --backup-every-s work on SQLite's file in --data; a PostgreSQL store
# refuses them (it is backed up with pg_dump)
pytestmark = pytest.mark.sqlite_only

MAGIC = 0x184D2A5A  # the zstd skippable frame that holds the header


def read_header(path):
    """The header's fields and the offset where the compressed database starts."""
    data = path.read_bytes()
    magic, size = struct.unpack_from("<II", data, 0)
    assert magic == MAGIC, hex(magic)
    lines = data[8:8 + size].decode().splitlines()
    assert lines[0] == "gavel-backup"
    fields = dict(line.split(": ", 1) for line in lines[1:])
    return fields, 8 + size


def decompress_with_zstd(path, out):
    """Debian's zstd, not Gavel, turns the backup back into a database file."""
    with open(out, "wb") as f:
        subprocess.run(["zstd", "-dc", str(path)], stdout=f, check=True, timeout=60)
    return out.read_bytes()


def bidding(people, auctions, stop, acked, errors):
    """Two managers outbid each other on every auction until stop is set; acked collects
    (auction, seq, amount) of every bid answered 200."""
    amount = {aid: 2 * M for aid in auctions}
    turn = 0
    while not stop.is_set():
        for aid in auctions:
            who = people[1 + turn % 2]
            amount[aid] += M
            r = bid(who, aid, 1, amount[aid])
            if r.status_code == 200:
                acked.append((aid, r.json()["seq"], amount[aid]))
            else:
                errors.append((aid, r.status_code, r.text))
        turn += 1


def bids_in(db_path):
    """{auction: {seq: amount}} of the bid events and {auction: max seq} of a database file."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        bids, top = {}, {}
        for aid, seq, typ, payload in db.execute(
                "SELECT auction_id, seq, type, payload FROM auction_events ORDER BY 1, 2"):
            top[aid] = seq
            if typ == "bid":
                bids.setdefault(aid, {})[seq] = json.loads(payload)["amount"]
        return bids, top
    finally:
        db.close()


def test_backup_during_bidding_then_restore_and_check(start_server, tmp_path):
    srv = start_server()
    leagues = [setup_auction(srv, 3, budget=10**6 * M, lotSeconds=600) for _ in range(3)]
    stop, acked, errors = threading.Event(), [], []
    pools = [threading.Thread(target=bidding, args=(people, [st["id"]], stop, acked, errors))
             for people, _, st, _ in leagues]
    for t in pools:
        t.start()
    try:
        wait_for(lambda: len(acked) >= 30, timeout=20)
        out = tmp_path / "during.gvbackup"
        r = run_gavel("backup", "--data", srv.data, "--out", out, timeout=60)
        assert r.returncode == 0, r.stderr
        n_at_end = len(acked)
        wait_for(lambda: len(acked) >= n_at_end + 30, timeout=20)  # bidding went on after it
    finally:
        stop.set()
        for t in pools:
            t.join()
    assert not errors, errors[:3]
    fields, _ = read_header(out)
    assert fields["format"] == "1" and int(fields["schema"]) >= 1
    assert fields["source"].endswith(":" + str(srv.data.resolve())), fields["source"]

    restored = tmp_path / "restored"
    r = run_gavel("restore", "--data", restored, "--from", out, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (restored / "gavel.db").exists() and not list(restored.glob(".restore-*"))
    r = run_gavel("check", "--data", restored, timeout=60)
    assert r.returncode == 0 and "check ok" in r.stdout, r.stdout + r.stderr

    bids, top = bids_in(restored / "gavel.db")
    inside = after = 0
    for aid, seq, amount in acked:
        assert aid in top, "the snapshot holds every auction"
        if seq <= top[aid]:  # every acknowledged bid up to the snapshot's seq is in the copy
            assert bids[aid].get(seq) == amount, (aid, seq, amount, bids[aid].get(seq))
            inside += 1
        else:
            after += 1
    assert inside >= 30 and after >= 30, (inside, after)

    # the restored copy serves: a server on it shows each auction as of the snapshot
    work = tmp_path / "served"
    work.mkdir()
    shutil.copytree(restored, work / "data")
    srv2 = Server(work)
    try:
        people, _, st, _ = leagues[0]
        aid = st["id"]
        again = signed_in_again(srv2, people[0])
        st2 = state(again, aid)
        last = max((seq, amount) for a, seq, amount in acked if a == aid and seq <= top[aid])
        assert st2["seq"] == top[aid] and st2["lot"]["currentBid"] == last[1], st2
    finally:
        srv2.stop_and_check()


def signed_in_again(server, person):
    """person signed in on another server: the JWT secret is that directory's own."""
    from test_leagues import Client

    s = sign_in(server, person.user["email"])
    c = Client.__new__(Client)
    c.server, c.token, c.user, c.id = server, s["accessToken"], s["user"], s["user"]["id"]
    return c


def test_backup_file_is_zstd_with_a_checked_header(start_server, tmp_path):
    srv = start_server()
    setup_auction(srv, 2)
    out = tmp_path / "b.gvbackup"
    r = run_gavel("backup", "--data", srv.data, "--out", out)
    assert r.returncode == 0, r.stderr
    fields, _ = read_header(out)
    db_bytes = decompress_with_zstd(out, tmp_path / "plain.db")
    assert len(db_bytes) == int(fields["bytes"])
    assert hashlib.sha256(db_bytes).hexdigest() == fields["sha256"]
    db = sqlite3.connect(tmp_path / "plain.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT max(version) FROM schema_version").fetchone()[0] == int(fields["schema"])
    assert db.execute("SELECT count(*) FROM leagues").fetchone()[0] == 1
    db.close()
    assert fields["created"].endswith("Z") and fields["method"] == "pages"
    # the compacted copy (VACUUM INTO) is the other method and restores just the same
    out2 = tmp_path / "v.gvbackup"
    r = run_gavel("backup", "--data", srv.data, "--out", out2, "--backup-method", "vacuum")
    assert r.returncode == 0, r.stderr
    assert read_header(out2)[0]["method"] == "vacuum"
    r = run_gavel("restore", "--data", tmp_path / "v", "--from", out2)
    assert r.returncode == 0, r.stderr


def _refused(tmp_path, backup, target, words):
    """restore from backup into target is refused with a message containing words, and target
    is as it was (absent stays absent; an empty directory stays empty)."""
    before = sorted(p.name for p in target.iterdir()) if target.exists() else None
    r = run_gavel("restore", "--data", target, "--from", backup)
    assert r.returncode == 1, r.stdout + r.stderr
    assert all(w in r.stderr for w in words), r.stderr
    after = sorted(p.name for p in target.iterdir()) if target.exists() else None
    assert after == before, (before, after)


def test_damaged_truncated_and_newer_backups_are_refused(start_server, tmp_path):
    srv = start_server()
    setup_auction(srv, 2)
    good = tmp_path / "good.gvbackup"
    assert run_gavel("backup", "--data", srv.data, "--out", good).returncode == 0
    data = good.read_bytes()
    fields, start = read_header(good)

    flipped = tmp_path / "flipped.gvbackup"
    mid = start + (len(data) - start) // 2
    flipped.write_bytes(data[:mid] + bytes([data[mid] ^ 0x55]) + data[mid + 1:])
    _refused(tmp_path, flipped, tmp_path / "t1", ["damaged"])
    empty = tmp_path / "t2"
    empty.mkdir()
    _refused(tmp_path, flipped, empty, ["damaged"])

    truncated = tmp_path / "truncated.gvbackup"
    truncated.write_bytes(data[: start + (len(data) - start) * 2 // 3])
    _refused(tmp_path, truncated, tmp_path / "t3", ["truncated"])
    header_only = tmp_path / "header.gvbackup"
    header_only.write_bytes(data[:start])
    _refused(tmp_path, header_only, tmp_path / "t4", ["truncated"])

    newer = tmp_path / "newer.gvbackup"
    newer.write_bytes(data.replace(b"format: 1\n", b"format: 2\n", 1))
    _refused(tmp_path, newer, tmp_path / "t5", ["newer gavel"])

    not_one = tmp_path / "plain.txt"
    not_one.write_bytes(b"hello, this is not a backup\n" * 10)
    _refused(tmp_path, not_one, tmp_path / "t6", ["not a Gavel backup"])
    _refused(tmp_path, tmp_path / "missing.gvbackup", tmp_path / "t7", ["cannot open"])

    # a database of a newer schema (a later migration) is refused by this binary
    srv.stop_and_check()
    db = sqlite3.connect(srv.data / "gavel.db")
    db.execute("INSERT INTO schema_version(version, name, applied_at) VALUES (9999, 'future', '')")
    db.commit()
    db.close()
    future = tmp_path / "future.gvbackup"
    r = run_gavel("backup", "--data", srv.data, "--out", future)
    assert r.returncode == 0, r.stderr
    assert read_header(future)[0]["schema"] == "9999"
    _refused(tmp_path, future, tmp_path / "t8", ["schema version 9999 is newer"])
    # the header's claim is not trusted alone: a schema smuggled past it is caught in the copy
    smuggled = tmp_path / "smuggled.gvbackup"
    smuggled.write_bytes(future.read_bytes().replace(b"schema: 9999\n", b"schema: 8   \n", 1))
    _refused(tmp_path, smuggled, tmp_path / "t9", ["newer than this gavel"])


def test_restore_refused_while_served_and_force_keeps_the_old_one(start_server, tmp_path):
    srv = start_server()
    people, lg, st, _ = setup_auction(srv, 2)
    out = tmp_path / "b.gvbackup"
    assert run_gavel("backup", "--data", srv.data, "--out", out).returncode == 0

    r = run_gavel("restore", "--data", srv.data, "--from", out, "--force")
    assert r.returncode == 1 and f"pid {srv.proc.pid}" in r.stderr, r.stderr
    r = run_gavel("serve", "--dev", "--listen", "127.0.0.1:0", "--data", srv.data)
    assert r.returncode == 1 and f"another gavel (pid {srv.proc.pid})" in r.stderr, r.stderr

    assert bid(people[1], st["id"], 1, 7 * M).status_code == 200  # after the backup
    srv.stop_and_check()
    r = run_gavel("restore", "--data", srv.data, "--from", out)
    assert r.returncode == 1 and "--force" in r.stderr, r.stderr
    r = run_gavel("restore", "--data", srv.data, "--from", out, "--force")
    assert r.returncode == 0, r.stderr
    aside = list(srv.data.glob("gavel.db.replaced-*"))
    assert len(aside) == 1 and str(aside[0]) in r.stdout
    _, top_old = bids_in(aside[0])
    _, top_new = bids_in(srv.data / "gavel.db")
    assert top_old[st["id"]] == top_new[st["id"]] + 1, "the bid after the backup is only aside"


def test_scheduled_backups_metrics_prune_list_and_latest(start_server, tmp_path):
    bdir = tmp_path / "backups"
    srv = start_server("--backup-dir", bdir, "--backup-every-s", 1, "--backup-keep", 2)
    setup_auction(srv, 2)

    def metrics():
        return parse_metrics(requests.get(f"{srv.url}/metrics", timeout=5).text)

    wait_for(lambda: metrics().value("gavel_backups_total", outcome="ok") >= 4, timeout=30)
    m = metrics()
    assert m.value("gavel_backups_total", outcome="failed") == 0
    assert m.value("gavel_backup_last_size_bytes") > 0
    assert m.value("gavel_backup_last_success_timestamp_seconds") > 1.7e9
    assert m.value("gavel_data_writable") == 1 and m.value("gavel_data_free_bytes") > 0
    files = sorted(p.name for p in bdir.iterdir())
    assert len([f for f in files if f.endswith(".gvbackup")]) <= 3, files  # 2 kept (+1 in flight)
    srv.stop_and_check()
    assert not [p for p in bdir.iterdir() if p.name.endswith((".partial", ".snapshot"))]
    files = sorted(p.name for p in bdir.iterdir() if p.name.endswith(".gvbackup"))
    assert len(files) == 2, files

    r = run_gavel("backup", "list", "--backup-dir", bdir)
    assert r.returncode == 0, r.stderr
    listed = [line.split()[0] for line in r.stdout.splitlines()]
    assert listed == sorted(files, reverse=True), (listed, files)
    r = run_gavel("restore", "--data", tmp_path / "latest", "--from", "latest", "--backup-dir", bdir)
    assert r.returncode == 0 and files[-1] in r.stdout, r.stdout + r.stderr
    r = run_gavel("check", "--data", tmp_path / "latest")
    assert r.returncode == 0, r.stdout
