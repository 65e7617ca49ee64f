"""The gateway and the internal endpoints, independent of any service."""

import json
import urllib.error
import urllib.request


def get(url, headers=None, method="GET", data=None):
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_health_lists_services_and_storage_mode(aloft):
    health = aloft.internal("GET", "health")
    assert health["storage"] == "ephemeral"
    assert isinstance(health["services"], dict)


def test_every_response_carries_a_request_id(aloft):
    status, headers, _ = get(aloft.url + "/_aloft/health")
    assert status == 200
    lower = {k.lower(): v for k, v in headers.items()}
    assert len(lower["x-amzn-requestid"]) == 36


def test_clock_moves_forward_only(aloft):
    before = aloft.internal("GET", "clock")
    after = aloft.advance(3600)
    assert after["offset_ms"] == before["offset_ms"] + 3_600_000
    assert after["now_ms"] >= before["now_ms"] + 3_600_000
    status, _, body = get(aloft.url + "/_aloft/clock", method="POST", data=json.dumps({"advance_seconds": -5}).encode())
    assert status == 400
    aloft.internal("POST", "reset")
    assert aloft.internal("GET", "clock")["offset_ms"] == 0


def test_unknown_internal_endpoint_is_404(aloft):
    status, _, body = get(aloft.url + "/_aloft/nope")
    assert status == 404
    assert "no internal endpoint" in json.loads(body)["error"]


def test_sigterm_exits_cleanly(aloft):
    assert aloft.stop() == 0


def test_data_dir_is_reported(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "state")
    assert a.internal("GET", "health")["storage"] == "durable"
    assert (tmp_path / "state").is_dir()
