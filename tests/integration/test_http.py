"""HTTP/1.1 behaviour of the real server: the API conventions (JSON errors, X-Request-Id, CORS),
connection handling (keep-alive, pipelining, chunked bodies, 100-continue) and the defences
(smuggling, limits, timeouts, connection cap)."""

import socket
import struct
import threading
import time

import pytest

from conftest import Closed, build_request, chunked, wait_for

JSON_TYPE = "application/json; charset=utf-8"


def assert_error(resp, status, code):
    """resp is the API error envelope with this status and code."""
    assert resp.status == status, resp
    assert resp.header("content-type") == JSON_TYPE, resp
    body = resp.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert isinstance(body["error"].get("details", {}), dict), body


def assert_rejected_and_closed(conn, status, code):
    """The next response is this error, and the server then closes the connection."""
    resp = conn.read_response()
    assert_error(resp, status, code)
    assert resp.header("connection") == "close", resp
    conn.wait_closed()


# ---- endpoints and conventions ------------------------------------------------------------------


def test_health_shape(server):
    resp = server.get("/api/health")
    assert resp.status == 200, resp
    assert resp.header("content-type") == JSON_TYPE
    body = resp.json()
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]
    assert isinstance(body["uptimeS"], int) and body["uptimeS"] >= 0
    assert body["checks"]["db"] == "ok"


def test_ready(server):
    resp = server.get("/api/ready")
    assert resp.status == 200, resp
    assert resp.header("content-type") == JSON_TYPE


def test_unknown_path_is_404_envelope(server):
    assert_error(server.get("/api/no-such-thing"), 404, "not_found")


def test_wrong_method_is_405_with_allow(server):
    resp = server.request("POST", "/api/health", body="{}")
    assert_error(resp, 405, "method_not_allowed")
    assert resp.header("allow") == "GET, HEAD"


def test_head_has_headers_but_no_body(server):
    with server.connect() as conn:
        # HEAD then GET in one write: if HEAD carried a body, the GET's status line would not
        # come next.
        conn.send(build_request("HEAD", "/api/health") + build_request("GET", "/api/health"))
        head = conn.read_response(head=True)
        get = conn.read_response()
    assert head.status == 200, head
    assert head.header("content-type") == JSON_TYPE
    assert get.status == 200 and get.json()["status"] == "ok", get
    assert int(head.header("content-length")) == len(get.body)


def test_request_id_is_echoed(server):
    resp = server.get("/api/health", {"X-Request-Id": "client-chosen-id.42"})
    assert resp.header("x-request-id") == "client-chosen-id.42"
    err = server.get("/nowhere", {"X-Request-Id": "err-7"})
    assert err.status == 404 and err.header("x-request-id") == "err-7"


def test_request_id_is_generated_and_unique(server):
    ids = [server.get("/api/health").header("x-request-id") for _ in range(5)]
    ids.append(server.get("/nowhere").header("x-request-id"))
    assert all(ids), ids
    assert len(set(ids)) == len(ids), ids


# ---- connection handling ------------------------------------------------------------------------


def test_keep_alive_serves_several_requests(server):
    with server.connect() as conn:
        for i in range(5):
            resp = conn.request("GET", "/api/health", {"X-Request-Id": f"ka-{i}"})
            assert resp.status == 200, resp
            assert resp.header("x-request-id") == f"ka-{i}"
            assert resp.header("connection") != "close"


def test_pipelined_requests_are_answered_in_order(server):
    wanted = [
        ("GET", "/api/health", 200),
        ("GET", "/nope", 404),
        ("POST", "/api/health", 405),
        ("GET", "/api/ready", 200),
        ("GET", "/api/health", 200),
    ]
    data = b"".join(
        build_request(m, p, {"X-Request-Id": f"pipe-{i}"}, b"x" if m == "POST" else b"")
        for i, (m, p, _) in enumerate(wanted)
    )
    with server.connect() as conn:
        conn.send(data)  # one write: every request is in the server's buffer at once
        responses = conn.read_responses(len(wanted))
        assert conn.request("GET", "/api/health").status == 200  # still usable
    for i, ((_, _, status), resp) in enumerate(zip(wanted, responses)):
        assert resp.header("x-request-id") == f"pipe-{i}", (i, resp)
        assert resp.status == status, (i, resp)


def test_chunked_body_then_connection_still_usable(server):
    with server.connect() as conn:
        resp = conn.request(
            "POST", "/api/health", {"Transfer-Encoding": "chunked"}, chunked("hello", " world")
        )
        assert_error(resp, 405, "method_not_allowed")
        assert resp.header("connection") != "close"
        assert conn.request("GET", "/api/health").status == 200


def test_chunked_body_arriving_in_pieces(server):
    body = chunked("a" * 1000, "b" * 3000, "c")
    with server.connect() as conn:
        conn.send(build_request("POST", "/api/nothing-here", {"Transfer-Encoding": "chunked"}))
        for i in range(0, len(body), 700):
            conn.send(body[i : i + 700])
            time.sleep(0.01)
        assert_error(conn.read_response(), 404, "not_found")
        assert conn.request("GET", "/api/health").status == 200


def test_expect_100_continue(server):
    with server.connect() as conn:
        headers = {"Content-Length": "5", "Expect": "100-continue"}
        conn.send(build_request("POST", "/api/health", headers))
        interim = conn.read_response()
        assert (interim.version, interim.status) == ("HTTP/1.1", 100), interim
        conn.send(b"hello")
        assert_error(conn.read_response(), 405, "method_not_allowed")
        assert conn.request("GET", "/api/health").status == 200


def test_expect_100_continue_refused_when_body_too_large(server):
    with server.connect() as conn:
        headers = {"Content-Length": "10000000", "Expect": "100-continue"}
        conn.send(build_request("POST", "/api/health", headers))
        interim, final = conn.read_final_response()
        assert interim == [], "no 100 Continue for a body that will be refused"
        assert_error(final, 413, "payload_too_large")


def test_unknown_expectation_is_417(server):
    with server.connect() as conn:
        headers = {"Content-Length": "2", "Expect": "202-accepted"}
        conn.send(build_request("POST", "/api/health", headers))
        interim, final = conn.read_final_response()
        assert interim == []
        assert_error(final, 417, "expectation_failed")


def test_http10_without_keep_alive_closes(server):
    with server.connect() as conn:
        resp = conn.request("GET", "/api/health", version="HTTP/1.0")
        assert resp.status == 200, resp
        assert resp.json()["status"] == "ok"
        conn.wait_closed()


def test_http10_with_keep_alive_stays_open(server):
    with server.connect() as conn:
        for _ in range(2):
            headers = {"Connection": "keep-alive"}
            resp = conn.request("GET", "/api/health", headers, version="HTTP/1.0")
            assert resp.status == 200, resp
            assert resp.header("connection").lower() == "keep-alive"


# ---- request smuggling and malformed input ------------------------------------------------------


def test_content_length_with_transfer_encoding_is_rejected(server):
    with server.connect() as conn:
        smuggled = build_request("GET", "/api/ready", {"X-Request-Id": "smuggled"})
        body = b"0\r\n\r\n" + smuggled
        headers = {"Content-Length": str(len(body)), "Transfer-Encoding": "chunked"}
        conn.send(build_request("POST", "/api/health", headers, body))
        assert_rejected_and_closed(conn, 400, "invalid_request")


@pytest.mark.parametrize("size_line", [b"zz", b"-1", b"5;", b"fffffffffffffffffff"])
def test_invalid_chunk_size_is_rejected(server, size_line):
    with server.connect() as conn:
        conn.send(build_request("POST", "/api/health", {"Transfer-Encoding": "chunked"}))
        conn.send(size_line + b"\r\nhello\r\n0\r\n\r\n")
        assert_rejected_and_closed(conn, 400, "invalid_request")


def test_garbage_is_400_and_others_are_served(server):
    with server.connect() as conn:
        conn.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n")
        assert_rejected_and_closed(conn, 400, "invalid_request")
    with server.connect() as conn:
        conn.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
        assert_rejected_and_closed(conn, 400, "invalid_request")
    assert server.get("/api/health").status == 200


def test_one_header_over_16k_is_431(server):
    with server.connect() as conn:
        conn.send(build_request("GET", "/api/health", {"X-Big": "a" * (17 * 1024)}))
        assert_rejected_and_closed(conn, 431, "headers_too_large")


def test_many_headers_over_16k_are_431(server):
    many = [(f"X-H{i}", "b" * 90) for i in range(200)]  # ~20 KiB in many small headers
    with server.connect() as conn:
        conn.send(build_request("GET", "/api/health", many))
        assert_rejected_and_closed(conn, 431, "headers_too_large")


def test_headers_under_the_limit_are_fine(server):
    resp = server.get("/api/health", {"X-Big": "a" * (12 * 1024)})
    assert resp.status == 200, resp


def test_body_over_limit_is_413(server):
    with server.connect() as conn:
        conn.send(build_request("POST", "/api/health", {"Content-Length": "10000000"}))
        assert_rejected_and_closed(conn, 413, "payload_too_large")


def test_small_body_on_a_bodyless_route_is_ignored(server):
    """A body on a route that takes none is read and ignored: identity is checked first (401),
    never 413 below the 1 MiB limit, and the connection stays usable."""
    with server.connect() as conn:
        r = conn.request("GET", "/api/leagues/abc", {"Content-Type": "application/json"}, b"{}")
        assert_error(r, 401, "unauthorized")
        big = b"x" * (512 * 1024)
        r = conn.request("GET", "/api/leagues/abc", {"Content-Type": "application/json"}, big)
        assert_error(r, 401, "unauthorized")
        assert conn.request("GET", "/api/health").status == 200


def test_chunked_body_over_limit_is_413(server):
    with server.connect() as conn:
        conn.send(build_request("POST", "/api/health", {"Transfer-Encoding": "chunked"}))
        try:
            for _ in range(140):  # 140 x 8 KiB = 1.1 MiB, over the 1 MiB ignored on a route
                # that takes no body
                conn.send(chunked("x" * 8192)[: -len(b"0\r\n\r\n")])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before we finished sending
        assert_rejected_and_closed(conn, 413, "payload_too_large")


# ---- clients that misbehave slowly --------------------------------------------------------------


def test_half_open_connection_does_not_block_others(server):
    idle = [server.connect() for _ in range(3)]  # connected, never send anything
    try:
        start = time.monotonic()
        assert server.get("/api/health").status == 200
        assert time.monotonic() - start < 1.0
    finally:
        for conn in idle:
            conn.close()


def test_partial_request_does_not_block_others(server):
    with server.connect() as stuck:
        stuck.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        start = time.monotonic()
        assert server.get("/api/health").status == 200
        assert time.monotonic() - start < 1.0


def test_slowloris_is_closed_after_header_timeout(start_server):
    srv = start_server("--header-timeout-ms", 500)
    with srv.connect() as conn:
        start = time.monotonic()
        conn.send(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        closed = False
        while not closed and time.monotonic() - start < 5:  # a header line every 100 ms, no end
            try:
                conn.send(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            closed = not conn.is_open(wait=0.1)
        elapsed = time.monotonic() - start
        assert not conn.buf.startswith(b"HTTP/1.1 200"), conn.buf
    assert 0.4 <= elapsed < 2.0, f"closed after {elapsed:.2f} s"
    assert srv.get("/api/health").status == 200


def test_silent_connection_is_closed_after_header_timeout(start_server):
    srv = start_server("--header-timeout-ms", 500)
    with srv.connect() as conn:
        elapsed = conn.wait_closed(timeout=5)
    assert 0.4 <= elapsed < 2.0, elapsed


def test_idle_keep_alive_is_closed_after_idle_timeout(start_server):
    """Idle 1.5 s: a request 0.3 s after the last is well inside it (the window is not raced), and
    the close comes no sooner than the timeout after the last answer was read."""
    srv = start_server("--idle-timeout-ms", 1500, "--header-timeout-ms", 5000)
    with srv.connect() as conn:
        assert conn.request("GET", "/api/health").status == 200
        time.sleep(0.3)  # still within the timeout: the connection is reusable
        assert conn.request("GET", "/api/health").status == 200
        elapsed = conn.wait_closed(timeout=8)
    assert 1.4 <= elapsed < 5.0, elapsed


def fill_connection_limit(srv, n):
    """n connections, each accepted and served once."""
    conns = [srv.connect() for _ in range(n)]
    for conn in conns:
        assert conn.request("GET", "/api/health").status == 200
    return conns


def refused(srv):
    """True when a new connection is refused: a 503 envelope and/or the connection closed."""
    with srv.connect() as conn:
        try:
            resp = conn.request("GET", "/api/health")
        except (Closed, ConnectionResetError, BrokenPipeError):
            return True
        if resp.status == 200:
            return False
        assert_error(resp, 503, "unavailable")
        conn.wait_closed()
        return True


def test_connection_limit(start_server):
    srv = start_server("--max-connections", 5)
    conns = fill_connection_limit(srv, 5)
    try:
        assert refused(srv), "a 6th connection was served"
        for conn in conns:  # the first five still work
            assert conn.request("GET", "/api/health").status == 200
    finally:
        for conn in conns:
            conn.close()


def test_connection_limit_frees_slots_for_clients_that_retry(start_server):
    """A client retrying every 100 ms gets in soon after another one leaves."""
    srv = start_server("--max-connections", 5)
    conns = fill_connection_limit(srv, 5)
    try:
        assert refused(srv)
        conns.pop().close()
        assert wait_for(lambda: not refused(srv), timeout=3, interval=0.1), (
            "a freed slot is not given to a new connection"
        )
    finally:
        for conn in conns:
            conn.close()


def test_many_concurrent_clients(server):
    failures = []

    def client(i):
        try:
            with server.connect() as conn:
                for k in range(5):
                    resp = conn.request("GET", "/api/health", {"X-Request-Id": f"c{i}-{k}"})
                    if resp.status != 200 or resp.header("x-request-id") != f"c{i}-{k}":
                        failures.append(str(resp))
        except (OSError, Closed) as e:
            failures.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not failures, failures[:3]


# ---- CORS ---------------------------------------------------------------------------------------


def preflight(srv, origin, method="POST"):
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    return srv.request("OPTIONS", "/api/health", headers)


def header_tokens(resp, name):
    return {t.strip().lower() for t in resp.header(name, "").split(",")}


def assert_preflight_allowed(resp, origin):
    assert resp.status == 204, resp
    assert resp.header("access-control-allow-origin") == origin
    methods = header_tokens(resp, "access-control-allow-methods")
    assert {"get", "post", "put", "patch", "delete"} <= methods, methods
    headers = header_tokens(resp, "access-control-allow-headers")
    assert {"authorization", "content-type", "x-request-id"} <= headers, headers


def cors_origin_of(srv, origin):
    resp = srv.get("/api/health", {"Origin": origin})
    assert resp.status == 200, resp
    return resp.header("access-control-allow-origin")


@pytest.mark.parametrize(
    "origin", ["http://localhost:5173", "http://127.0.0.1:8080", "http://localhost"]
)
def test_dev_cors_allows_localhost(server, origin):
    resp = server.get("/api/health", {"Origin": origin})
    assert resp.header("access-control-allow-origin") == origin, resp
    assert "origin" in resp.header("vary", "").lower()
    assert_preflight_allowed(preflight(server, origin), origin)


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://localhost.evil.example",
        "https://localhost:5173",
        "http://localhost:5173.evil.example",
        "null",
    ],
)
def test_dev_cors_refuses_other_origins(server, origin):
    assert cors_origin_of(server, origin) is None
    resp = preflight(server, origin)
    assert resp.status != 204, resp
    assert not resp.has_header("access-control-allow-origin"), resp


def test_cors_origin_flag_allows_exactly_that_origin(start_server):
    # production mode (no --dev) needs mail settings to start; nothing is mailed here
    srv = start_server("--cors-origin", "https://app.example", "--smtp-url", "smtp://127.0.0.1:9",
                       "--mail-from", "gavel@example.com", "--public-url", "https://app.example",
                       dev=False)
    assert cors_origin_of(srv, "https://app.example") == "https://app.example"
    assert_preflight_allowed(preflight(srv, "https://app.example", "DELETE"), "https://app.example")
    others = ["https://app.example.evil", "http://app.example", "https://evil.example"]
    for other in others + ["http://localhost:5173"]:  # no --dev: localhost is not allowed
        assert cors_origin_of(srv, other) is None, other
        assert preflight(srv, other).status != 204, other


def test_no_cors_headers_without_origin(server):
    resp = server.get("/api/health")
    assert not resp.has_header("access-control-allow-origin"), resp


@pytest.mark.parametrize("bad", ["\x00", "\x7f"])
def test_control_characters_in_request_target_are_rejected(server, bad):
    with server.connect() as conn:
        conn.send(f"GET /api/health{bad} HTTP/1.1\r\nHost: x\r\n\r\n".encode("latin-1"))
        assert_rejected_and_closed(conn, 400, "invalid_request")


def test_server_survives_abrupt_resets(server):
    for _ in range(10):
        conn = server.connect()
        conn.send(build_request("GET", "/api/health")[:20])
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST instead of FIN
    assert server.get("/api/health").status == 200
