"""A damaged database never crashes the tools: `gavel check`, `migrate` and `serve` on a copy of a
real database whose middle third was overwritten (or one of whose table pages was), or on a
file that is not a database at all, exit 1 with one sentence on stderr that names the file,
quotes SQLite and says what to do next; the file is left exactly as it was."""

import hashlib
import shutil
import sqlite3

import pytest

from conftest import run_gavel
from test_auction import M, bid, control, setup_auction

# damages SQLite's file on purpose: a PostgreSQL store's pages belong to its server
pytestmark = pytest.mark.sqlite_only


@pytest.fixture(scope="module")
def good_db(tmp_path_factory):
    """A database with users, a league and an auction with a sale, written by the real server."""
    from conftest import ServerFactory

    factory = ServerFactory(tmp_path_factory)
    srv = factory()
    people, lg, st, _ = setup_auction(srv, 2)
    assert bid(people[1], st["id"], 1, 3 * M).status_code == 200
    control(people[0], st["id"], "close-lot")
    srv.stop_and_check()  # checkpoints the WAL into gavel.db
    out = run_gavel("check", "--data", srv.data)
    assert out.returncode == 0 and "check ok" in out.stdout, out.stdout + out.stderr
    return srv.data / "gavel.db"


def damaged_copy(tmp_path, good_db, damage):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(good_db, data / "gavel.db")
    db = sqlite3.connect(data / "gavel.db")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'auction_rosters'").fetchone()[0]
    db.close()
    with open(data / "gavel.db", "r+b") as f:
        damage(f, (data / "gavel.db").stat().st_size, (root - 1) * page_size, page_size)
    return data


def middle_third(f, size, root_at, page_size):
    f.seek(size // 3)
    f.write(b"\xa5" * (size // 3))


def table_page(f, size, root_at, page_size):
    """The root page of a table (auction_rosters) becomes an invalid b-tree page; the schema on
    page 1 stays intact, so opening works and the integrity check must find it."""
    f.seek(root_at)
    f.write(b"\x0d\xff\xff\xff\xff\xff\xff\xff" * (page_size // 8))


def not_a_database(f, size, root_at, page_size):
    f.seek(0)
    f.write(b"this is not a database " * (size // 23))


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(out, data):
    assert out.returncode == 1, (out.returncode, out.stderr)  # never a signal (-11: SIGSEGV)
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"gavel: the database file {data / 'gavel.db'} is damaged"), last
    assert "SQLite: " in last and "backup" in last, last


@pytest.mark.parametrize("damage", [middle_third, table_page, not_a_database])
def test_check_reports_a_damaged_database(tmp_path, good_db, damage):
    data = damaged_copy(tmp_path, good_db, damage)
    before = digest(data / "gavel.db")
    out = run_gavel("check", "--data", data)
    assert_refused(out, data)
    assert "check ok" not in out.stdout
    assert digest(data / "gavel.db") == before, "the damaged file is left as it was"


@pytest.mark.parametrize("damage", [middle_third, not_a_database])
def test_migrate_and_serve_report_a_damaged_database(tmp_path, good_db, damage):
    data = damaged_copy(tmp_path, good_db, damage)
    before = digest(data / "gavel.db")
    assert_refused(run_gavel("migrate", "--data", data), data)
    out = run_gavel("serve", "--listen", "127.0.0.1:0", "--data", data, "--dev")
    assert_refused(out, data)
    assert digest(data / "gavel.db") == before


def test_the_good_copy_still_checks_ok(tmp_path, good_db):
    data = damaged_copy(tmp_path, good_db, lambda *args: None)
    out = run_gavel("check", "--data", data)
    assert out.returncode == 0 and "check ok" in out.stdout, out.stderr
    db = sqlite3.connect(data / "gavel.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
