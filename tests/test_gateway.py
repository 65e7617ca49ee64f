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


def test_an_unread_body_closes_the_connection(aloft):
    """A request refused from its head alone (S3 part number 0) leaves its body unread; bytes the
    client sends later (after an `Expect: 100-continue` wait) must never be parsed as the next
    request on the same connection."""
    import socket

    aloft.client("s3").create_bucket(Bucket="bkt")
    with socket.create_connection(("127.0.0.1", aloft.port), timeout=10) as c:
        c.sendall(
            b"PUT /bkt/k?partNumber=0&uploadId=u HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Length: 1\r\nExpect: 100-continue\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += c.recv(4096)
        assert head.startswith(b"HTTP/1.1 400")
        assert b"connection: close" in head.lower()
        # The late body and a next request: the server must have closed instead of reading "xGET".
        try:
            c.sendall(b"xGET /_aloft/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            rest = b""
            while chunk := c.recv(4096):
                rest += chunk
        except (BrokenPipeError, ConnectionResetError):
            rest = b""
        assert b"405" not in rest and b"HTTP/1.1 200" not in rest.split(b"\r\n\r\n", 1)[-1]
