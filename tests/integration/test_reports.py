"""Error reports against the real binary: every 5xx writes exactly one report line with its request
id, route, status and code, and no e-mail address or token; a failed group commit is reported as a
broken invariant; --log-format json makes every stderr line a JSON object; with --sentry-dsn the
same report reaches a local HTTP sink as a Sentry envelope, without delaying the request, within
the rate limit, and a Sentry that hangs or is down hurts nothing; a fatal signal writes a last
report line and the process dies of that signal.

The 5xx come from real faults: the store broken from outside (every query fails: SQLite's schema
made unparsable from another connection, or the PostgreSQL database refusing the server's
connections), or the store's write lock held by another process past the server's 5 s wait."""

import json
import os
import re
import resource
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import broken_store, holding_write_lock, run_gavel, wait_for
from test_auction import M, bid, setup_auction
from test_auth import bearer, sign_in
from test_leagues import code_of

PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|\S*)')


def logfmt(line):
    """The key=value pairs of a logfmt line (quoted values unquoted)."""
    return {k: v[1:-1] if v.startswith('"') else v for k, v in PAIR.findall(line)}


def reports(server, **match):
    """The report lines of the server's log (logfmt) whose pairs include match, parsed."""
    found = []
    for line in server.log().splitlines():
        if " error report " in line:
            pairs = logfmt(line)
            if all(pairs.get(k) == v for k, v in match.items()):
                found.append((line, pairs))
    return found


def get(server, path, rid=None, headers=None):
    h = dict(headers or {}, **({"X-Request-Id": rid} if rid else {}))
    return requests.get(server.url + path, headers=h, timeout=10)


def version():
    out = run_gavel("version")
    return out.stdout.split()[1]


# ---- the report line ----------------------------------------------------------------------------


def test_a_5xx_writes_exactly_one_report(start_server):
    srv = start_server()
    with broken_store(srv) as fault:
        r = get(srv, "/api/health", rid="rep-health-1")
        assert r.status_code == 503 and r.json()["status"] == "degraded", r.text
        r = requests.post(srv.url + "/api/auth/magic-link", json={"email": "x@example.com"},
                          headers={"X-Request-Id": "rep-link-1"}, timeout=10)
        assert r.status_code == fault.status and code_of(r) == fault.code, r.text
    assert get(srv, "/api/health").status_code == 200  # the store is back
    (line, p), = reports(srv, rid="rep-health-1")
    assert " level=error error report kind=http_5xx " in line, line
    assert p["method"] == "GET" and p["route"] == "/api/health" and p["path"] == "/api/health"
    assert p["status"] == "503" and p["code"] == "unavailable" and p["err"] == "UNAVAILABLE"
    assert "db:failed" in p["context"], p  # health's body: which check failed
    (line, p), = reports(srv, rid="rep-link-1")
    assert p["route"] == "/api/auth/magic-link" and p["status"] == str(fault.status)
    assert p["code"] == fault.code and p["err"] in fault.errs, line
    assert len(reports(srv, kind="http_5xx")) == 2, "a 2xx or 4xx is never reported"


def test_reports_carry_no_email_address_or_token(start_server):
    srv = start_server()
    session = sign_in(srv, "carol.secret@example.com")
    token = session["accessToken"]
    refresh = session["refreshToken"]
    with broken_store(srv) as fault:
        r = get(srv, "/api/leagues/carol.secret@example.com", rid="rep-pii-1",
                headers=bearer(token))
        assert r.status_code == fault.status, r.text
        r = get(srv, f"/api/leagues/{refresh}", rid="rep-pii-2", headers=bearer(token))
        assert r.status_code == fault.status, r.text
        r = requests.post(srv.url + "/api/auth/refresh", json={"refreshToken": refresh},
                          headers={"X-Request-Id": "rep-pii-3", **bearer(token)}, timeout=10)
        assert r.status_code >= 500, r.text
    found = reports(srv, kind="http_5xx")
    assert {p["rid"] for _, p in found} == {"rep-pii-1", "rep-pii-2", "rep-pii-3"}, found
    for line, p in found:
        assert "carol" not in line and "example.com" not in line, line
        assert token not in line and refresh not in line and token[:20] not in line, line
    by_rid = {p["rid"]: p for _, p in found}
    assert by_rid["rep-pii-1"]["path"] == "[email]"
    assert by_rid["rep-pii-1"]["route"] == "/api/leagues/{id}"
    assert by_rid["rep-pii-2"]["path"] == "[redacted]"


def test_a_failed_group_commit_is_reported_as_a_broken_invariant(start_server):
    """The bid waits on a commit that cannot happen (another process holds the store's write
    lock past the server's 5 s wait): the bid's 503 is reported with its request, and the failed
    commit once as an invariant."""
    srv = start_server()
    people, lg, st, _ = setup_auction(srv, 2)
    aid, comm, a = st["id"], *people
    assert bid(a, aid, 1, 2 * M).status_code == 200
    with holding_write_lock(srv):
        r = requests.post(f"{srv.url}/api/auctions/{aid}/bids", timeout=20,
                          headers={"X-Request-Id": "rep-commit-1", **bearer(comm.token)},
                          json={"lot": 1, "amount": 3 * M, "clientBidId": "blocked"})
        assert r.status_code == 503 and code_of(r) == "unavailable", r.text
    (_, p), = reports(srv, rid="rep-commit-1")
    assert p["kind"] == "http_5xx" and p["route"] == "/api/auctions/{id}/bids"
    assert p["status"] == "503" and p["code"] == "unavailable" and p["method"] == "POST"
    (line, p), = wait_for(lambda: reports(srv, kind="invariant"))
    assert p["rid"] == "-" and p["code"] == "unavailable", line
    assert "group commit failed" in p["context"], line
    assert bid(comm, aid, 1, 3 * M).status_code == 200  # and the auction goes on


# ---- --log-format json --------------------------------------------------------------------------


def test_json_log_format_makes_every_line_a_json_object(start_server):
    srv = start_server("--log-format", "json")
    assert get(srv, "/api/health", rid="rep-json-ok").status_code == 200
    assert get(srv, "/nowhere?x=1").status_code == 404
    with broken_store(srv):
        assert get(srv, "/api/health", rid="rep-json-1").status_code == 503
    srv.stop_and_check()
    lines = srv.log().splitlines()
    assert len(lines) >= 5, lines
    objs = [json.loads(line) for line in lines]  # every line, not only the reports
    for o in objs:
        assert isinstance(o, dict) and {"ts", "level", "msg"} <= o.keys(), o
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]), o
        assert all(isinstance(v, str) for v in o.values()), o
    access = [o for o in objs if o["msg"] == "http" and o.get("rid") == "rep-json-ok"]
    assert access and access[0]["status"] == "200" and access[0]["path"] == "/api/health"
    (rep,) = [o for o in objs if o["msg"] == "error report"]
    assert rep["level"] == "error" and rep["kind"] == "http_5xx" and rep["rid"] == "rep-json-1"
    assert rep["route"] == "/api/health" and rep["status"] == "503"
    assert rep["code"] == "unavailable" and rep["err"] == "UNAVAILABLE"
    assert objs[-1]["msg"] == "stopped"


def test_an_unknown_log_format_exits_2(tmp_path):
    out = run_gavel("serve", "--listen", "127.0.0.1:0", "--data", tmp_path / "d",
                    "--log-format", "xml")
    assert out.returncode == 2, out
    assert out.stderr.strip() == "gavel: --log-format must be logfmt or json", out.stderr
    assert not (tmp_path / "d").exists(), "nothing was started"


# ---- Sentry -------------------------------------------------------------------------------------


class SentrySink:
    """A local HTTP server standing in for Sentry: records every POST (path, headers, body) and
    answers 200, or, while `hang` is set, holds each request unanswered until closed."""

    def __init__(self, hang=False):
        self.requests = []
        self.hang = hang
        self.released = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                sink.requests.append((self.path, headers, body))
                if sink.hang:
                    sink.released.wait(30)
                    return
                out = b'{"id":"ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def dsn(self, key="pubkey123", project=42):
        return f"http://{key}@127.0.0.1:{self.port}/{project}"

    def close(self):
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sink():
    s = SentrySink()
    yield s
    s.close()


@pytest.fixture
def hanging_sink():
    s = SentrySink(hang=True)
    yield s
    s.close()


def report_counts(srv):
    m = srv.metrics()
    return {o: m.value("gavel_error_reports_total", outcome=o) for o in ("sent", "dropped", "failed")}


def test_the_report_reaches_sentry_as_an_envelope(start_server, sink):
    srv = start_server("--sentry-dsn", sink.dsn())
    assert report_counts(srv) == {"sent": 0, "dropped": 0, "failed": 0}
    with broken_store(srv):
        r = get(srv, "/api/health", rid="rep-sentry-1")
    assert r.status_code == 503, r.text
    assert wait_for(lambda: len(sink.requests) == 1), sink.requests
    path, headers, body = sink.requests[0]
    assert path == "/api/42/envelope/"
    assert headers["content-type"] == "application/x-sentry-envelope"
    assert headers["x-sentry-auth"] == (
        f"Sentry sentry_version=7, sentry_key=pubkey123, sentry_client=gavel/{version()}")
    lines = body.split(b"\n")
    assert len(lines) == 4 and lines[3] == b"", body
    head, item, event = json.loads(lines[0]), json.loads(lines[1]), json.loads(lines[2])
    assert re.fullmatch(r"[0-9a-f]{32}", head["event_id"]) and head["dsn"] == sink.dsn()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", head["sent_at"])
    assert item == {"type": "event", "length": len(lines[2])}
    assert event["event_id"] == head["event_id"] and event["timestamp"] == head["sent_at"]
    assert event["level"] == "error" and event["platform"] == "c" and event["logger"] == "gavel"
    assert event["message"] == "http_5xx 503 unavailable GET /api/health"
    assert event["tags"] == {"kind": "http_5xx", "route": "/api/health", "status": "503",
                             "code": "unavailable"}
    assert event["extra"]["rid"] == "rep-sentry-1" and event["extra"]["path"] == "/api/health"
    assert "db:failed" in event["extra"]["context"]
    assert event["release"] == f"gavel@{version()}" and event["server_name"]
    assert wait_for(lambda: report_counts(srv)["sent"] == 1), report_counts(srv)
    assert report_counts(srv) == {"sent": 1, "dropped": 0, "failed": 0}
    (_, p), = reports(srv, rid="rep-sentry-1")  # the log line is written as well


def test_the_rate_limit_drops_and_counts(start_server, sink):
    srv = start_server("--sentry-dsn", sink.dsn())
    with broken_store(srv):
        for i in range(12):
            assert get(srv, "/api/health", rid=f"rep-rate-{i}").status_code == 503
    assert report_counts(srv)["dropped"] == 2  # counted when refused, at once
    assert wait_for(lambda: report_counts(srv)["sent"] == 10), report_counts(srv)
    assert len(sink.requests) == 10
    assert report_counts(srv) == {"sent": 10, "dropped": 2, "failed": 0}
    assert len(reports(srv, kind="http_5xx")) == 12, "every report is logged all the same"


def test_a_hanging_sentry_delays_nothing(start_server, hanging_sink):
    srv = start_server("--sentry-dsn", hanging_sink.dsn())
    with broken_store(srv):
        for i in range(3):
            start = time.monotonic()
            r = get(srv, "/api/health", rid=f"rep-hang-{i}")
            assert r.status_code == 503 and time.monotonic() - start < 1.0
    assert wait_for(lambda: len(hanging_sink.requests) == 1)  # in flight, unanswered
    start = time.monotonic()
    assert get(srv, "/api/health").status_code == 200
    assert time.monotonic() - start < 1.0
    start = time.monotonic()
    srv.stop_and_check()  # the transfer in flight is given up after a short grace
    assert time.monotonic() - start < 6, "a hanging Sentry held the shutdown"


def test_a_sentry_that_is_down_hurts_nothing(start_server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    srv = start_server("--sentry-dsn", f"http://k@127.0.0.1:{port}/3")
    with broken_store(srv):
        start = time.monotonic()
        assert get(srv, "/api/health", rid="rep-down-1").status_code == 503
        assert time.monotonic() - start < 1.0
    assert wait_for(lambda: report_counts(srv)["failed"] == 1), report_counts(srv)
    assert report_counts(srv) == {"sent": 0, "dropped": 0, "failed": 1}
    assert len(reports(srv, rid="rep-down-1")) == 1


@pytest.mark.parametrize("dsn", ["sentry.example.com", "https://host/1", "https://k:secret@h/1",
                                 "https://k@host/project", "ftp://k@host/1"])
def test_a_bad_dsn_exits_2(tmp_path, dsn):
    out = run_gavel("serve", "--listen", "127.0.0.1:0", "--data", tmp_path / "d",
                    "--sentry-dsn", dsn)
    assert out.returncode == 2, out
    assert out.stderr.strip() == (
        "gavel: --sentry-dsn must look like https://PUBLIC_KEY@HOST[:PORT]/PROJECT_ID"), out.stderr


# ---- fatal signals ------------------------------------------------------------------------------


@pytest.fixture
def no_core_dumps(monkeypatch):
    """Servers started meanwhile dump no core, and the sanitizer runtime (if the binary has one)
    leaves the fatal signals to the server's own handler."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    opts = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (opts + ":" if opts else "") +
                       "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:"
                       "handle_abort=0")
    yield
    resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL,
                                 signal.SIGABRT])
def test_a_fatal_signal_writes_a_last_report_and_kills(start_server, no_core_dumps, sig):
    srv = start_server()
    assert get(srv, "/api/health").status_code == 200
    srv.crashed_on_purpose = True
    srv.send_signal(sig)
    assert srv.wait() == -sig, f"the process died of {signal.Signals(sig).name}"
    last = srv.log().splitlines()[-1]
    assert re.fullmatch(r"ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=error error report "
                        rf"kind=fatal_signal signal={signal.Signals(sig).name} "
                        rf"pid={srv.pid} version=\S+", last), last
    assert last.endswith(f"version={version()}")


def test_the_last_report_follows_the_log_format(start_server, no_core_dumps):
    srv = start_server("--log-format", "json")
    srv.crashed_on_purpose = True
    srv.send_signal(signal.SIGSEGV)
    assert srv.wait() == -signal.SIGSEGV
    last = json.loads(srv.log().splitlines()[-1])
    assert last["level"] == "error" and last["msg"] == "error report", last
    assert last["kind"] == "fatal_signal" and last["signal"] == "SIGSEGV", last
    assert last["pid"] == str(srv.pid) and last["version"] == version(), last
