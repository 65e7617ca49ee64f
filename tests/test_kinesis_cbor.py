"""Kinesis over CBOR (`application/x-amz-cbor-1.1`), as the Java SDKs and the KCL send it by
default: byte-string blobs, tag-1 timestamps in epoch milliseconds, CBOR errors. A minimal CBOR
codec is written here so the test needs no extra package."""

import struct
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import requests


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for add, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | add]) + struct.pack(fmt, n)
    raise ValueError(n)


def enc(v) -> bytes:
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    if isinstance(v, Tag):
        return _head(6, v.tag) + enc(v.value)
    raise TypeError(v)


def dec(b: bytes, i=0):
    ib = b[i]
    major, add = ib >> 5, ib & 31
    i += 1
    if major == 7:
        if add == 20:
            return False, i
        if add == 21:
            return True, i
        if add == 22:
            return None, i
        if add == 27:
            return struct.unpack(">d", b[i:i + 8])[0], i + 8
        if add == 26:
            return struct.unpack(">f", b[i:i + 4])[0], i + 4
        raise ValueError(ib)
    if add < 24:
        n = add
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[add]
        n = int.from_bytes(b[i:i + size], "big")
        i += size
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major == 2:
        return b[i:i + n], i + n
    if major == 3:
        return b[i:i + n].decode(), i + n
    if major == 4:
        out = []
        for _ in range(n):
            x, i = dec(b, i)
            out.append(x)
        return out, i
    if major == 5:
        out = {}
        for _ in range(n):
            k, i = dec(b, i)
            out[k], i = dec(b, i)
        return out, i
    if major == 6:
        x, i = dec(b, i)
        return Tag(n, x), i
    raise ValueError(ib)


def call(aloft, op, body):
    req = botocore.awsrequest.AWSRequest(method="POST", url=aloft.url + "/", data=enc(body), headers={
        "Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": f"Kinesis_20131202.{op}"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "kinesis", "us-east-1").add_auth(req)
    resp = requests.post(req.url, data=req.body, headers=dict(req.headers), timeout=10)
    assert resp.headers["content-type"] == "application/x-amz-cbor-1.1"
    value, end = dec(resp.content) if resp.content else ({}, 0)
    assert end == len(resp.content)
    return resp.status_code, value


def test_cbor_round_trip(aloft):
    assert call(aloft, "CreateStream", {"StreamName": "java", "ShardCount": 1})[0] == 200
    status, put = call(aloft, "PutRecord", {"StreamName": "java", "Data": b"\x00\xffbytes", "PartitionKey": "k"})
    assert status == 200 and put["ShardId"] == "shardId-000000000000"
    before = int(time.time() * 1000) - 60_000
    status, it = call(aloft, "GetShardIterator", {"StreamName": "java", "ShardId": "shardId-000000000000",
                                                  "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": Tag(1, before)})
    assert status == 200
    status, got = call(aloft, "GetRecords", {"ShardIterator": it["ShardIterator"]})
    assert status == 200
    (rec,) = got["Records"]
    assert rec["Data"] == b"\x00\xffbytes" and rec["SequenceNumber"] == put["SequenceNumber"]
    ts = rec["ApproximateArrivalTimestamp"]
    assert isinstance(ts, Tag) and ts.tag == 1 and isinstance(ts.value, int)
    assert abs(ts.value - time.time() * 1000) < 60_000
    status, d = call(aloft, "DescribeStreamSummary", {"StreamName": "java"})
    assert isinstance(d["StreamDescriptionSummary"]["StreamCreationTimestamp"], Tag)
    status, e = call(aloft, "DescribeStream", {"StreamName": "missing"})
    assert status == 400 and e["__type"] == "ResourceNotFoundException"
    assert e["message"] == "Stream missing under account 000000000000 not found."
