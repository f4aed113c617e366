"""Operations: /metrics, the OpenAPI description, the command line, a failing database in health,
and graceful shutdown on SIGTERM / SIGINT."""

import json
import signal
import socket
import time

import pytest

from conftest import (
    SAMPLE_RE,
    WS_CLOSE,
    WS_TEXT,
    broken_store,
    build_request,
    parse_metrics,
    run_gavel,
    wait_for,
    ws_close_payload,
)

HIST_SUFFIXES = ("_bucket", "_sum", "_count")


def family(sample_name, types):
    """The metric family a sample belongs to (histogram samples carry a suffix)."""
    for suffix in HIST_SUFFIXES:
        base = sample_name[: -len(suffix)]
        if sample_name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return sample_name


def assert_histogram(metrics, name):
    assert metrics.types.get(name) == "histogram", f"no '# TYPE {name} histogram'"
    buckets = metrics.series(name + "_bucket")
    assert buckets, f"{name} has no buckets"
    bounds = [labels["le"] for labels, _ in buckets]
    assert bounds[-1] == "+Inf", bounds
    finite = [float(b) for b in bounds[:-1]]
    assert finite == sorted(finite) and len(set(finite)) == len(finite), bounds
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), f"{name} buckets are not cumulative: {counts}"
    assert metrics.value(name + "_count") == counts[-1]
    assert metrics.value(name + "_sum") is not None


def health_count(metrics):
    return metrics.value("gavel_http_requests_total", route="/api/health", status="200") or 0


# ---- /metrics -----------------------------------------------------------------------------------


def test_metrics_is_prometheus_text(server):
    server.get("/api/health")
    resp = server.get("/metrics")
    assert resp.status == 200, resp
    assert resp.header("content-type").startswith("text/plain"), resp.header("content-type")
    lines = resp.text.splitlines()
    assert any(line.startswith("# TYPE ") for line in lines)
    samples = [line for line in lines if line and not line.startswith("#")]
    assert samples
    for line in samples:
        assert SAMPLE_RE.match(line), f"bad sample line {line!r}"
    metrics = parse_metrics(resp.text)
    for name, _, value in metrics.samples:
        assert family(name, metrics.types) in metrics.types, f"{name} has no # TYPE line"
        assert value == value, f"{name} is NaN"  # noqa: PLR0124
    for kind in metrics.types.values():
        assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}, kind


def test_request_counter_increases(start_server):
    srv = start_server()
    before = health_count(srv.metrics())
    for _ in range(3):
        assert srv.get("/api/health").status == 200
    after = srv.metrics()
    assert health_count(after) == before + 3, after.series("gavel_http_requests_total")
    assert after.types.get("gavel_http_requests_total") == "counter"
    srv.get("/no/such/page")
    unmatched = srv.metrics().series("gavel_http_requests_total")
    assert any(labels.get("status") == "404" for labels, _ in unmatched), unmatched


def test_latency_and_commit_histograms(server):
    server.get("/api/health")
    metrics = server.metrics()
    assert_histogram(metrics, "gavel_http_request_duration_seconds")
    assert metrics.value("gavel_http_request_duration_seconds_count") >= 1
    assert_histogram(metrics, "gavel_db_commit_duration_seconds")


def test_process_metrics(server):
    metrics = server.metrics()
    assert metrics.value("process_resident_memory_bytes") > 1024 * 1024
    assert metrics.value("process_cpu_seconds_total") > 0


def test_http_connections_gauge(start_server):
    srv = start_server()
    held = [srv.connect() for _ in range(3)]
    try:
        for conn in held:
            assert conn.request("GET", "/api/ready").status == 200
        # the three held connections plus the one asking
        assert srv.metrics().value("gavel_http_connections_open") == 4
    finally:
        for conn in held:
            conn.close()
    assert wait_for(lambda: srv.metrics().value("gavel_http_connections_open") == 1)


def test_ws_connections_gauge(start_server):
    srv = start_server()
    assert srv.metrics().value("gavel_ws_connections_open") == 0
    with srv.connect() as ws:
        assert ws.ws_handshake().status == 101
        assert srv.metrics().value("gavel_ws_connections_open") == 1
        assert srv.metrics().value("gavel_http_connections_open") == 1  # only the metrics one
    assert wait_for(lambda: srv.metrics().value("gavel_ws_connections_open") == 0)


# ---- other endpoints and the command line -------------------------------------------------------


def test_openapi_description(server):
    resp = server.get("/api/openapi.json")
    assert resp.status == 200, resp
    assert resp.header("content-type").startswith("application/json")
    doc = resp.json()
    assert doc["openapi"].startswith("3."), doc.get("openapi")
    assert "/api/health" in doc["paths"]


def test_version_command():
    out = run_gavel("version")
    assert out.returncode == 0, out
    assert out.stdout.startswith("gavel "), out.stdout
    assert len(out.stdout.split()) >= 2 and out.stdout.split()[1], out.stdout


def test_migrate_command_is_repeatable(tmp_path):
    first = run_gavel("migrate", "--data", tmp_path / "data")
    assert first.returncode == 0, first
    assert (tmp_path / "data" / "gavel.db").is_file()
    second = run_gavel("migrate", "--data", tmp_path / "data")
    assert second.returncode == 0, second
    assert second.stdout == first.stdout  # same schema version reported


@pytest.mark.parametrize(
    "args, mention",
    [
        (["serve", "--no-such-flag"], "--no-such-flag"),
        (["serve", "--max-connections", "many"], "--max-connections"),
        (["migrate", "--data"], "--data"),
        (["frobnicate"], "usage"),
    ],
)
def test_bad_command_line_exits_2(args, mention):
    out = run_gavel(*args)
    assert out.returncode == 2, out
    assert mention in out.stderr, out.stderr


# ---- a broken database --------------------------------------------------------------------------


def test_health_is_degraded_when_the_database_fails(start_server):
    srv = start_server()
    assert srv.get("/api/health").status == 200
    with broken_store(srv):
        resp = srv.get("/api/health")
        assert resp.status == 503, resp
        body = resp.json()
        assert body["status"] == "degraded", body
        assert body["checks"]["db"] != "ok", body
        assert isinstance(body["version"], str)
    resp = srv.get("/api/health")
    assert resp.status == 200 and resp.json()["checks"]["db"] == "ok", resp


# ---- graceful shutdown --------------------------------------------------------------------------


def test_sigterm_closes_websockets_with_1001_and_exits_0(start_server):
    srv = start_server()
    idle = srv.connect()
    ws = srv.connect()
    try:
        assert idle.request("GET", "/api/health").status == 200  # now an idle keep-alive
        assert ws.ws_handshake().status == 101
        start = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        code, _, _ = ws.read_ws_close()
        assert code == 1001
        ws.send_ws(WS_CLOSE, ws_close_payload(1001))
        ws.wait_closed()
        idle.wait_closed()
        assert srv.wait() == 0, srv.describe()
        assert time.monotonic() - start < 5
    finally:
        idle.close()
        ws.close()


def test_sigterm_lets_an_unanswering_websocket_go(start_server):
    """A client that never answers the close frame does not keep the server from exiting."""
    srv = start_server()
    with srv.connect() as ws:
        assert ws.ws_handshake().status == 101
        srv.send_signal(signal.SIGTERM)
        assert ws.read_ws_close()[0] == 1001
        assert srv.wait() == 0, srv.describe()


def refuses_connections(srv):
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
        return False
    except OSError:
        return True


def test_sigterm_answers_a_request_in_flight(start_server):
    """Ordered by states, not sleeps: the 100 Continue proves the server has read the request's
    head; a refused connection proves it has taken the signal; only then does the body go."""
    srv = start_server()
    body = json.dumps({"email": "inflight@example.com"}).encode()
    head = {"Content-Type": "application/json", "Content-Length": str(len(body)),
            "Expect": "100-continue"}
    with srv.connect() as conn:
        conn.send(build_request("POST", "/api/auth/magic-link", head))
        assert conn.read_response().status == 100
        srv.send_signal(signal.SIGTERM)
        assert wait_for(lambda: refuses_connections(srv)), "the server stopped accepting"
        conn.send(body)
        resp = conn.read_response()
        assert resp.status == 202, resp
        assert resp.header("connection") == "close"
        conn.wait_closed()
    assert srv.wait() == 0, srv.describe()


def test_sigint_exits_0(start_server):
    srv = start_server()
    with srv.connect() as ws:
        assert ws.ws_handshake().status == 101
        ws.send_ws(WS_TEXT, '{"type":"auth","token":"x"}')
        assert ws.read_ws_close()[0] == 4401
    srv.stop_and_check(signal.SIGINT)
