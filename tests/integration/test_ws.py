"""The WebSocket endpoint /ws: handshake validation, auth-first with close 4401, frame rules
(masking, UTF-8, size, text only), pings in both directions, the silence timeout and the close
handshake. Normal clients use the websockets library; protocol violations use raw sockets."""

import asyncio
import json
import struct
import time

import pytest

from conftest import (
    WS_BINARY,
    WS_CLOSE,
    WS_CONT,
    WS_PING,
    WS_PONG,
    WS_TEXT,
    build_request,
    run_async,
    ws_accept,
    ws_close_payload,
    ws_connect,
    ws_frame,
    ws_key,
    ws_wait_close,
)

MAX_MESSAGE = 64 * 1024
# pings every 200 ms, silence closes after 800 ms; the auth deadline is out of the way
SILENCE_FLAGS = (
    "--ws-ping-interval-ms", "500",
    "--ws-idle-timeout-ms", "2000",
    "--ws-auth-timeout-ms", "10000",
)


def auth_message(size=None):
    """An auth message, padded with a long token to exactly size bytes when given."""
    msg = {"type": "auth", "token": "not-a-real-token"}
    if size is not None:
        msg["token"] = "t" * (size - len(json.dumps({"type": "auth", "token": ""})))
    text = json.dumps(msg)
    assert size is None or len(text) == size
    return text


def close_code_after(server, *messages):
    """Connects with the library, sends messages, returns (close code, messages received)."""

    async def go():
        async with ws_connect(server) as ws:
            for message in messages:
                await ws.send(message)
            return await ws_wait_close(ws)

    return run_async(go())


# ---- handshake ----------------------------------------------------------------------------------


def test_handshake(server):
    with server.connect() as conn:
        resp = conn.ws_handshake(headers={"X-Request-Id": "ws-hs-1"})
        assert resp.status == 101, resp
        assert resp.header("upgrade").lower() == "websocket"
        assert "upgrade" in resp.header("connection").lower()
        assert resp.header("sec-websocket-accept") == ws_accept(resp.key)
        assert resp.header("x-request-id") == "ws-hs-1"


def test_handshake_with_the_library(server):
    async def go():
        async with ws_connect(server) as ws:
            pong = await ws.ping()
            await asyncio.wait_for(pong, 5)
            return ws.open

    assert run_async(go())


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Sec-WebSocket-Key": None}, id="no-key"),
        pytest.param({"Sec-WebSocket-Key": "too-short"}, id="bad-key"),
        pytest.param({"Sec-WebSocket-Version": None}, id="no-version"),
        pytest.param({"Sec-WebSocket-Version": "12"}, id="version-12"),
        pytest.param({"Upgrade": None}, id="no-upgrade"),
        pytest.param({"Upgrade": "h2c"}, id="wrong-upgrade"),
        pytest.param({"Connection": "keep-alive"}, id="no-connection-upgrade"),
    ],
)
def test_bad_handshake_is_4xx(server, headers):
    with server.connect() as conn:
        resp = conn.ws_handshake(headers=headers)
        assert 400 <= resp.status < 500, resp
        assert resp.json()["error"]["code"], resp
        assert not resp.has_header("sec-websocket-accept")
    assert server.get("/api/health").status == 200


def test_unsupported_version_names_the_supported_one(server):
    """RFC 6455 4.2.2: an unsupported version is refused with the versions the server speaks."""
    with server.connect() as conn:
        resp = conn.ws_handshake(headers={"Sec-WebSocket-Version": "12"})
    assert 400 <= resp.status < 500, resp
    assert resp.header("sec-websocket-version") == "13", resp


def test_post_upgrade_is_refused(server):
    with server.connect() as conn:
        headers = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": ws_key(),
            "Content-Length": "0",
        }
        conn.send(build_request("POST", "/ws", headers))
        resp = conn.read_response()
    assert 400 <= resp.status < 500, resp
    assert not resp.has_header("sec-websocket-accept")


def test_plain_get_is_426(server):
    resp = server.get("/ws")
    assert resp.status == 426, resp
    assert resp.header("upgrade").lower() == "websocket"
    assert resp.json()["error"]["code"]


def test_upgrade_elsewhere_is_not_a_websocket(server):
    with server.connect() as conn:
        resp = conn.ws_handshake(path="/api/health")
    assert resp.status != 101, resp


# ---- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(json.dumps({"type": "ping", "clientTimeMs": 1}), id="ping"),
        pytest.param(json.dumps({"type": "join", "auctionId": "a"}), id="join"),
        pytest.param("not json", id="not-json"),
        pytest.param("[]", id="array"),
        pytest.param(json.dumps({"token": "x"}), id="no-type"),
    ],
)
def test_first_message_not_auth_is_4401(server, first):
    code, received = close_code_after(server, first)
    assert code == 4401
    assert received == []


def test_auth_with_any_token_is_4401(server):
    assert close_code_after(server, auth_message())[0] == 4401
    assert close_code_after(server, json.dumps({"type": "auth"}))[0] == 4401
    assert close_code_after(server, json.dumps({"type": "auth", "token": 12}))[0] == 4401


def test_no_auth_within_timeout_is_4401(start_server):
    srv = start_server("--ws-auth-timeout-ms", 300)

    async def go():
        async with ws_connect(srv) as ws:
            start = time.monotonic()
            code, _ = await ws_wait_close(ws)
            return code, time.monotonic() - start

    code, elapsed = run_async(go())
    assert code == 4401
    assert 0.2 <= elapsed < 2.0, elapsed


# ---- frame rules --------------------------------------------------------------------------------


def test_message_over_64k_is_1009(server):
    assert close_code_after(server, auth_message(MAX_MESSAGE + 1))[0] == 1009


def test_message_of_exactly_64k_is_accepted(server):
    assert close_code_after(server, auth_message(MAX_MESSAGE))[0] == 4401  # read, then refused


def test_fragmented_message_over_64k_is_1009(server):
    with server.connect() as conn:
        assert conn.ws_handshake().status == 101
        piece = b"a" * (16 * 1024)
        conn.send_ws(WS_TEXT, piece, fin=False)
        for _ in range(4):  # 80 KiB in all, each fragment well under the limit
            conn.send_ws(WS_CONT, piece, fin=False)
        assert conn.read_ws_close()[0] == 1009


def masked_header(opcode, length, fin=True):
    """A masked client frame header declaring length (64-bit form), with no payload after it."""
    head = bytes([(0x80 if fin else 0) | opcode, 0x80 | 127])
    return head + struct.pack("!Q", length) + b"\x01\x02\x03\x04"


def test_impossible_declared_length_closes_at_once_with_1009(server):
    """2^63 - 1 declared and no payload sent: 1009 at the header, then the socket is closed
    (no waiting for the payload or for the idle timeout)."""
    with server.connect() as conn:
        assert conn.ws_handshake().status == 101
        conn.send(masked_header(WS_TEXT, 2**63 - 1))
        assert conn.read_ws_close(timeout=5)[0] == 1009
        conn.wait_closed(timeout=5)


def test_fragments_declaring_more_than_the_limit_close_at_the_header(server):
    """The first fragment is sent whole; the second only declares a length that takes the sum
    past 64 KiB: 1009 at once, without its payload."""
    with server.connect() as conn:
        assert conn.ws_handshake().status == 101
        conn.send_ws(WS_TEXT, b"a" * 40000, fin=False)
        conn.send(masked_header(WS_CONT, MAX_MESSAGE - 40000 + 1))
        assert conn.read_ws_close(timeout=5)[0] == 1009
        conn.wait_closed(timeout=5)


def test_fragments_declaring_exactly_the_limit_are_read(server):
    with server.connect() as conn:
        assert conn.ws_handshake().status == 101
        body = auth_message(MAX_MESSAGE)
        conn.send_ws(WS_TEXT, body[:40000], fin=False)
        conn.send_ws(WS_CONT, body[40000:], fin=True)
        assert conn.read_ws_close()[0] == 4401  # read whole, then refused as a bad token


def raw_close_code(server, frame_bytes):
    """Sends frame_bytes after a handshake on a raw socket; returns the server's close code."""
    with server.connect() as conn:
        assert conn.ws_handshake().status == 101
        conn.send(frame_bytes)
        return conn.read_ws_close()[0]


def test_invalid_utf8_is_1007(server):
    assert raw_close_code(server, ws_frame(WS_TEXT, b'{"type":"auth","token":"\xc3\x28"}')) == 1007
    assert raw_close_code(server, ws_frame(WS_TEXT, b"\xed\xa0\x80")) == 1007  # a surrogate


def test_unmasked_client_frame_is_1002(server):
    assert raw_close_code(server, ws_frame(WS_TEXT, auth_message(), mask=False)) == 1002


def test_binary_frame_is_1003(server):
    assert raw_close_code(server, ws_frame(WS_BINARY, b"\x00\x01\x02")) == 1003


def test_binary_frame_with_the_library_is_1003(server):
    assert close_code_after(server, b"\x00\x01")[0] == 1003


# ---- pings, silence and closing -----------------------------------------------------------------


def test_client_ping_gets_pong(server):
    with server.connect() as conn:
        assert conn.ws_handshake().status == 101
        conn.send_ws(WS_PING, b"hello")
        fin, opcode, payload = conn.read_ws_frame()
        assert (fin, opcode, payload) == (True, WS_PONG, b"hello")


def test_server_pings(start_server):
    """The first ping comes one interval after the upgrade: with 1 s, the handshake's own delay
    (which the client cannot see) would have to exceed half a second to break the bound."""
    srv = start_server("--ws-ping-interval-ms", 1000, "--ws-auth-timeout-ms", 10000)
    with srv.connect() as conn:
        assert conn.ws_handshake().status == 101
        start = time.monotonic()
        fin, opcode, _ = conn.read_ws_frame(timeout=5)
        assert (fin, opcode) == (True, WS_PING)
        assert 0.5 <= time.monotonic() - start < 3.0


def test_silent_client_is_closed(start_server):
    srv = start_server(*SILENCE_FLAGS)
    with srv.connect() as conn:
        assert conn.ws_handshake().status == 101
        elapsed = conn.wait_closed(timeout=8)  # never answers the pings
    # the silence is counted from the upgrade, a little before the client saw it: 2 s idle with
    # a 0.5 s margin for the handshake's delay under load
    assert 1.5 <= elapsed < 5.0, elapsed
    assert srv.get("/api/health").status == 200


def test_client_answering_pings_stays_connected(start_server):
    srv = start_server(*SILENCE_FLAGS)

    async def go():
        async with ws_connect(srv) as ws:  # the library answers pings by itself
            await asyncio.sleep(2.6)  # longer than the silence timeout
            pong = await ws.ping()
            await asyncio.wait_for(pong, 5)
            return ws.open

    assert run_async(go())


def test_close_handshake(server):
    with server.connect() as conn:
        assert conn.ws_handshake().status == 101
        conn.send_ws(WS_CLOSE, ws_close_payload(1000, "bye"))
        code, _, _ = conn.read_ws_close()
        assert code == 1000
        conn.wait_closed()


def test_close_handshake_with_the_library(server):
    async def go():
        async with ws_connect(server) as ws:
            await ws.close(1000, "done")
            return ws.close_code

    assert run_async(go()) == 1000


def test_many_websockets_do_not_affect_http(server):
    async def go():
        sockets = await asyncio.gather(*(ws_connect(server) for _ in range(50)))
        try:
            start = time.monotonic()
            resp = await asyncio.get_running_loop().run_in_executor(None, server.get, "/api/health")
            elapsed = time.monotonic() - start
            metrics = await asyncio.get_running_loop().run_in_executor(None, server.metrics)
            pongs = await asyncio.gather(*(ws.ping() for ws in sockets))
            await asyncio.wait_for(asyncio.gather(*pongs), 5)
            return resp, elapsed, metrics
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))

    resp, elapsed, metrics = run_async(go())
    assert resp.status == 200 and resp.json()["status"] == "ok", resp
    assert elapsed < 1.0, elapsed
    assert metrics.value("gavel_ws_connections_open") >= 50
