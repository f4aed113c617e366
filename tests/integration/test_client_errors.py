"""POST /api/client-errors: what the web app caught reaches the operator's log as one line with
the request id, without e-mail addresses or quotes that could forge log fields; bad bodies are
4xx; reports are rate-limited per IP and counted in /metrics."""

from conftest import wait_for
from test_auth import accepted_until_limited, post


def report(server, body):
    return post(server, "/api/client-errors", body)


def test_a_report_is_logged_once_without_personal_data(server):
    before = server.metrics().value("gavel_client_errors_total", kind="render")
    r = report(server, {"kind": "render", "message": 'Boom for ann@example.com "x=1" \n next',
                        "path": "/leagues/lg_1", "requestId": "rid-42", "status": 500,
                        "code": "internal", "userAgent": "test"})
    assert r.status_code == 204, r.text
    wait_for(lambda: "client error" in server.log())
    line = next(l for l in server.log().splitlines() if "client error" in l)
    assert 'kind="render"' in line and 'path="/leagues/lg_1"' in line and "status=500" in line
    assert 'failed_rid="rid-42"' in line and "rid=" in line
    assert "ann@example.com" not in line and "[email]" in line
    assert 'msg="Boom for [email] x=1   next"' in line, line
    assert server.metrics().value("gavel_client_errors_total", kind="render") == before + 1


def test_bad_reports_are_4xx(server):
    r = report(server, {"kind": "render"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "message"
    r = report(server, {"kind": "render", "message": "m", "stack": "at x"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "stack"
    r = post(server, "/api/client-errors", None, raw="{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = report(server, {"kind": 7, "message": "m"})
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "kind"


def test_reports_are_rate_limited_per_ip(start_server):
    srv = start_server("--rate-limit-scale", 1)
    r = accepted_until_limited(lambda: report(srv, {"kind": "socket", "message": "closed"}),
                               30, 0.5, ok=204)
    assert r.json()["error"]["code"] == "rate_limited" and "Retry-After" in r.headers
