"""Accounts and sign-in against the real binary: magic links (development and production mode
with a real SMTP sink), verification as a compare-and-set, JWT access tokens checked against
PyJWT, rotating refresh tokens with theft detection, logout, rate limits, the profile, admins and
WebSocket authentication."""

import asyncio
import email
import email.policy
import json
import re
import socket
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
from aiosmtpd.controller import Controller

from conftest import TIMEOUT, jwt_secret, run_async, run_gavel, ws_connect, ws_wait_close


def fresh_email(tag="u"):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def post(server, path, body, headers=None, raw=None):
    h = {"Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else json.dumps(body)
    return requests.post(server.url + path, data=data, headers=h, timeout=TIMEOUT)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def error_code(r):
    return r.json()["error"]["code"]


def request_link(server, addr, headers=None):
    r = post(server, "/api/auth/magic-link", {"email": addr}, headers)
    assert r.status_code == 202, r.text
    return r.json()


def sign_in(server, addr=None):
    addr = addr or fresh_email()
    token = request_link(server, addr)["devToken"]
    r = post(server, "/api/auth/verify", {"email": addr, "token": token})
    assert r.status_code == 200, r.text
    return r.json()


# ---- the sign-in flow ----------------------------------------------------------------------------


def test_full_sign_in_flow(server):
    addr = "  Mixed.Case-" + uuid.uuid4().hex[:6] + "@Example.COM "
    link = request_link(server, addr)
    assert link["sent"] is True and link["expiresInS"] == 900
    token = link["devToken"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token
    normal = addr.strip().lower()
    q = urllib.parse.parse_qs(urllib.parse.urlparse(link["devLink"]).query)
    assert q == {"email": [normal], "token": [token]}
    r = post(server, "/api/auth/verify", {"email": normal, "token": token})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["expiresInS"] == 900
    user = j["user"]
    assert user["email"] == normal
    assert user["name"] == normal.split("@")[0]
    assert user["isAdmin"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", user["createdAt"])
    me = requests.get(server.url + "/api/me", headers=bearer(j["accessToken"]), timeout=TIMEOUT)
    assert me.status_code == 200 and me.json() == user
    # the same e-mail signs in to the same user again
    again = sign_in(server, normal.upper())
    assert again["user"]["id"] == user["id"]


ALPHABET = set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")


def test_sign_in_code_in_development_mode(server):
    addr = fresh_email("dev")
    link = request_link(server, addr)
    code = link["devCode"]
    assert len(code) == 8 and set(code) <= ALPHABET, code
    assert link["devToken"] not in link["devCode"]
    other = fresh_email("other")
    other_code = request_link(server, other)["devCode"]
    r = post(server, "/api/auth/verify", {"email": other, "code": code})
    assert r.status_code == 401 or code == other_code, "a code works only with its own e-mail"
    r = post(server, "/api/auth/verify", {"email": addr, "code": f"{code[:4].lower()}-{code[4:]}"})
    assert r.status_code == 200 and r.json()["user"]["email"] == addr, r.text
    for again in ({"code": code}, {"token": link["devToken"]}):  # one use spends both
        r = post(server, "/api/auth/verify", {"email": addr, **again})
        assert r.status_code == 401 and error_code(r) == "invalid_token", again


def test_sign_in_code_malformed_or_ambiguous_requests(server):
    addr = fresh_email()
    link = request_link(server, addr)
    for body in ({"email": addr, "code": "O0O0-I1I1"}, {"email": addr, "code": "ABC"},
                 {"email": addr, "code": "ABCDEFGHJ"}):
        r = post(server, "/api/auth/verify", body)
        assert r.status_code == 401 and error_code(r) == "invalid_token", (body, r.text)
    r = post(server, "/api/auth/verify",
             {"email": addr, "code": link["devCode"], "token": link["devToken"]})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "code"
    r = post(server, "/api/auth/verify", {"email": addr})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "token"
    r = post(server, "/api/auth/verify", {"email": addr, "code": 12345678})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "code"
    # none of these spent the link
    r = post(server, "/api/auth/verify", {"email": addr, "code": link["devCode"]})
    assert r.status_code == 200, r.text


def test_wrong_codes_count_toward_the_per_email_failure_limit(start_server):
    srv = start_server("--rate-limit-scale", 1)
    addr = fresh_email()
    link = request_link(srv, addr)
    wrong = "22222222" if link["devCode"] != "22222222" else "33333333"
    codes = [post(srv, "/api/auth/verify", {"email": addr, "code": wrong}).status_code
             for _ in range(10)]
    assert codes == [401] * 10
    r = post(srv, "/api/auth/verify", {"email": addr, "code": link["devCode"]})
    assert r.status_code == 429, "after 10 failures even the right code waits"


def test_used_unknown_and_wrong_email_tokens_get_one_answer(server):
    addr = fresh_email()
    token = request_link(server, addr)["devToken"]
    other = fresh_email()
    request_link(server, other)
    answers = [
        post(server, "/api/auth/verify", {"email": other, "token": token}),  # someone else's
        post(server, "/api/auth/verify", {"email": addr, "token": "x" * 43}),  # unknown
    ]
    assert post(server, "/api/auth/verify", {"email": addr, "token": token}).status_code == 200
    answers.append(post(server, "/api/auth/verify", {"email": addr, "token": token}))  # used
    for r in answers:
        assert r.status_code == 401 and error_code(r) == "invalid_token", r.text
    assert len({r.json()["error"]["message"] for r in answers}) == 1


def test_twenty_parallel_verifications_exactly_one_succeeds(server):
    addr = fresh_email()
    token = request_link(server, addr)["devToken"]
    barrier = threading.Barrier(20)

    def verify(_):
        barrier.wait()
        return post(server, "/api/auth/verify", {"email": addr, "token": token}).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(verify, range(20)))
    assert sorted(codes) == [200] + [401] * 19, codes


def test_bad_bodies_are_4xx(server):
    r = post(server, "/api/auth/magic-link", None, raw="{not json")
    assert r.status_code == 400 and error_code(r) == "invalid_json"
    r = post(server, "/api/auth/magic-link", {"email": "a@example.com", "admin": True})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "admin"
    for bad in ("nobody", "a@b", "a@@example.com", "a b@example.com", "a@-x.com", "", 12):
        r = post(server, "/api/auth/magic-link", {"email": bad})
        assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "email", bad
    r = requests.post(server.url + "/api/auth/magic-link", data="email=a@example.com",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=TIMEOUT)
    assert r.status_code == 415 and error_code(r) == "unsupported_media_type"
    r = post(server, "/api/auth/verify", {"email": "a@example.com"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "token"


# ---- access tokens ------------------------------------------------------------------------------


def test_access_token_interoperates_with_pyjwt(server):
    s = sign_in(server)
    key = jwt_secret(server)
    assert jwt.get_unverified_header(s["accessToken"]) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(s["accessToken"], key, algorithms=["HS256"])
    assert claims["sub"] == s["user"]["id"]
    assert claims["exp"] - claims["iat"] == 900 and isinstance(claims["jti"], str)
    now = int(time.time())
    mine = jwt.encode({"sub": s["user"]["id"], "iat": now, "exp": now + 60, "jti": "py"}, key,
                      algorithm="HS256")
    r = requests.get(server.url + "/api/me", headers=bearer(mine), timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["id"] == s["user"]["id"]


def test_forged_tokens_are_refused(server):
    s = sign_in(server)
    key = jwt_secret(server)
    now = int(time.time())
    claims = {"sub": s["user"]["id"], "iat": now, "exp": now + 60}
    forged = [
        jwt.encode(claims, b"w" * 32, algorithm="HS256"),  # wrong secret
        jwt.encode(claims, key, algorithm="HS512"),  # another algorithm, right secret
        jwt.encode(claims, None, algorithm="none"),  # no signature
        jwt.encode(claims, key, algorithm="HS256", headers={"kid": "1"}),  # extra header key
        jwt.encode({**claims, "iat": now + 120}, key, algorithm="HS256"),  # issued in the future
        s["accessToken"][:-2] + ("AA" if not s["accessToken"].endswith("AA") else "BB"),
        "Bearer",
        "",
    ]
    for tok in forged:
        r = requests.get(server.url + "/api/me", headers=bearer(tok), timeout=TIMEOUT)
        assert r.status_code == 401 and error_code(r) == "unauthorized", (tok, r.text)
    r = requests.get(server.url + "/api/me", timeout=TIMEOUT)
    assert r.status_code == 401 and error_code(r) == "unauthorized"


def test_one_user_cannot_become_another(server):
    a, b = sign_in(server), sign_in(server)
    header, payload, sig = a["accessToken"].split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["sub"] = b["user"]["id"]
    swapped = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    r = requests.get(server.url + "/api/me", headers=bearer(f"{header}.{swapped}.{sig}"),
                     timeout=TIMEOUT)
    assert r.status_code == 401
    r = requests.patch(server.url + "/api/me", json={"name": "Mallory"},
                       headers=bearer(a["accessToken"]), timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["id"] == a["user"]["id"]
    me_b = requests.get(server.url + "/api/me", headers=bearer(b["accessToken"]), timeout=TIMEOUT)
    assert me_b.json()["name"] == b["user"]["name"]


def test_expired_access_token_is_token_expired(start_server):
    srv = start_server("--access-ttl-s", 1)
    s = sign_in(srv)
    assert requests.get(srv.url + "/api/me", headers=bearer(s["accessToken"]),
                        timeout=TIMEOUT).status_code == 200
    time.sleep(2.1)
    r = requests.get(srv.url + "/api/me", headers=bearer(s["accessToken"]), timeout=TIMEOUT)
    assert r.status_code == 401 and error_code(r) == "token_expired", r.text


def test_expired_magic_link_is_invalid(start_server):
    srv = start_server("--magic-link-ttl-s", 1)
    addr = fresh_email()
    link = request_link(srv, addr)
    assert link["expiresInS"] == 1
    time.sleep(1.5)
    r = post(srv, "/api/auth/verify", {"email": addr, "token": link["devToken"]})
    assert r.status_code == 401 and error_code(r) == "invalid_token"


# ---- refresh tokens -----------------------------------------------------------------------------


def refresh(server, token):
    return post(server, "/api/auth/refresh", {"refreshToken": token})


def test_refresh_rotates_and_reuse_revokes_the_family(server):
    first = sign_in(server)
    second = refresh(server, first["refreshToken"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert second["user"]["id"] == first["user"]["id"]
    third = refresh(server, second["refreshToken"]).json()
    # the rotated first token comes back: theft; the family dies, the newest token included
    r = refresh(server, first["refreshToken"])
    assert r.status_code == 401 and error_code(r) == "invalid_token"
    r = refresh(server, third["refreshToken"])
    assert r.status_code == 401, "the whole family is revoked after a reuse"
    # another sign-in of the same user is a different family and keeps working
    other = sign_in(server, first["user"]["email"])
    assert refresh(server, other["refreshToken"]).status_code == 200


def test_logout_ends_the_refresh_token(server):
    s = sign_in(server)
    r = post(server, "/api/auth/logout", {"refreshToken": s["refreshToken"]})
    assert r.status_code == 204 and r.content == b""
    assert refresh(server, s["refreshToken"]).status_code == 401
    # logging out an unknown token reveals nothing
    assert post(server, "/api/auth/logout", {"refreshToken": "nope"}).status_code == 204


# ---- rate limits ---------------------------------------------------------------------------------


def test_magic_link_rate_limit_per_email(start_server):
    srv = start_server("--rate-limit-scale", 1)
    addr = fresh_email()
    for _ in range(5):
        request_link(srv, addr)
    r = post(srv, "/api/auth/magic-link", {"email": addr})
    assert r.status_code == 429 and error_code(r) == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    request_link(srv, fresh_email())  # another e-mail is not limited


def accepted_until_limited(call, burst, per_s, ok=202):
    """Calls call() until it answers 429; returns that answer. The oracle: a token bucket of
    `burst` refilled at per_s admits burst plus what refilled while we were sending, never
    fewer than burst and never more."""
    start, accepted = time.monotonic(), 0
    while True:
        r = call()
        if r.status_code == 429:
            break
        assert r.status_code == ok, r.text
        accepted += 1
        assert accepted <= burst + per_s * (time.monotonic() - start) + 1, "limit not applied"
    assert accepted >= burst, f"refused after {accepted} of a burst of {burst}"
    return r


def test_magic_link_rate_limit_per_ip_and_trusted_proxy(start_server):
    srv = start_server("--rate-limit-scale", 1, "--trust-proxy")
    hop = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    # loose on purpose: a pub of friends on one Wi-Fi signs in at once (60/min)
    r = accepted_until_limited(
        lambda: post(srv, "/api/auth/magic-link", {"email": fresh_email()}, hop), 60, 1.0)
    assert "Retry-After" in r.headers
    # another client behind the proxy (a different last hop) has its own budget
    request_link(srv, fresh_email(), {"X-Forwarded-For": "203.0.113.10"})


def test_forwarded_for_is_ignored_without_trust_proxy(start_server):
    srv = start_server("--rate-limit-scale", 1)
    spoofed = iter(range(1000))
    accepted_until_limited(  # spoofed X-Forwarded-For must not escape the per-IP limit
        lambda: post(srv, "/api/auth/magic-link", {"email": fresh_email()},
                     {"X-Forwarded-For": f"203.0.{next(spoofed) // 250}.{next(spoofed) % 250}"}),
        60, 1.0)


def test_verify_and_refresh_rate_limits(start_server):
    srv = start_server("--rate-limit-scale", 1)
    accepted_until_limited(
        lambda: post(srv, "/api/auth/verify", {"email": fresh_email(), "token": "x"}), 60, 1.0,
        ok=401)
    accepted_until_limited(lambda: refresh(srv, "nope"), 60, 1.0, ok=401)


# ---- profile and admins -----------------------------------------------------------------------


def test_patch_me_validates_the_name(server):
    s = sign_in(server)
    h = bearer(s["accessToken"])

    def patch(body, **kw):
        return requests.patch(server.url + "/api/me", json=body, headers=h, timeout=TIMEOUT, **kw)

    assert patch({"name": "  Zoë Quill  "}).json()["name"] == "Zoë Quill"
    for bad in ("x", " x ", "y" * 31, "", 5, None, "tab\there"):
        r = patch({"name": bad})
        assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "name", bad
    r = patch({"name": "Fine Name", "isAdmin": True})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "isAdmin"
    assert patch({"name": "é" * 30}).status_code == 200  # 30 characters, 60 bytes
    me = requests.get(server.url + "/api/me", headers=h, timeout=TIMEOUT).json()
    assert me["name"] == "é" * 30 and me["isAdmin"] is False


def test_admin_by_command_and_by_flag(start_server):
    srv = start_server("--admin-email", "Boss@Example.com")
    boss = sign_in(srv, "boss@example.com")
    assert boss["user"]["isAdmin"] is True
    s = sign_in(srv)
    assert s["user"]["isAdmin"] is False
    out = run_gavel("user", "admin", s["user"]["email"], "--data", srv.data, *srv.store_flags)
    assert out.returncode == 0, out.stderr
    me = requests.get(srv.url + "/api/me", headers=bearer(s["accessToken"]), timeout=TIMEOUT)
    assert me.json()["isAdmin"] is True
    out = run_gavel("user", "admin", "not-an-email", "--data", srv.data, *srv.store_flags)
    assert out.returncode != 0


# ---- production mode: a real SMTP server --------------------------------------------------------


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink():
    sink = Sink()
    with socket.socket() as probe:  # a free port (the controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield sink, port
    finally:
        ctl.stop()


def test_production_mode_mails_a_link_that_signs_in(start_server, smtp_sink):
    sink, port = smtp_sink
    srv = start_server("--smtp-url", f"smtp://127.0.0.1:{port}", "--mail-from",
                       "gavel@example.com", "--public-url", "https://gavel.example", dev=False)
    addr = fresh_email("prod")
    r = post(srv, "/api/auth/magic-link", {"email": addr})
    assert r.status_code == 202, r.text
    assert r.json() == {"sent": True, "expiresInS": 900}, "production answers carry no token"
    assert len(sink.messages) == 1
    env = sink.messages[0]
    assert env.rcpt_tos == [addr] and env.mail_from == "gavel@example.com"
    msg = email.message_from_bytes(env.content, policy=email.policy.default)
    assert msg["To"] == addr and "sign-in" in msg["Subject"].lower()
    text = msg.get_body(("plain",)).get_content()
    link = re.search(r"https://gavel\.example/signin\?\S+", text).group(0)
    q = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)
    assert q["email"] == [addr]
    token = q["token"][0]
    html = msg.get_body(("html",)).get_content()
    assert token in html
    code = re.search(r"code[^:]*: ([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})", text).group(1)
    assert code in html, "the code is in both parts of the mail"
    r = post(srv, "/api/auth/verify", {"email": addr, "token": token})
    assert r.status_code == 200 and r.json()["user"]["email"] == addr
    assert token not in srv.log(), "production mode never logs a token"
    assert code not in srv.log() and code.replace("-", "") not in srv.log()
    r = post(srv, "/api/auth/verify", {"email": addr, "code": code})
    assert r.status_code == 401, "the link was used: its code is used with it"


def test_production_mode_mailed_code_signs_in_on_another_browser(start_server, smtp_sink):
    sink, port = smtp_sink
    srv = start_server("--smtp-url", f"smtp://127.0.0.1:{port}", "--mail-from",
                       "gavel@example.com", "--public-url", "https://gavel.example", dev=False)
    addr = fresh_email("code")
    assert post(srv, "/api/auth/magic-link", {"email": addr}).status_code == 202
    msg = email.message_from_bytes(sink.messages[0].content, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    code = re.search(r"code[^:]*: ([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})", text).group(1)
    typed = code.lower().replace("-", " - ")  # typed by hand on a phone
    r = post(srv, "/api/auth/verify", {"email": addr, "code": typed})
    assert r.status_code == 200 and r.json()["user"]["email"] == addr, r.text
    token = urllib.parse.parse_qs(urllib.parse.urlparse(
        re.search(r"https://gavel\.example/signin\?\S+", text).group(0)).query)["token"][0]
    r = post(srv, "/api/auth/verify", {"email": addr, "token": token})
    assert r.status_code == 401, "the code was used: its link is used with it"


def test_production_mode_without_mail_server_is_503(start_server):
    srv = start_server("--smtp-url", "smtp://127.0.0.1:9", "--mail-from", "gavel@example.com",
                       "--public-url", "https://gavel.example", dev=False)
    r = post(srv, "/api/auth/magic-link", {"email": fresh_email()})
    assert r.status_code == 503 and error_code(r) == "unavailable"
    assert "127.0.0.1" not in r.text and "curl" not in r.text.lower()


def test_production_mode_refuses_to_start_without_mail_settings(tmp_path):
    out = run_gavel("serve", "--listen", "127.0.0.1:0", "--data", tmp_path / "d", timeout=20)
    assert out.returncode != 0
    assert "--smtp-url" in out.stderr


# ---- WebSocket authentication -----------------------------------------------------------------


def test_websocket_auth_ready_and_pong(server):
    s = sign_in(server)

    async def go():
        async with ws_connect(server) as ws:
            await ws.send(json.dumps({"type": "auth", "token": s["accessToken"]}))
            ready = json.loads(await ws.recv())
            assert ready["type"] == "ready" and ready["userId"] == s["user"]["id"]
            assert abs(ready["serverTimeMs"] - time.time() * 1000) < 5000
            await ws.send(json.dumps({"type": "ping", "clientTimeMs": 42}))
            pong = json.loads(await ws.recv())
            assert pong["type"] == "pong" and pong["clientTimeMs"] == 42
            assert isinstance(pong["serverTimeMs"], int)

    run_async(go())


def test_websocket_closes_when_the_token_expires_unless_renewed(start_server):
    srv = start_server("--access-ttl-s", 2)

    async def go():
        a, b = sign_in(srv), sign_in(srv)
        async with ws_connect(srv) as stale, ws_connect(srv) as renewed:
            for ws, s in ((stale, a), (renewed, b)):
                await ws.send(json.dumps({"type": "auth", "token": s["accessToken"]}))
                assert json.loads(await ws.recv())["type"] == "ready"
            # Token times are whole seconds: renew once the clock has left the second the first
            # token was issued in, so the fresh token expires at least a second later (ordered by
            # state, not by a sleep that races the expiry).
            iat = jwt.decode(b["accessToken"], options={"verify_signature": False})["iat"]
            while time.time() < iat + 1:
                await asyncio.sleep(0.02)
            fresh = refresh(srv, b["refreshToken"]).json()["accessToken"]
            assert jwt.decode(fresh, options={"verify_signature": False})["exp"] > \
                jwt.decode(b["accessToken"], options={"verify_signature": False})["exp"]
            await renewed.send(json.dumps({"type": "auth", "token": fresh}))
            assert json.loads(await renewed.recv())["type"] == "ready"
            code, _ = await ws_wait_close(stale, timeout=4)
            assert code == 4401
            await renewed.send(json.dumps({"type": "ping", "clientTimeMs": 1}))
            assert json.loads(await renewed.recv())["type"] == "pong"

    run_async(go())


def test_websocket_renewal_cannot_switch_user(server):
    a, b = sign_in(server), sign_in(server)

    async def go():
        async with ws_connect(server) as ws:
            await ws.send(json.dumps({"type": "auth", "token": a["accessToken"]}))
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(json.dumps({"type": "auth", "token": b["accessToken"]}))
            code, _ = await ws_wait_close(ws)
            assert code == 4401

    run_async(go())

