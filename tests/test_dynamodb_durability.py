"""kill -9 during a wrk-like PutItem load with --data-dir: every acknowledged write survives.

16 connections (like the bench's wrk -c16) each send unsigned PutItem requests back to back on
one kept-alive connection: new items, and overwrites of their own earlier items with a higher
version. Aloft is killed while they run. After the restart every item whose PutItem was answered
200 is there, with at least the acknowledged version (a write in flight at the kill may or may
not have landed), and nothing is there that was never sent. Both durability modes: the default
`process` (acknowledged once written to the OS) and `disk` (once on the device).
"""

import http.client
import json
import threading
import time

import pytest

TARGET = "DynamoDB_20120810."
CONNECTIONS = 16


def call(conn, op, body):
    conn.request("POST", "/", json.dumps(body), {
        "X-Amz-Target": TARGET + op, "Content-Type": "application/x-amz-json-1.0"})
    resp = conn.getresponse()
    return resp.status, resp.read()


def writer(port, tid, acked, stop):
    """Puts until the connection dies; records the acknowledged version of each key."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            # Every fourth request overwrites one of this writer's earlier items.
            k = (n // 2) if n % 4 == 0 else n
            key = f"w{tid}-{k}"
            item = {"pk": {"S": key}, "v": {"N": str(n)}, "name": {"S": "a typical name"},
                    "flag": {"BOOL": True}}
            status, body = call(conn, "PutItem", {"TableName": "load", "Item": item})
            assert status == 200, body
            acked[key] = n
    except (OSError, http.client.HTTPException):
        pass  # the kill
    finally:
        conn.close()


def scan_all(ddb):
    items = {}
    for page in ddb.get_paginator("scan").paginate(TableName="load"):
        for it in page["Items"]:
            items[it["pk"]["S"]] = int(it["v"]["N"])
    return items


@pytest.mark.parametrize("durability", ["process", "disk"])
def test_every_acknowledged_put_survives_kill_9_under_load(aloft_factory, tmp_path, durability):
    a = aloft_factory(data_dir=tmp_path / "d", args=["--durability", durability])
    a.client("dynamodb").create_table(
        TableName="load", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    acked = [{} for _ in range(CONNECTIONS)]
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(a.port, t, acked[t], stop), daemon=True)
               for t in range(CONNECTIONS)]
    for t in threads:
        t.start()
    # Kill in the middle of the load: once enough writes were acknowledged (or after a while on
    # a very slow machine), with all 16 connections still sending.
    deadline = time.monotonic() + 20
    while sum(map(len, acked)) < 3000 and time.monotonic() < deadline:
        time.sleep(0.02)
    a.kill()
    stop.set()
    for t in threads:
        t.join(timeout=15)
    total = sum(map(len, acked))
    assert total >= 500, f"only {total} writes acknowledged before the kill"

    b = aloft_factory(data_dir=tmp_path / "d")
    found = scan_all(b.client("dynamodb"))
    lost = [(k, v) for per in acked for k, v in per.items() if found.get(k, -1) < v]
    assert not lost, f"{len(lost)} of {total} acknowledged writes lost, e.g. {lost[:5]}"
    # Nothing that was never sent: keys and versions all come from the writers' sequences.
    for key, v in found.items():
        tid, k = key[1:].split("-")
        assert 0 <= int(tid) < CONNECTIONS and int(k) <= v, (key, v)
