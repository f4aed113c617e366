"""A PostgreSQL store that goes away mid-auction and comes back (issue 15): while the database is
down, bids are answered 503 `unavailable` and health says the database failed; nothing that was
acknowledged is lost; once it is back, bidding resumes by itself, without restarting Gavel.

The test runs its own PostgreSQL (scripts/pg-test.sh, a cluster in a temporary directory) since
it stops and restarts it; it runs once, in the SQLite pass of `make test` (own_store)."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import REPO, run_gavel
from test_auction import M, bid, setup_auction, state
from test_leagues import code_of

pytestmark = pytest.mark.own_store

PG = REPO / "scripts" / "pg-test.sh"


@pytest.fixture
def own_pg():
    """A throwaway PostgreSQL of this test's own: (uri, stop, restart)."""
    where = tempfile.mkdtemp(prefix="gavel-pg-outage-")
    env = {**os.environ, "GAVEL_PG_FSYNC": "off"}
    made = subprocess.run([PG, "start", where], capture_output=True, text=True, env=env)
    assert made.returncode == 0, made.stderr
    uri = made.stdout.strip()

    def stop():
        subprocess.run([PG, "stop", where], check=True, capture_output=True)

    def restart():
        subprocess.run([PG, "restart", where], check=True, capture_output=True)

    yield uri, stop, restart
    subprocess.run([PG, "stop", where], capture_output=True)
    shutil.rmtree(where, ignore_errors=True)


def post_bid(srv, who, aid, amount, cbid):
    return requests.post(
        f"{srv.url}/api/auctions/{aid}/bids",
        timeout=30,
        headers={"Authorization": f"Bearer {who.token}"},
        json={"lot": 1, "amount": amount, "clientBidId": cbid},
    )


def test_bids_get_503_while_postgres_is_down_and_resume_by_itself(start_server, own_pg):
    uri, stop_pg, restart_pg = own_pg
    srv = start_server("--store", uri)
    people, lg, st, _ = setup_auction(srv, 3, lotSeconds=600)
    aid, comm, a, b = st["id"], *people
    acknowledged = []
    for i, who in enumerate((a, b, a, b)):
        r = bid(who, aid, 1, (2 + i) * M)
        assert r.status_code == 200, r.text
        acknowledged.append(r.json()["seq"])

    stop_pg()
    r = post_bid(srv, a, aid, 10 * M, "while-down")
    assert r.status_code == 503 and code_of(r) == "unavailable", r.text
    health = requests.get(f"{srv.url}/api/health", timeout=10)
    assert health.status_code == 503, health.text
    assert health.json()["checks"]["db"] != "ok", health.text

    restart_pg()
    # the same clientBidId again until the server is back: one outcome, however many tries
    deadline = time.monotonic() + 30
    while True:
        r = post_bid(srv, a, aid, 10 * M, "after-restart")
        if r.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.status_code == 200, r.text
    again = post_bid(srv, a, aid, 10 * M, "after-restart")
    assert again.status_code == 200 and again.json() == r.json(), again.text
    assert requests.get(f"{srv.url}/api/health", timeout=10).status_code == 200

    log = comm.all_items(f"/api/auctions/{aid}/events")
    seqs = [e["seq"] for e in log]
    assert seqs == list(range(1, len(log) + 1)), seqs
    assert set(acknowledged) <= set(seqs)
    amounts = [e.get("amount") for e in log if e.get("type") == "bid"]
    assert amounts == [2 * M, 3 * M, 4 * M, 5 * M, 10 * M], amounts
    lot = state(comm, aid)["lot"]
    assert lot["currentBid"] == 10 * M and lot["leaderId"] == a.id, lot

    # a server started afresh on the database finds exactly that
    srv.stop_and_check()
    again_srv = start_server("--store", uri)
    lot2 = state_of(again_srv, comm, aid)
    assert lot2["currentBid"] == 10 * M and lot2["leaderId"] == a.id, lot2


def state_of(srv, who, aid):
    r = requests.get(
        f"{srv.url}/api/auctions/{aid}",
        timeout=10,
        headers={"Authorization": f"Bearer {who.token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()["lot"]


def test_one_server_per_schema(start_server, own_pg, tmp_path):
    """A second server on the same database and schema would run the same auctions apart from
    the first: it refuses to start, saying why; one on another schema starts; once the first has
    stopped, the schema can be served again."""
    uri, _, _ = own_pg
    first = start_server("--store", uri)
    second = run_gavel("serve", "--dev", "--listen", "127.0.0.1:0", "--data", tmp_path / "second",
                       "--store", uri)
    assert second.returncode != 0
    assert "another gavel serve already uses this PostgreSQL database and schema" in second.stderr
    made = subprocess.run(["psql", "-qX", uri, "-c", "CREATE SCHEMA other"], capture_output=True)
    assert made.returncode == 0, made.stderr
    other = start_server("--store", uri + "?options=-csearch_path%3Dother")
    assert requests.get(f"{other.url}/api/health", timeout=10).status_code == 200
    first.stop_and_check()
    again = start_server("--store", uri)
    assert requests.get(f"{again.url}/api/health", timeout=10).status_code == 200


def test_health_fails_when_the_schema_is_gone(start_server, own_pg):
    """Health asks one of Gavel's own tables, not only the server: a schema renamed away (the
    server up, every query of Gavel's failing) is a failed database, and its return heals it."""
    uri, _, _ = own_pg
    subprocess.run(["psql", "-qX", uri, "-c", "CREATE SCHEMA mine"], check=True)
    srv = start_server("--store", uri + "?options=-csearch_path%3Dmine")
    assert requests.get(f"{srv.url}/api/health", timeout=10).status_code == 200
    subprocess.run(["psql", "-qX", uri, "-c", "ALTER SCHEMA mine RENAME TO gone"], check=True)
    health = requests.get(f"{srv.url}/api/health", timeout=10)
    assert health.status_code == 503 and health.json()["checks"]["db"] != "ok", health.text
    subprocess.run(["psql", "-qX", uri, "-c", "ALTER SCHEMA gone RENAME TO mine"], check=True)
    assert requests.get(f"{srv.url}/api/health", timeout=10).status_code == 200
