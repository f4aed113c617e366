"""The disk filling up during bidding, on a real small filesystem (a tmpfs mounted under the data
directory for this test; the suite runs as root): bids are answered 503 `unavailable`, health
says degraded with the disk full and /metrics says the database is not writable; nothing
acknowledged is lost; when space returns, bidding resumes by itself, without a restart."""

import os
import sqlite3
import subprocess
import uuid

import pytest
import requests

from conftest import Server, parse_metrics, run_gavel, wait_for
from test_auction import M, bid, setup_auction
from test_leagues import code_of


@pytest.fixture
def small_disk(tmp_path):
    """A workdir whose data directory is a 24 MiB tmpfs; unmounted at the end."""
    assert os.geteuid() == 0, "this test mounts a tmpfs: run the suite as root (as CI does)"
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(data)],
                   check=True)
    try:
        yield tmp_path
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def fill(path):
    """Writes path until the filesystem has no space left; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * size
            while True:
                try:
                    f.write(chunk)
                    written += size
                except OSError:
                    break
    return written


def health(srv):
    r = requests.get(f"{srv.url}/api/health", timeout=5)
    return r.status_code, r.json()


def writable(srv):
    return parse_metrics(requests.get(f"{srv.url}/metrics", timeout=5).text).value(
        "gavel_data_writable")


@pytest.mark.sqlite_only  # the tmpfs holds SQLite's file; a PostgreSQL store's disk is its server's
def test_disk_full_during_bidding(small_disk):
    srv = Server(small_disk)
    try:
        people, lg, st, _ = setup_auction(srv, 3, budget=10**6 * M, minIncrement=1, lotSeconds=600)
        aid, comm, a, b = st["id"], *people
        acked, refused = {}, []
        amount, turn = 2 * M, 0

        def one_bid():
            """The next bid, by a and b in turn (a refused bid leaves the turn as it was)."""
            nonlocal amount, turn
            amount += 1
            r = bid((a, b)[turn % 2], aid, 1, amount, uuid.uuid4().hex)
            turn += r.status_code == 200
            if r.status_code == 200:
                acked[r.json()["seq"]] = amount
            return r

        for i in range(20):
            assert one_bid().status_code == 200
        filler = srv.data / "filler"
        assert fill(filler) > 0
        # the log's space already allocated may take a few more bids; then a commit needs more
        for i in range(50000):
            r = one_bid()
            if r.status_code != 200:
                break
        assert r.status_code == 503 and code_of(r) == "unavailable", r.text
        refused.append(amount)
        code, body = health(srv)
        assert code == 503 and body["status"] == "degraded", body
        assert body["checks"]["disk"] == "full" and body["checks"]["db"] == "ok", body
        assert writable(srv) == 0
        r = one_bid()  # still full: still refused, and nothing of it shows
        assert r.status_code == 503, r.text
        refused.append(amount)

        filler.unlink()  # space returns: the next bid goes through, no restart

        wait_for(lambda: one_bid().status_code == 200, timeout=20)
        for i in range(10):
            assert one_bid().status_code == 200
        code, body = health(srv)
        assert code == 200 and body["checks"]["disk"] == "ok", body
        assert writable(srv) == 1
    finally:
        srv.stop_and_check()

    db = sqlite3.connect(f"file:{srv.data / 'gavel.db'}?mode=ro", uri=True)
    rows = db.execute("SELECT seq, json_extract(payload, '$.amount') FROM auction_events "
                      "WHERE auction_id = ? AND type = 'bid'", (aid,)).fetchall()
    seqs = [s for (s,) in db.execute(
        "SELECT seq FROM auction_events WHERE auction_id = ? ORDER BY seq", (aid,))]
    db.close()
    stored = dict(rows)
    for seq, amt in acked.items():  # nothing acknowledged is lost
        assert stored.get(seq) == amt, (seq, amt, stored.get(seq))
    assert not set(refused) & set(stored.values()), "a refused bid was stored"
    assert seqs == list(range(1, len(seqs) + 1)), "the log has no gap"
    r = run_gavel("check", "--data", srv.data)
    assert r.returncode == 0, r.stdout + r.stderr
