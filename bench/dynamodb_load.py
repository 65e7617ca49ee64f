"""Preloads a DynamoDB table in Aloft with BatchWriteItem (25 items per request, 4 connections).

Usage: dynamodb_load.py URL TABLE FROM TO   (items k<FROM> .. k<TO-1>, 5 attributes each)
Stdlib only, unsigned requests (Aloft accepts them), so it needs nothing installed.
"""

import http.client
import json
import sys
import threading
from urllib.parse import urlparse

url, table, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = urlparse(url)
THREADS = 4


def item(i):
    return {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "name": {"S": "a typical name"},
                                    "count": {"N": str(i)}, "flag": {"BOOL": True},
                                    "email": {"S": f"user{i}@example.com"}}}}


def load(lo, hi):
    conn = http.client.HTTPConnection(host.hostname, host.port)
    headers = {"X-Amz-Target": "DynamoDB_20120810.BatchWriteItem",
               "Content-Type": "application/x-amz-json-1.0"}
    for s in range(lo, hi, 25):
        body = json.dumps({"RequestItems": {table: [item(i) for i in range(s, min(s + 25, hi))]}})
        conn.request("POST", "/", body, headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200 or b"UnprocessedItems\":{}" not in data.replace(b" ", b""):
            sys.exit(f"BatchWriteItem failed: {resp.status} {data[:200]!r}")


step = ((end - start) // THREADS // 25 + 1) * 25
threads = [threading.Thread(target=load, args=(lo, min(lo + step, end))) for lo in range(start, end, step)]
for t in threads:
    t.start()
for t in threads:
    t.join()
