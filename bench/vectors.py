"""SearchVectors latency. The search is exact: every indexed vector is scored. The script
loads items with a DIMS-dimensional COSINE vector index, grows the table to each size in
SIZES, and at each size times sequential SearchVectors calls (TopK 10, one kept-alive
connection, raw json 1.0 requests, so no SDK overhead is counted) and Aloft's CPU time per
search.

    python3 bench/vectors.py target/release/aloft [DIMS]
"""

import http.client
import json
import random
import subprocess
import sys
import time

BIN = sys.argv[1]
DIMS = int(sys.argv[2]) if len(sys.argv) > 2 else 128
SIZES = (1_000, 10_000, 30_000)
PORT = 45690

proc = subprocess.Popen([BIN, "--port", str(PORT), "--log-level", "error"], stdout=subprocess.PIPE)
proc.stdout.readline()  # the ready line
conn = http.client.HTTPConnection("127.0.0.1", PORT)


def cpu_ticks():
    """User + system CPU of every Aloft thread so far, in clock ticks (steadier than wall time
    on a shared machine)."""
    fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def call(op, body):
    conn.request("POST", "/", body=json.dumps(body), headers={
        "X-Amz-Target": f"DynamoDB_20120810.{op}", "Content-Type": "application/x-amz-json-1.0"})
    r = conn.getresponse()
    out = json.loads(r.read())
    assert r.status == 200, out
    return out


try:
    call("CreateTable", {
        "TableName": "docs", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "VectorIndexes": [{"IndexName": "byEmb", "VectorAttribute": {"AttributeName": "emb"},
                           "Dimensions": DIMS, "DistanceFunction": "COSINE",
                           "Projection": {"ProjectionType": "KEYS_ONLY"}}]})
    rnd = random.Random(1)
    vec = lambda: [{"N": f"{rnd.uniform(-1, 1):.4f}"} for _ in range(DIMS)]
    n = 0
    for size in SIZES:
        while n < size:
            call("BatchWriteItem", {"RequestItems": {"docs": [
                {"PutRequest": {"Item": {"id": {"S": f"d{i}"}, "emb": {"L": vec()}}}}
                for i in range(n, n + 25)]}})
            n += 25
        times = []
        cpu0 = cpu_ticks()
        for _ in range(50):
            body = {"TableName": "docs", "IndexName": "byEmb", "SearchVector": vec(), "TopK": 10}
            t = time.perf_counter()
            assert len(call("SearchVectors", body)["SearchResults"]) == 10
            times.append(time.perf_counter() - t)
        cpu = (cpu_ticks() - cpu0) * 10 / 50  # 10 ms clock ticks
        times.sort()
        print(f"{size:>6} items x {DIMS} dims: SearchVectors TopK 10 p50 {times[25] * 1e3:.2f} ms, "
              f"p90 {times[45] * 1e3:.2f} ms, Aloft CPU {cpu:.2f} ms per search")
    t = time.perf_counter()
    call("GetItem", {"TableName": "docs", "Key": {"id": {"S": "d1"}}})
    print(f"(GetItem of one of these items on the same connection: {(time.perf_counter() - t) * 1e3:.2f} ms)")
finally:
    proc.terminate()
    proc.wait()
