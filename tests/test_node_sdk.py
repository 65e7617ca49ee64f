"""DynamoDB, DynamoDB Streams and Kinesis driven by the AWS SDK for JavaScript v3 (Node): its
serializers, DocumentClient marshalling, waiters, paginators, error parsing and HTTP handlers
(Kinesis's client speaks HTTP/2 with prior knowledge to an http:// endpoint) against Aloft.
tests/node/aws_sdk_v3.js runs a scenario and prints what the SDK observed; one Aloft serves the
module and each scenario runs once. `scripts/test` installs tests/node's packages; the tests skip
only when Node is missing."""

from __future__ import annotations

import binascii
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import Aloft

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the JavaScript SDK tests need it")


@pytest.fixture(scope="module")
def server():
    if not (NODE_DIR / "node_modules" / "@aws-sdk" / "client-kinesis").exists():
        npm = shutil.which("npm")
        assert npm, "npm is missing: run `npm install` in tests/node"
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR, check=True, timeout=300)
    a = Aloft()
    yield a
    a.stop()


_runs: dict[str, dict] = {}


def scenario(server, name: str) -> dict:
    """The scenario's observations, run once per module."""
    if name not in _runs:
        p = subprocess.run([NODE, str(NODE_DIR / "aws_sdk_v3.js"), server.url, name], capture_output=True, text=True,
                           timeout=120, cwd=NODE_DIR)
        assert p.returncode == 0, p.stderr
        out = json.loads(p.stdout.strip().splitlines()[-1])
        assert "fatal" not in out, (out, server.logs())
        _runs[name] = out
    return _runs[name]


# --- DynamoDB ------------------------------------------------------------------------------


def test_create_table_waiter_and_metadata(server):
    out = scenario(server, "dynamodb")
    assert out["createStatus"] == 200 and out["putStatus"] == 200
    assert out["createRequestId"]
    assert out["waitState"] == "SUCCESS"


def test_document_client_update_expressions(server):
    out = scenario(server, "dynamodb")
    assert out["updated"] == {
        "title": "renamed",
        "views": "0",
        "likes": "1",
        "list": ["1", "2", "3"],
        "tags": ["a", "b", "c"],
        "created": "1700000000",
    }
    assert out["got"] == {"blob": [0, 1, 2, 255], "blobIsUint8Array": True, "tagsIsSet": True, "title": "renamed"}
    assert out["missingItem"] == "undefined"
    # What Node wrote, boto3 reads back the same.
    item = server.client("dynamodb").get_item(TableName="notes", Key={"pk": {"S": "u1"}, "sk": {"N": "1"}})["Item"]
    assert item["blob"] == {"B": b"\x00\x01\x02\xff"}
    assert sorted(item["tags"]["SS"]) == ["a", "b", "c"]
    assert item["list"] == {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}


def test_big_numbers_round_trip_exactly(server):
    out = scenario(server, "dynamodb")
    assert out["numbers"] == {
        "big": "12345678901234567890.123456789012345678",
        "neg": "-0.000000000000000000000000000001",
        "nums": ["1", "2.5"],
    }
    assert out["numbersLowLevel"] == {"N": "12345678901234567890.123456789012345678"}


def test_conditional_check_failure_carries_the_old_item(server):
    c = scenario(server, "dynamodb")["conditional"]
    assert c == {
        "error": "ConditionalCheckFailedException",
        "className": "ConditionalCheckFailedException",
        "message": "The conditional request failed",
        "status": 400,
        "fault": "client",
        # The DocumentClient does not unmarshall exceptions: the item stays in wire form.
        "itemTitle": {"S": "renamed"},
    }


def test_transaction_cancellation_reasons(server):
    out = scenario(server, "dynamodb")
    t = out["transaction"]
    assert t["error"] == "TransactionCanceledException" and t["status"] == 400
    assert t["message"] == ("Transaction cancelled, please refer cancellation reasons for specific reasons "
                            "[None, ConditionalCheckFailed]")
    assert t["reasons"] == [
        {"code": "None", "message": None, "title": None},
        {"code": "ConditionalCheckFailed", "message": "The conditional request failed", "title": {"S": "renamed"}},
    ]
    assert out["transactionWroteNothing"] is True


def test_batch_write_and_get(server):
    out = scenario(server, "dynamodb")
    assert out["batchWriteUnprocessed"] == {}
    assert out["batchGet"] == [10, 20, 30]
    assert out["batchGetKeys"] == ["n", "sk"]


def test_paginate_query_over_one_megabyte(server):
    out = scenario(server, "dynamodb")
    # 21 items of ~100 KB between the bounds: more than one 1 MB page, and every item once, in order.
    assert out["querySeen"] == list(range(2, 23))
    pages = out["queryPages"]
    assert len(pages) == 2
    assert pages[0]["hasKey"] is True and pages[-1]["hasKey"] is False
    assert sum(p["count"] for p in pages) == 21
    assert out["queryItemKeys"] == ["i", "sk"]


def test_errors_as_the_sdk_names_them(server):
    out = scenario(server, "dynamodb")
    v = out["validation"]
    assert v["error"] == "ValidationException" and v["status"] == 400 and v["fault"] == "client"
    assert v["message"] == 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND"'
    m = out["missingTable"]
    assert m["error"] == m["className"] == "ResourceNotFoundException"
    assert m["message"] == "Requested resource not found: Table: ghost not found"


def test_answers_carry_dynamodbs_crc32(server):
    # The SDKs that check it (botocore, Go, Java, JS v2) compare it to the body's CRC32.
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=0",
    }
    for table in ("notes", "ghost"):
        r = requests.post(server.url, data=json.dumps({"TableName": table}), headers=headers)
        assert r.status_code == (200 if table == "notes" else 400)
        assert r.headers["x-amz-crc32"] == str(binascii.crc32(r.content))


# --- DynamoDB Streams ----------------------------------------------------------------------


def test_streams_client_reads_the_changes(server):
    out = scenario(server, "dynamodb-streams")
    arn = out["streamArn"]
    assert arn.startswith("arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/")
    assert out["listed"] == [{"arn": arn, "table": "events", "label": arn.rsplit("/", 1)[1]}]
    assert out["describe"] == {
        "status": "ENABLED",
        "viewType": "NEW_AND_OLD_IMAGES",
        "table": "events",
        "creationIsDate": True,
        "shards": 1,
        "keySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    }
    recs = out["records"]
    assert [r["event"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(r["source"] == "aws:dynamodb" and r["keys"] == {"id": {"S": "e1"}} for r in recs)
    assert [(r["oldN"], r["newN"]) for r in recs] == [(None, "1"), ("1", "2"), ("2", None)]
    assert recs[0]["newB"] == [7, 8]
    assert all(r["createdIsDate"] and r["viewType"] == "NEW_AND_OLD_IMAGES" for r in recs)
    assert out["nextIterator"] == "string"
    missing = out["missingStream"]
    assert missing["error"] == missing["className"] == "ResourceNotFoundException"
    assert missing["status"] == 400


# --- Kinesis -------------------------------------------------------------------------------


def test_kinesis_stream_waiter_and_records(server):
    out = scenario(server, "kinesis")
    assert out["createStatus"] == 200 and out["waitState"] == "SUCCESS"
    assert out["summary"] == {"status": "ACTIVE", "shards": 2, "createdIsDate": True}
    assert out["putRecord"]["seqIsString"] is True
    # One partition key: every record lands on the same shard, the one read back.
    assert out["putRecords"] == {"failed": 0, "count": 2, "shards": [out["putRecord"]["shard"]]}
    assert [r["bytes"] for r in out["records"]] == [list(b"hello"), [0, 1, 2, 250, 255], list(b'{"k":1}')]
    assert all(r["isUint8Array"] and r["arrivalIsDate"] and r["partitionKey"] == "user-1" for r in out["records"])
    assert out["millisBehind"] == 0 and out["nextIterator"] == "string"
    # SubscribeToShard's event stream, decoded by the SDK from the HTTP/2 response.
    assert out["subscribed"] == {"events": ["SubscribeToShardEvent"], "continuation": "string",
                                 "data": [list(b"hello"), [0, 1, 2, 250, 255], list(b'{"k":1}')]}
    # boto3 sees what the Node client wrote.
    k = server.client("kinesis")
    it = k.get_shard_iterator(StreamName="clicks", ShardId=out["putRecord"]["shard"],
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["Data"] for r in k.get_records(ShardIterator=it)["Records"]] == [b"hello", b"\x00\x01\x02\xfa\xff", b'{"k":1}']


def test_kinesis_errors_as_the_sdk_names_them(server):
    out = scenario(server, "kinesis")
    for key in ("missing", "missingPut"):
        e = out[key]
        assert e["error"] == e["className"] == "ResourceNotFoundException"
        assert e["message"] == "Stream ghost under account 000000000000 not found."
        assert e["status"] == 400 and e["fault"] == "client"
    e = out["inUse"]
    assert e["error"] == "ResourceInUseException"
    assert e["message"] == "Stream clicks under account 000000000000 already exists."
