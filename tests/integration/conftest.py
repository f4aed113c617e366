"""Shared fixtures and helpers of Gavel's integration tests.

The tests run the real binary (GAVEL_BIN, default build/gavel) on an ephemeral port with a
temporary data directory, and talk to it over real sockets:

* `Server` starts `gavel serve`, reads the port it prints, keeps its log (stderr) in a file and
  stops it with a signal. A server that does not exit 0 after SIGTERM/SIGINT -- a crash, a hang or
  a sanitizer abort -- fails the test that owns it, with its log in the report.
* `RawConn` is a raw TCP client: it sends exact bytes and parses the HTTP responses (and WebSocket
  frames) that come back, always under a timeout.
* WebSocket helpers build and parse frames for protocol violations the `websockets` library
  refuses to produce, and wrap that library (asyncio API of websockets 10) for normal clients.
* Prometheus text helpers parse /metrics.
* Store helpers reach the server's store from outside, on either backend: `Server.store_flags`
  for gavel commands, `db_sql`, `jwt_secret`, `holding_write_lock` and `broken_store`.

Run with Debian's interpreter: /usr/bin/python3 -m pytest -q tests/integration
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets

REPO = Path(__file__).resolve().parents[2]
_bin = Path(os.environ.get("GAVEL_BIN", "build/gavel"))
GAVEL_BIN = _bin if _bin.is_absolute() else REPO / _bin

TIMEOUT = 5.0  # default for every socket operation
START_TIMEOUT = 20.0  # the sanitizer build starts slowly
STOP_TIMEOUT = 15.0  # longer than the server's own 10 s shutdown grace period
# Set (a postgresql:// URI, `make test` sets it): every server's store is PostgreSQL, a schema of
# its own in that database; tests marked sqlite_only or own_store are not collected.
PG_URL = os.environ.get("GAVEL_TEST_STORE_PG", "")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# ---- the binary ---------------------------------------------------------------------------------


def gavel_env():
    """The environment for gavel: ours without GAVEL_* settings, which would change its flags."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GAVEL_")}


def run_gavel(*args, timeout=30):
    """Runs a gavel command to completion (version, migrate, a bad command line). A sanitizer
    report from the command fails the test at once, whatever its exit code (a test expecting
    "non-zero" must not accept a crash)."""
    if not GAVEL_BIN.exists():
        pytest.fail(f"gavel binary not found at {GAVEL_BIN}; build it (make build/gavel)")
    proc = subprocess.Popen(
        [str(GAVEL_BIN), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=gavel_env(),
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"gavel {' '.join(map(str, args))} did not finish in {timeout} s")
    reports = sanitizer_reports(proc.pid)
    if reports or any(m in err for m in _SANITIZER_MARKERS):
        text = "\n".join(r.read_text(errors="replace")[:4000] for r in reports) or err[-4000:]
        pytest.fail(f"gavel {' '.join(map(str, args))}: sanitizer report\n{text}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _sanitizer_log_prefixes():
    """log_path prefixes of ASAN_OPTIONS / UBSAN_OPTIONS: reports go to PREFIX.<pid> files."""
    prefixes = []
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        for opt in re.split(r"[:\s]+", os.environ.get(var, "")):
            if opt.startswith("log_path="):
                prefixes.append(opt[len("log_path=") :])
    return prefixes


def sanitizer_reports(pid):
    """The sanitizer report files the process pid wrote (when log_path is configured)."""
    found = []
    for prefix in _sanitizer_log_prefixes():
        directory = Path(prefix).parent
        if directory.is_dir():
            found += sorted(directory.glob(f"{Path(prefix).name}.{pid}*"))
    return found


_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def pg_store_uri(workdir):
    """The --store URI of the server in workdir: a schema of its own in PG_URL, made the first
    time (a restarted server finds the same one). The server's sessions carry the schema's name
    as their application_name (broken_store finds them by it)."""
    mark = Path(workdir) / "pg-schema"
    if not mark.exists():
        name = "it_" + hashlib.sha1(str(workdir).encode()).hexdigest()[:20]
        made = subprocess.run(
            ["psql", "-qX", "-v", "ON_ERROR_STOP=1", PG_URL, "-c", f"CREATE SCHEMA {name}"],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.fail(f"cannot make the schema {name} in {PG_URL}: {made.stderr}")
        mark.write_text(name)
    name = mark.read_text()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{name}&application_name={name}"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "sqlite_only: needs SQLite's file or what only a SQLite store does (backup, restore,"
        " check, scheduled backups); not run on PostgreSQL",
    )
    config.addinivalue_line(
        "markers",
        "own_store: chooses its servers' store itself (runs once, in the SQLite pass, not in the"
        " PostgreSQL one)",
    )


def pytest_collection_modifyitems(config, items):
    if PG_URL:
        kept = [
            i
            for i in items
            if i.get_closest_marker("sqlite_only") is None
            and i.get_closest_marker("own_store") is None
        ]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


class Server:
    """One `gavel serve` process on 127.0.0.1 with its own data directory (and, when PG_URL is
    set, its own PostgreSQL schema)."""

    def __init__(self, workdir, flags=(), dev=True, log_mode="wb"):
        if not GAVEL_BIN.exists():
            pytest.fail(f"gavel binary not found at {GAVEL_BIN}; build it (make build/gavel)")
        self.workdir = Path(workdir)
        self.data = self.workdir / "data"
        self.log_path = self.workdir / "gavel.log"
        self.cmd = [str(GAVEL_BIN), "serve", "--listen", "127.0.0.1:0", "--data", str(self.data)]
        # the store URI on PostgreSQL (None on SQLite), and what a gavel command (user, import,
        # fixtures, stats ...) needs besides --data to work on this server's store
        self.store_uri = pg_store_uri(self.workdir) if PG_URL else None
        self.store_flags = ["--store", self.store_uri] if PG_URL else []
        self.cmd += self.store_flags
        self.cmd += ["--rate-limit-scale", "0", *(["--dev"] if dev else []), *map(str, flags)]
        self.flags, self.dev = flags, dev
        self.returncode = None
        self.stop_signal = None
        self.crashed_on_purpose = False
        self._log = open(self.log_path, log_mode)
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=self._log, env=gavel_env(), cwd=self.workdir
        )
        line = self._first_line()
        m = re.fullmatch(r"gavel listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.kill()
            pytest.fail(f"gavel did not announce its port (got {line!r})\n{self.describe()}")
        self.host = "127.0.0.1"
        self.port = int(m.group(1))
        self.url = f"http://{self.host}:{self.port}"
        self.ws_url = f"ws://{self.host}:{self.port}/ws"

    def _first_line(self):
        out = self.proc.stdout
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                break
            byte = os.read(out.fileno(), 1)
            if not byte:
                break  # exited
            line += byte
        return line.decode(errors="replace").strip()

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        return self.log_path.read_text(errors="replace")

    def running(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.running():
            self.stop_signal = sig
            self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for the exit and returns the exit code; kills a process that does not exit."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.returncode = f"did not exit within {timeout} s (killed)"
        self._log.close()
        self.proc.stdout.close()
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends sig (unless already exited) and returns the exit code."""
        if self.returncode is None:
            self.send_signal(sig)
            self.wait(timeout)
        return self.returncode

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def crash(self):
        """kill -9, as a crash would: the test checks recovery, not this exit."""
        self.crashed_on_purpose = True
        self.stop(signal.SIGKILL)

    def problems(self):
        """What is wrong with how the process ended: a non-zero exit or sanitizer reports."""
        found = []
        if self.returncode != 0 and not self.crashed_on_purpose:
            how = signal.Signals(self.stop_signal).name if self.stop_signal else "no signal"
            found.append(f"exit status {self.returncode} (sent: {how})")
        for report in sanitizer_reports(self.pid):
            found.append(f"sanitizer report {report}:\n{report.read_text(errors='replace')[:4000]}")
        log = self.log()
        if any(marker in log for marker in _SANITIZER_MARKERS):
            found.append("sanitizer report in the log")
        return found

    def stop_and_check(self, sig=signal.SIGTERM):
        """Stops the server and fails unless it exited 0 with no sanitizer report."""
        self.stop(sig)
        problems = self.problems()
        assert not problems, "gavel did not stop cleanly: " + "; ".join(problems) + "\n" + (
            self.describe()
        )

    def describe(self):
        log = self.log()
        if len(log) > 12000:
            log = "...\n" + log[-12000:]
        return f"command: {' '.join(self.cmd)}\nexit: {self.returncode}\nlog:\n{log}"

    # -- convenience clients -----------------------------------------------------------------

    def connect(self, timeout=TIMEOUT):
        return RawConn(self.port, timeout)

    def request(self, method, path, headers=None, body=b"", timeout=TIMEOUT):
        """One request on a fresh connection; returns the Response."""
        with self.connect(timeout) as conn:
            conn.send(build_request(method, path, headers, body))
            return conn.read_response(head=method == "HEAD")

    def get(self, path, headers=None):
        return self.request("GET", path, headers)

    def metrics(self):
        resp = self.get("/metrics")
        assert resp.status == 200, resp
        return parse_metrics(resp.text)


class ServerFactory:
    """Starts servers with extra flags, each in its own temporary directory."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self.servers = []

    def __call__(self, *flags, dev=True):
        server = Server(self._tmp.mktemp("gavel"), flags, dev)
        self.servers.append(server)
        return server

    def restart(self, old):
        """A new server on old's data directory (after old crashed or stopped)."""
        if old.returncode is None:
            old.crash()
        server = Server(old.workdir, old.flags, old.dev, log_mode="ab")
        self.servers.append(server)
        return server

    def stop_all_and_check(self):
        failures = []
        for server in self.servers:
            try:
                server.stop_and_check()
            except AssertionError as e:
                failures.append(str(e))
        assert not failures, "\n\n".join(failures)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A default server shared by the tests of one module."""
    srv = Server(tmp_path_factory.mktemp("gavel"))
    yield srv
    srv.stop_and_check()


@pytest.fixture
def start_server(tmp_path_factory):
    """A factory: start_server("--idle-timeout-ms", 500, dev=True) -> Server, stopped at the end."""
    factory = ServerFactory(tmp_path_factory)
    yield factory
    factory.stop_all_and_check()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Puts the log of every server a failed test used into its report."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if hasattr(value, "report_sections"):  # e.g. cluster.Cluster: its nodes, Redis, PostgreSQL
            rep.sections += value.report_sections()
            continue
        servers = value.servers if isinstance(value, ServerFactory) else [value]
        for srv in servers:
            if isinstance(srv, Server):
                rep.sections.append((f"gavel log (port {srv.port})", srv.describe()))


# ---- the server's store from outside ------------------------------------------------------------
#
# Another process reaching the store the server uses: SQLite's file in --data, or the server's
# schema in PostgreSQL (through psql: no PostgreSQL driver for Python is installed).


def _psql(uri, sql, timeout=30):
    """Runs sql on uri with psql; returns its rows as tuples of text. An error fails the test."""
    try:
        out = subprocess.run(
            ["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", "-F", "\x1f", uri, "-c", sql],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"psql did not finish in {timeout} s: {sql}")
    if out.returncode != 0:
        pytest.fail(f"psql failed: {sql}\n{out.stderr}")
    return [tuple(line.split("\x1f")) for line in out.stdout.splitlines()]


def db_sql(server, sql):
    """Runs one SQL statement on the server's store from another connection (SQLite's file, or
    the server's PostgreSQL schema); returns the rows as tuples of text (None for NULL on
    SQLite, "" on PostgreSQL)."""
    if PG_URL:
        return _psql(server.store_uri, sql)
    db = sqlite3.connect(server.data / "gavel.db", timeout=10, isolation_level=None)
    try:
        rows = db.execute(sql).fetchall()
    finally:
        db.close()
    return [tuple(None if v is None else str(v) for v in row) for row in rows]


def jwt_secret(server):
    """The key the server signs access tokens with: the file DATA/jwt.secret on SQLite; on
    PostgreSQL the secret the nodes share in the table meta, 64 hex digits whose text (not the
    bytes they spell) is the key."""
    if not PG_URL:
        return (server.data / "jwt.secret").read_bytes()
    rows = db_sql(server, "SELECT value FROM meta WHERE key = 'jwt_secret'")
    assert len(rows) == 1 and re.fullmatch(r"[0-9a-f]{64}", rows[0][0]), rows
    return rows[0][0].encode()


class PsqlSession:
    """A psql session kept open between statements (a transaction and its locks outlive one
    statement): run() sends statements and waits until psql has done them."""

    def __init__(self, uri):
        self.proc = subprocess.Popen(
            ["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", uri],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._buf = b""
        self._n = 0

    def run(self, sql, timeout=20):
        """Runs sql (statements ended by ;) and returns the lines it printed."""
        self._n += 1
        mark = f"-- done {self._n} --".encode()
        self.proc.stdin.write(sql.encode() + b"\n\\echo " + mark + b"\n")
        self.proc.stdin.flush()
        out = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" + mark + b"\n" not in b"\n" + self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                self.close()
                pytest.fail(f"psql did not finish in {timeout} s: {sql}")
            data = os.read(out, 65536)
            if not data:
                err = self.close()
                pytest.fail(f"psql failed: {sql}\n{err}")
            self._buf += data
        done, self._buf = (b"\n" + self._buf).split(b"\n" + mark + b"\n", 1)
        return done.decode().splitlines()[1:]

    def close(self):
        """Ends the session (an open transaction rolls back); returns what psql said on stderr."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"\\q\n")
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        return err


@contextlib.contextmanager
def holding_write_lock(server):
    """Another process holds the write lock of the server's store for the block: SQLite's (BEGIN
    IMMEDIATE), or on PostgreSQL every table of the server's schema locked IN EXCLUSIVE MODE
    (reads go on, writes wait). The server's writes wait out its busy timeout (SQLite) or
    lock_timeout (PostgreSQL), 5 s, and fail."""
    if not PG_URL:
        db = sqlite3.connect(server.data / "gavel.db", timeout=1, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")
            db.close()
        return
    session = PsqlSession(server.store_uri)
    try:
        tables = session.run(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
            "WHERE schemaname = current_schema();"
        )
        assert tables and tables[0], f"no tables in the server's schema: {tables}"
        session.run(f"BEGIN; LOCK TABLE {tables[0]} IN EXCLUSIVE MODE;")
        yield
        session.run("ROLLBACK;")
    finally:
        session.close()


@dataclass
class StoreFault:
    """How the server answers a request whose query fails under broken_store."""

    status: int  # HTTP status of an API request that needs the store
    code: str  # its error code
    errs: tuple  # the GV_E* names its report may carry


@contextlib.contextmanager
def broken_store(server):
    """Every query of the server fails for the block, and works again after it.

    SQLite: every table's schema is made unparsable from another connection (as a bad disk or
    restore would); queries fail as database errors (500 internal). PostgreSQL: the database
    stops taking connections and the server's sessions are ended (an outage of the database
    server, as a restart or a network fault would cause); the server's reconnections fail, its
    queries fail as the store being unavailable (503). Yields the StoreFault to expect."""
    if PG_URL:
        with _pg_outage(server):
            yield StoreFault(503, "unavailable", ("DB_BUSY",))
        return
    db = sqlite3.connect(server.data / "gavel.db", isolation_level=None)
    try:
        saved = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema=ON")
        db.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE broken(' WHERE type = 'table'")
        db.execute(f"PRAGMA schema_version={version + 1}")
        try:
            yield StoreFault(500, "internal", ("DB", "DB_CORRUPT"))
        finally:
            for name, sql in saved:
                db.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (sql, name))
            db.execute(f"PRAGMA schema_version={version + 2}")
    finally:
        db.close()


@contextlib.contextmanager
def _pg_outage(server):
    """PG_URL's database refuses every connection and the server's sessions (application_name:
    its schema) are ended; the statements go through the cluster's maintenance database."""
    url = urllib.parse.urlsplit(PG_URL)
    database = urllib.parse.unquote(url.path.lstrip("/"))
    maintenance = url._replace(path="/postgres").geturl()
    app = (server.workdir / "pg-schema").read_text()
    db = database.replace('"', '""')

    def end_sessions():
        """Ends the server's sessions; returns those there were (none: all have ended)."""
        return _psql(
            maintenance,
            "SELECT pid, pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND application_name = '{app}'",
        )

    _psql(maintenance, f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS false')
    try:
        assert wait_for(lambda: not end_sessions(), timeout=15), "the server's sessions stay"
        yield
    finally:
        _psql(maintenance, f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true')


# ---- raw HTTP ----------------------------------------------------------------------------------


def build_request(method, path, headers=None, body=b"", version="HTTP/1.1"):
    """Request bytes. headers: dict or list of pairs; Host and Content-Length are added unless
    given (Content-Length only when there is a body and no Transfer-Encoding)."""
    pairs = list(headers.items() if isinstance(headers, dict) else headers or [])
    names = {name.lower() for name, _ in pairs}
    if "host" not in names:
        pairs.insert(0, ("Host", "127.0.0.1"))
    if body and "content-length" not in names and "transfer-encoding" not in names:
        pairs.append(("Content-Length", str(len(body))))
    head = f"{method} {path} {version}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in pairs)
    return head.encode("latin-1") + b"\r\n" + (body.encode() if isinstance(body, str) else body)


def chunked(*chunks):
    """A chunked body of the given pieces, with the last-chunk and trailer end."""
    out = b""
    for piece in chunks:
        piece = piece.encode() if isinstance(piece, str) else piece
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list  # [(lower-case name, value)] in order
    body: bytes

    def header(self, name, default=None):
        values = [v for n, v in self.headers if n == name.lower()]
        return ", ".join(values) if values else default

    def has_header(self, name):
        return any(n == name.lower() for n, _ in self.headers)

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def __str__(self):
        return f"{self.status} {self.reason} {self.headers} {self.body[:500]!r}"


class Closed(Exception):
    """The peer closed the connection before a full response arrived."""


class RawConn:
    """A TCP connection to the server that sends raw bytes and parses what comes back."""

    def __init__(self, port, timeout=TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def request(self, method, path, headers=None, body=b"", version="HTTP/1.1"):
        """Sends one request and reads its response."""
        self.send(build_request(method, path, headers, body, version))
        return self.read_response(head=method == "HEAD")

    def _fill(self, deadline):
        """Reads more bytes into buf; raises Closed at EOF and socket.timeout at the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out waiting for the server")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError as e:
            raise Closed("connection reset") from e
        if not data:
            raise Closed("connection closed by the server")
        self.buf += data

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _take_until(self, marker, deadline):
        while marker not in self.buf:
            self._fill(deadline)
        out, self.buf = self.buf.split(marker, 1)
        return out

    def read_response(self, head=False, timeout=None):
        """Reads one response (a 1xx interim response counts as one). head: no body follows."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines = self._take_until(b"\r\n\r\n", deadline).decode("latin-1").split("\r\n")
        m = re.fullmatch(r"(HTTP/\d\.\d) (\d{3}) ?(.*)", lines[0])
        assert m, f"bad status line {lines[0]!r}"
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            assert sep, f"bad header line {line!r}"
            headers.append((name.strip().lower(), value.strip()))
        resp = Response(m.group(1), int(m.group(2)), m.group(3), headers, b"")
        if head or resp.status < 200 or resp.status in (204, 304):
            return resp
        length = resp.header("content-length")
        if length is not None:
            resp.body = self._take(int(length), deadline)
        else:  # delimited by the end of the connection
            try:
                while True:
                    self._fill(deadline)
            except Closed:
                resp.body, self.buf = self.buf, b""
        return resp

    def read_responses(self, n, timeout=None):
        return [self.read_response(timeout=timeout) for _ in range(n)]

    def read_final_response(self, timeout=None):
        """Reads past interim (1xx) responses; returns (interim list, final response)."""
        interim = []
        while True:
            resp = self.read_response(timeout=timeout)
            if resp.status >= 200:
                return interim, resp
            interim.append(resp)

    def wait_closed(self, timeout=TIMEOUT):
        """Seconds until the server closed the connection (EOF or reset); what it sent before
        stays in buf. Raises socket.timeout when the connection stays open."""
        start = time.monotonic()
        deadline = start + timeout
        try:
            while True:
                self._fill(deadline)
        except Closed:
            return time.monotonic() - start

    def is_open(self, wait=0.2):
        """True when the server has not closed the connection within `wait` seconds."""
        try:
            self.wait_closed(wait)
        except socket.timeout:
            return True
        return False

    # -- WebSocket over the raw connection ----------------------------------------------------

    def ws_handshake(self, path="/ws", headers=None):
        """Sends a valid upgrade request (headers override or add fields) and reads the answer."""
        fields = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": ws_key(),
            "Sec-WebSocket-Version": "13",
        }
        fields.update(headers or {})
        fields = {k: v for k, v in fields.items() if v is not None}
        self.send(build_request("GET", path, fields))
        resp = self.read_response(head=True)  # a 101 has no body
        if resp.status != 101:
            length = int(resp.header("content-length", "0"))
            resp.body = self._take(length, time.monotonic() + self.timeout)
        resp.key = fields.get("Sec-WebSocket-Key")
        return resp

    def send_ws(self, opcode, payload=b"", mask=True, fin=True):
        self.send(ws_frame(opcode, payload, mask=mask, fin=fin))

    def read_ws_frame(self, timeout=None):
        """Reads one server frame: (fin, opcode, payload). Server frames must be unmasked."""
        deadline = time.monotonic() + (timeout or self.timeout)
        b0, b1 = self._take(2, deadline)
        assert not b1 & 0x80, "the server sent a masked frame"
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2, deadline))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8, deadline))
        return bool(b0 & 0x80), b0 & 0x0F, self._take(length, deadline)

    def read_ws_close(self, timeout=None):
        """Reads frames up to the server's close frame; returns (code, reason, frames before)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        before = []
        while True:
            left = max(deadline - time.monotonic(), 0.01)
            fin, opcode, payload = self.read_ws_frame(timeout=left)
            if opcode == WS_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:].decode("utf-8", "replace"), before
            before.append((fin, opcode, payload))


# ---- WebSocket frames ---------------------------------------------------------------------------

WS_CONT, WS_TEXT, WS_BINARY, WS_CLOSE, WS_PING, WS_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def ws_accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def ws_frame(opcode, payload=b"", mask=True, fin=True):
    """A client frame; masked unless mask=False (a protocol violation for a client)."""
    payload = payload.encode() if isinstance(payload, str) else payload
    head = bytes([(0x80 if fin else 0) | opcode])
    mbit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([mbit | n])
    elif n <= 0xFFFF:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_close_payload(code, reason=""):
    return struct.pack("!H", code) + reason.encode()


# ---- the websockets library (asyncio) -----------------------------------------------------------


def run_async(coro, timeout=20):
    """Runs a coroutine to completion under an overall timeout."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def ws_connect(server, **kw):
    """websockets.connect to the server's /ws with short timeouts and no automatic pings."""
    kw.setdefault("open_timeout", TIMEOUT)
    kw.setdefault("close_timeout", TIMEOUT)
    kw.setdefault("ping_interval", None)
    return websockets.connect(server.ws_url, **kw)


async def ws_wait_close(ws, timeout=TIMEOUT):
    """Receives until the server closes; returns (close code, messages received before).
    The code is 1006 when the connection ended without a close frame."""
    messages = []
    try:
        while True:
            messages.append(await asyncio.wait_for(ws.recv(), timeout))
    except websockets.ConnectionClosed as e:
        return (e.rcvd.code if e.rcvd else 1006), messages


# ---- Prometheus text ----------------------------------------------------------------------------

SAMPLE_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?\s+\S+$")
_SAMPLE_PARTS = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass
class Metrics:
    text: str
    types: dict  # family name -> type
    samples: list  # (name, {label: value}, float)

    def value(self, name, **labels):
        """The value of the sample with exactly these labels, or None."""
        for n, lab, v in self.samples:
            if n == name and lab == labels:
                return v
        return None

    def series(self, name):
        return [(lab, v) for n, lab, v in self.samples if n == name]


def parse_metrics(text):
    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            m = _SAMPLE_PARTS.match(line)
            assert m, f"not a sample line: {line!r}"
            labels = dict(_LABEL.findall(m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3))))
    return Metrics(text, types, samples)


def wait_for(predicate, timeout=TIMEOUT, interval=0.05):
    """Polls predicate() until it returns a true value (returned) or the timeout (last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
