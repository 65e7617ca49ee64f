"""Kinesis Data Streams with boto3 and the AWS CLI: streams and the waiter, records routed by
MD5 hash key, every iterator type, PutRecords results, resharding and lineage, retention and
iterator expiry by moving the clock, AWS's errors, StreamARN addressing, restarts."""

import hashlib
import json
import re

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"


def create(k, name="s", shards=None, **kw):
    if shards is None:
        k.create_stream(StreamName=name, **kw)
    else:
        k.create_stream(StreamName=name, ShardCount=shards, **kw)
    k.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    return k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def err(call, *a, **kw):
    with pytest.raises(ClientError) as e:
        call(*a, **kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"], \
        e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def shard_for(k, name, pk):
    h = int(hashlib.md5(pk.encode()).hexdigest(), 16)
    for s in k.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]:
        r = s["HashKeyRange"]
        if int(r["StartingHashKey"]) <= h <= int(r["EndingHashKey"]):
            return s["ShardId"]
    raise AssertionError("no shard holds the key")


def read_all(k, name, shard, kind="TRIM_HORIZON", **kw):
    it = k.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=kind, **kw)["ShardIterator"]
    out = k.get_records(ShardIterator=it)
    return out


def test_create_waits_active_and_describes(aloft):
    k = aloft.client("kinesis")
    arn = create(k, "orders", shards=2, Tags={"team": "x"})
    assert arn == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders"
    d = k.describe_stream(StreamName="orders")["StreamDescription"]
    assert d["StreamStatus"] == "ACTIVE" and d["RetentionPeriodHours"] == 24
    assert d["StreamModeDetails"] == {"StreamMode": "PROVISIONED"} and d["EncryptionType"] == "NONE"
    assert [s["ShardId"] for s in d["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    assert d["Shards"][0]["HashKeyRange"] == {"StartingHashKey": "0",
                                              "EndingHashKey": str(2**127 - 1)}
    assert d["Shards"][1]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)
    seq = d["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
    assert len(seq) == 56 and seq.isdigit()
    assert d["HasMoreShards"] is False
    page = k.describe_stream(StreamName="orders", Limit=1)["StreamDescription"]
    assert len(page["Shards"]) == 1 and page["HasMoreShards"] is True
    page = k.describe_stream(StreamName="orders", ExclusiveStartShardId="shardId-000000000000")["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == ["shardId-000000000001"]
    # On demand by default, with four shards.
    create(k, "auto")
    summary = k.describe_stream_summary(StreamName="auto")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"} and summary["OpenShardCount"] == 4
    assert summary["ConsumerCount"] == 0
    assert k.list_tags_for_stream(StreamName="orders")["Tags"] == [{"Key": "team", "Value": "x"}]
    seen = aloft.internal("GET", "kinesis/streams")
    assert [(x["name"], len(x["shards"])) for x in seen] == [("auto", 4), ("orders", 2)]
    aloft.internal("POST", "reset?service=kinesis")
    assert k.list_streams()["StreamNames"] == []


def test_list_streams_pages(aloft):
    k = aloft.client("kinesis")
    for n in ["c", "a", "b"]:
        k.create_stream(StreamName=n, ShardCount=1)
    out = k.list_streams(Limit=2)
    assert out["StreamNames"] == ["a", "b"] and out["HasMoreStreams"] is True
    assert out["StreamSummaries"][0]["StreamARN"].endswith(":stream/a")
    rest = k.list_streams(NextToken=out["NextToken"])
    assert rest["StreamNames"] == ["c"] and rest["HasMoreStreams"] is False
    assert k.list_streams(ExclusiveStartStreamName="a")["StreamNames"] == ["b", "c"]
    names = [n for p in k.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 1})
             for n in p["StreamNames"]]
    assert names == ["a", "b", "c"]


def test_records_route_by_md5_and_read_back(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=4)
    sent = {}
    for i in range(20):
        pk = f"user-{i}"
        out = k.put_record(StreamName="s", Data=f"payload-{i}".encode(), PartitionKey=pk)
        assert out["ShardId"] == shard_for(k, "s", pk)
        assert len(out["SequenceNumber"]) == 56 and "EncryptionType" not in out
        sent.setdefault(out["ShardId"], []).append((pk, f"payload-{i}".encode(), out["SequenceNumber"]))
    assert len(sent) > 1
    for shard, records in sent.items():
        got = read_all(k, "s", shard)
        assert [(r["PartitionKey"], r["Data"], r["SequenceNumber"]) for r in got["Records"]] == records
        assert got["MillisBehindLatest"] == 0 and "NextShardIterator" in got
        seqs = [int(r["SequenceNumber"]) for r in got["Records"]]
        assert seqs == sorted(seqs)
        assert got["Records"][0]["ApproximateArrivalTimestamp"].year >= 2024
    # ExplicitHashKey wins over the partition key.
    out = k.put_record(StreamName="s", Data=b"x", PartitionKey="user-1", ExplicitHashKey=str(2**128 - 1))
    assert out["ShardId"] == "shardId-000000000003"


def test_every_iterator_type(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=1)
    shard = "shardId-000000000000"
    seqs = [k.put_record(StreamName="s", Data=bytes([i]), PartitionKey="k")["SequenceNumber"] for i in range(3)]
    data = lambda out: [r["Data"] for r in out["Records"]]  # noqa: E731
    assert data(read_all(k, "s", shard)) == [b"\x00", b"\x01", b"\x02"]
    assert data(read_all(k, "s", shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1])) == [b"\x01", b"\x02"]
    assert data(read_all(k, "s", shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1])) == [b"\x02"]
    latest = k.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    first = k.get_records(ShardIterator=latest)
    assert first["Records"] == []
    k.put_record(StreamName="s", Data=b"new", PartitionKey="k")
    assert data(k.get_records(ShardIterator=first["NextShardIterator"])) == [b"new"]
    # AT_TIMESTAMP: records that arrived at or after the time.
    aloft.advance(60)
    k.put_record(StreamName="s", Data=b"later", PartitionKey="k")
    at = read_all(k, "s", shard, "TRIM_HORIZON")["Records"][-1]["ApproximateArrivalTimestamp"]
    assert data(read_all(k, "s", shard, "AT_TIMESTAMP", Timestamp=at)) == [b"later"]
    # Limit pages through a shard.
    it = k.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    one = k.get_records(ShardIterator=it, Limit=2)
    assert data(one) == [b"\x00", b"\x01"] and one["MillisBehindLatest"] > 0
    assert data(k.get_records(ShardIterator=one["NextShardIterator"], Limit=10)) == [b"\x02", b"new", b"later"]


def test_iterator_errors_and_expiry(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=1)
    shard = "shardId-000000000000"
    code, msg, status = err(k.get_shard_iterator, StreamName="s", ShardId="shardId-000000000007",
                            ShardIteratorType="LATEST")
    assert (code, status) == ("ResourceNotFoundException", 400)
    assert msg == f"Shard shardId-000000000007 in stream s under account {ACCOUNT} does not exist"
    code, msg, _ = err(k.get_shard_iterator, StreamName="s", ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                       StartingSequenceNumber="123")
    assert code == "InvalidArgumentException" and "StartingSequenceNumber 123" in msg
    code, msg, _ = err(k.get_shard_iterator, StreamName="s", ShardId=shard, ShardIteratorType="AT_TIMESTAMP")
    assert code == "InvalidArgumentException" and "timestampInMillis" in msg
    code, msg, _ = err(k.get_shard_iterator, StreamName="s", ShardId=shard, ShardIteratorType="AT_TIMESTAMP",
                       Timestamp=4102444800)
    assert code == "InvalidArgumentException"
    assert msg.startswith("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis.")
    code, _, _ = err(k.get_shard_iterator, StreamName="s", ShardId=shard, ShardIteratorType="SOMEWHERE")
    assert code == "ValidationException"
    it = k.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    aloft.advance(301)
    code, msg, _ = err(k.get_records, ShardIterator=it)
    assert code == "ExpiredIteratorException"
    assert re.match(r"Iterator expired\. The iterator was created at time \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4} "
                    r"while right now it is ", msg), msg
    assert msg.endswith("which is further in the future than the tolerated delay of 300000 milliseconds.")
    code, _, _ = err(k.get_records, ShardIterator="bm90IGFuIGl0ZXJhdG9y")
    assert code == "InvalidArgumentException"
    # A deleted stream's iterators name the stream.
    it = k.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    k.delete_stream(StreamName="s")
    code, msg, _ = err(k.get_records, ShardIterator=it)
    assert (code, msg) == ("ResourceNotFoundException", f"Stream s under account {ACCOUNT} not found.")


def test_put_records_results_in_order(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=2)
    out = k.put_records(StreamName="s", Records=[{"Data": f"r{i}".encode(), "PartitionKey": f"p{i}"}
                                                 for i in range(10)])
    assert out["FailedRecordCount"] == 0 and len(out["Records"]) == 10
    for i, r in enumerate(out["Records"]):
        assert r["ShardId"] == shard_for(k, "s", f"p{i}")
    seqs = [int(r["SequenceNumber"]) for r in out["Records"]]
    assert seqs == sorted(seqs)
    code, _, _ = err(k.put_records, StreamName="s", Records=[{"Data": b"x", "PartitionKey": "p"}] * 501)
    assert code == "ValidationException"
    raw = aloft.client("kinesis", parameter_validation=False)
    code, _, _ = err(raw.put_records, StreamName="s", Records=[])
    assert code == "ValidationException"
    code, _, _ = err(k.put_record, StreamName="s", Data=b"x" * (1024 * 1024 + 1), PartitionKey="p")
    assert code == "ValidationException"
    code, _, _ = err(raw.put_record, StreamName="s", Data=b"x", PartitionKey="")
    assert code == "ValidationException"
    code, msg, _ = err(k.put_record, StreamName="s", Data=b"x", PartitionKey="p", ExplicitHashKey=str(2**128))
    assert code == "InvalidArgumentException" and msg.startswith("Invalid ExplicitHashKey.")


def test_put_records_partial_failure_when_throttled(aloft_factory):
    a = aloft_factory(args=["--set", "kinesis.throttle=true"])
    k = a.client("kinesis")
    create(k, "s", shards=1)
    big = b"x" * (300 * 1024)
    out = k.put_records(StreamName="s", Records=[{"Data": big, "PartitionKey": str(i)} for i in range(5)])
    assert out["FailedRecordCount"] == 2
    assert [("SequenceNumber" in r) for r in out["Records"]] == [True, True, True, False, False]
    failed = out["Records"][3]
    assert failed["ErrorCode"] == "ProvisionedThroughputExceededException"
    assert failed["ErrorMessage"] == f"Rate exceeded for shard shardId-000000000000 in stream s under account {ACCOUNT}."
    a.advance(1)
    assert k.put_record(StreamName="s", Data=big, PartitionKey="a")["ShardId"] == "shardId-000000000000"
    # Reads: five GetRecords a second per shard. Quick calls reach a sixth within one second
    # (each takes milliseconds; thirty leave room for a loaded machine).
    it = k.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                              ShardIteratorType="LATEST")["ShardIterator"]
    throttled = []
    for _ in range(30):
        try:
            it = k.get_records(ShardIterator=it)["NextShardIterator"]
        except ClientError as e:
            throttled.append((e.response["Error"]["Code"], e.response["Error"]["Message"]))
            break
    assert throttled
    assert throttled[0] == ("ProvisionedThroughputExceededException",
                            f"Rate exceeded for Shard - {ACCOUNT}/s/shardId-000000000000")


def test_split_merge_and_reading_parents_then_children(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=1)
    k.put_record(StreamName="s", Data=b"before", PartitionKey="a")
    code, msg, _ = err(k.split_shard, StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey="0")
    assert code == "InvalidArgumentException" and "NewStartingHashKey 0 used in SplitShard()" in msg
    k.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    shards = k.list_shards(StreamName="s")["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    parent, c1, c2 = shards
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert c1["ParentShardId"] == c2["ParentShardId"] == "shardId-000000000000"
    assert c1["HashKeyRange"]["EndingHashKey"] == str(2**127 - 1)
    assert c2["HashKeyRange"]["StartingHashKey"] == str(2**127)
    after = k.put_record(StreamName="s", Data=b"after", PartitionKey="a")
    assert after["ShardId"] == shard_for(k, "s", "a")
    # The parent's last page: its records, no next iterator, the children.
    end = read_all(k, "s", "shardId-000000000000")
    assert [r["Data"] for r in end["Records"]] == [b"before"]
    assert "NextShardIterator" not in end
    assert sorted(c["ShardId"] for c in end["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]
    assert end["ChildShards"][0]["ParentShards"] == ["shardId-000000000000"]
    assert [r["Data"] for r in read_all(k, "s", after["ShardId"])["Records"]] == [b"after"]
    assert k.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"] == [c1, c2]
    code, msg, _ = err(k.split_shard, StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    assert (code, msg) == ("InvalidArgumentException", f"Shard shardId-000000000000 in stream s under account {ACCOUNT} "
                           "has already been merged or split, and thus is not eligible for merging or splitting.")
    # Merge: only adjacent pairs.
    create(k, "m", shards=3)
    code, msg, _ = err(k.merge_shards, StreamName="m", ShardToMerge="shardId-000000000000",
                       AdjacentShardToMerge="shardId-000000000002")
    assert code == "InvalidArgumentException" and "not an adjacent pair" in msg
    k.merge_shards(StreamName="m", ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001")
    merged = k.list_shards(StreamName="m")["Shards"][-1]
    assert merged["ShardId"] == "shardId-000000000003"
    assert (merged["ParentShardId"], merged["AdjacentParentShardId"]) == ("shardId-000000000000", "shardId-000000000001")
    assert merged["HashKeyRange"]["StartingHashKey"] == "0"


def test_update_shard_count(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=2)
    out = k.update_shard_count(StreamName="s", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert (out["CurrentShardCount"], out["TargetShardCount"]) == (2, 4)
    k.get_waiter("stream_exists").wait(StreamName="s", WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    s = k.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert s["OpenShardCount"] == 4
    open_ = k.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(open_) == 4 and all("ParentShardId" in x for x in open_)
    assert int(open_[0]["HashKeyRange"]["StartingHashKey"]) == 0
    code, msg, _ = err(k.update_shard_count, StreamName="s", TargetShardCount=9, ScalingType="UNIFORM_SCALING")
    assert code == "LimitExceededException" and "double" in msg
    code, msg, _ = err(k.update_shard_count, StreamName="s", TargetShardCount=1, ScalingType="UNIFORM_SCALING")
    assert code == "LimitExceededException" and "half" in msg
    k.update_shard_count(StreamName="s", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    create(k, "auto")
    code, _, _ = err(k.update_shard_count, StreamName="auto", TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    assert code == "ValidationException"
    code, _, _ = err(k.split_shard, StreamName="auto", ShardToSplit="shardId-000000000000", NewStartingHashKey="5")
    assert code == "ValidationException"
    open_ = k.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(open_) == 3
    starts = sorted(int(x["HashKeyRange"]["StartingHashKey"]) for x in open_)
    ends = sorted(int(x["HashKeyRange"]["EndingHashKey"]) for x in open_)
    assert starts[0] == 0 and ends[-1] == 2**128 - 1
    assert all(e + 1 == s for e, s in zip(ends, starts[1:]))
    # Uniform scaling: three equal thirds of the key space.
    assert starts == [0, 2**128 // 3, 2 * (2**128 // 3)]


def test_list_shards_paging_and_filters(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=3)
    first = k.list_shards(StreamName="s", MaxResults=2)
    assert len(first["Shards"]) == 2 and "NextToken" in first
    rest = k.list_shards(NextToken=first["NextToken"])
    assert [s["ShardId"] for s in rest["Shards"]] == ["shardId-000000000002"] and "NextToken" not in rest
    code, msg, _ = err(k.list_shards, StreamName="s", NextToken=first["NextToken"])
    assert (code, msg) == ("InvalidArgumentException", "NextToken and StreamName cannot be provided together.")
    code, msg, _ = err(k.list_shards, NextToken=first["NextToken"], ExclusiveStartShardId="shardId-000000000000")
    assert msg == "NextToken and ExclusiveStartShardId cannot be provided together."
    after = k.list_shards(StreamName="s", ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000000"})
    assert [s["ShardId"] for s in after["Shards"]] == ["shardId-000000000001", "shardId-000000000002"]
    assert len(k.list_shards(StreamName="s", ExclusiveStartShardId="shardId-000000000001")["Shards"]) == 1
    aloft.advance(301)
    code, _, _ = err(k.list_shards, NextToken=first["NextToken"])
    assert code == "ExpiredNextTokenException"


def test_retention_drops_old_records(aloft):
    k = aloft.client("kinesis")
    create(k, "s", shards=1)
    k.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    aloft.advance(20 * 3600)
    k.put_record(StreamName="s", Data=b"young", PartitionKey="k")
    aloft.advance(5 * 3600)
    got = read_all(k, "s", "shardId-000000000000")
    assert [r["Data"] for r in got["Records"]] == [b"young"]
    k.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    aloft.advance(24 * 3600)
    assert [r["Data"] for r in read_all(k, "s", "shardId-000000000000")["Records"]] == [b"young"]
    code, msg, _ = err(k.increase_stream_retention_period, StreamName="s", RetentionPeriodHours=30)
    assert code == "InvalidArgumentException"
    assert msg == ("Requested retention period (30 hours) for stream s can not be shorter than existing "
                   "retention period (48 hours). Use DecreaseRetentionPeriod API.")
    code, msg, _ = err(k.decrease_stream_retention_period, StreamName="s", RetentionPeriodHours=12)
    assert msg == "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short."
    code, msg, _ = err(k.increase_stream_retention_period, StreamName="s", RetentionPeriodHours=9000)
    assert msg == "Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long."
    k.decrease_stream_retention_period(StreamName="s", RetentionPeriodHours=24)
    assert k.describe_stream(StreamName="s")["StreamDescription"]["RetentionPeriodHours"] == 24


def test_stream_errors(aloft):
    k = aloft.client("kinesis")
    code, msg, status = err(k.describe_stream, StreamName="nope")
    assert (code, msg, status) == ("ResourceNotFoundException", f"Stream nope under account {ACCOUNT} not found.", 400)
    code, msg, _ = err(k.put_record, StreamName="nope", Data=b"x", PartitionKey="p")
    assert (code, msg) == ("ResourceNotFoundException", f"Stream nope under account {ACCOUNT} not found.")
    create(k, "s", shards=1)
    code, msg, _ = err(k.create_stream, StreamName="s", ShardCount=1)
    assert (code, msg) == ("ResourceInUseException", f"Stream s under account {ACCOUNT} already exists.")
    code, _, _ = err(k.create_stream, StreamName="bad name!", ShardCount=1)
    assert code == "ValidationException"
    raw = aloft.client("kinesis", parameter_validation=False)
    code, _, _ = err(raw.create_stream, StreamName="z", ShardCount=0)
    assert code == "ValidationException"
    code, msg, _ = err(k.create_stream, StreamName="z", ShardCount=501)
    assert code == "LimitExceededException" and "shard limit" in msg
    code, _, _ = err(k.describe_stream_summary)
    assert code == "InvalidArgumentException"
    code, _, _ = err(k.delete_stream, StreamName="nope")
    assert code == "ResourceNotFoundException"


def test_stream_arn_addressing(aloft):
    k = aloft.client("kinesis")
    arn = create(k, "s", shards=1)
    out = k.put_record(StreamARN=arn, Data=b"by-arn", PartitionKey="k")
    it = k.get_shard_iterator(StreamARN=arn, ShardId=out["ShardId"], ShardIteratorType="TRIM_HORIZON")
    assert k.get_records(ShardIterator=it["ShardIterator"], StreamARN=arn)["Records"][0]["Data"] == b"by-arn"
    assert k.describe_stream(StreamARN=arn, StreamName="s")["StreamDescription"]["StreamName"] == "s"
    code, _, _ = err(k.describe_stream, StreamARN=arn, StreamName="other")
    assert code == "InvalidArgumentException"
    k.add_tags_to_stream(StreamARN=arn, Tags={"a": "1"})
    assert k.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    missing = arn.replace("stream/s", "stream/missing")
    code, msg, _ = err(k.describe_stream_summary, StreamARN=missing)
    assert (code, msg) == ("ResourceNotFoundException", f"Stream missing under account {ACCOUNT} not found.")
    k.delete_stream(StreamARN=arn)
    assert k.list_streams()["StreamNames"] == []


def test_settings_tags_policies_and_limits(aloft):
    k = aloft.client("kinesis")
    arn = create(k, "s", shards=2)
    k.start_stream_encryption(StreamName="s", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    d = k.describe_stream(StreamName="s")["StreamDescription"]
    assert (d["EncryptionType"], d["KeyId"]) == ("KMS", "alias/aws/kinesis")
    out = k.put_record(StreamName="s", Data=b"x", PartitionKey="k")
    assert out["EncryptionType"] == "KMS"
    assert read_all(k, "s", out["ShardId"])["Records"][0]["EncryptionType"] == "KMS"
    k.stop_stream_encryption(StreamName="s", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert k.describe_stream(StreamName="s")["StreamDescription"]["EncryptionType"] == "NONE"
    # The key must exist and be enabled in KMS.
    code, _, _ = err(k.start_stream_encryption, StreamName="s", EncryptionType="KMS",
                     KeyId="12345678-1234-1234-1234-123456789012")
    assert code == "KMSNotFoundException"
    kms = aloft.client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.disable_key(KeyId=key)
    code, _, _ = err(k.start_stream_encryption, StreamName="s", EncryptionType="KMS", KeyId=key)
    assert code == "KMSDisabledException"
    kms.enable_key(KeyId=key)
    k.start_stream_encryption(StreamName="s", EncryptionType="KMS", KeyId=key)
    assert k.describe_stream(StreamName="s")["StreamDescription"]["KeyId"] == key
    k.stop_stream_encryption(StreamName="s", EncryptionType="KMS", KeyId=key)
    m = k.enable_enhanced_monitoring(StreamName="s", ShardLevelMetrics=["IncomingBytes"])
    assert (m["CurrentShardLevelMetrics"], m["DesiredShardLevelMetrics"]) == ([], ["IncomingBytes"])
    m = k.enable_enhanced_monitoring(StreamName="s", ShardLevelMetrics=["ALL"])
    assert len(m["DesiredShardLevelMetrics"]) == 7
    m = k.disable_enhanced_monitoring(StreamName="s", ShardLevelMetrics=["IncomingBytes"])
    assert "IncomingBytes" not in m["DesiredShardLevelMetrics"] and len(m["DesiredShardLevelMetrics"]) == 6
    k.add_tags_to_stream(StreamName="s", Tags={"b": "2", "a": "1"})
    k.tag_resource(ResourceARN=arn, Tags={"c": "3"})
    k.remove_tags_from_stream(StreamName="s", TagKeys=["b"])
    k.untag_resource(ResourceARN=arn, TagKeys=["c"])
    assert k.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "a", "Value": "1"}]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                                 "Action": "kinesis:GetRecords", "Resource": arn}]})
    k.put_resource_policy(ResourceARN=arn, Policy=policy)
    assert json.loads(k.get_resource_policy(ResourceARN=arn)["Policy"]) == json.loads(policy)
    k.delete_resource_policy(ResourceARN=arn)
    assert k.get_resource_policy(ResourceARN=arn)["Policy"] == "{}"
    limits = k.describe_limits()
    assert (limits["ShardLimit"], limits["OpenShardCount"]) == (500, 2)
    k.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert k.describe_limits()["OnDemandStreamCount"] == 1
    k.update_max_record_size(StreamARN=arn, MaxRecordSizeInKiB=2048)
    assert k.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["MaxRecordSizeInKiB"] == 2048
    big = k.put_record(StreamName="s", Data=b"x" * (1536 * 1024), PartitionKey="k")
    assert big["ShardId"].startswith("shardId-")
    assert k.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "DISABLED"


def test_consumers(aloft):
    k = aloft.client("kinesis")
    arn = create(k, "s", shards=1)
    c = k.register_stream_consumer(StreamARN=arn, ConsumerName="app")["Consumer"]
    assert c["ConsumerStatus"] == "CREATING" and c["ConsumerARN"].startswith(f"{arn}/consumer/app:")
    d = k.describe_stream_consumer(ConsumerARN=c["ConsumerARN"])["ConsumerDescription"]
    assert d["ConsumerStatus"] == "ACTIVE" and d["StreamARN"] == arn
    assert k.describe_stream_consumer(StreamARN=arn, ConsumerName="app")["ConsumerDescription"]["ConsumerARN"] == c["ConsumerARN"]
    code, _, _ = err(k.register_stream_consumer, StreamARN=arn, ConsumerName="app")
    assert code == "ResourceInUseException"
    k.register_stream_consumer(StreamARN=arn, ConsumerName="other")
    page = k.list_stream_consumers(StreamARN=arn, MaxResults=1)
    assert [x["ConsumerName"] for x in page["Consumers"]] == ["app"]
    assert [x["ConsumerName"] for x in k.list_stream_consumers(StreamARN=arn, NextToken=page["NextToken"])["Consumers"]] == ["other"]
    k.tag_resource(ResourceARN=c["ConsumerARN"], Tags={"t": "v"})
    assert k.list_tags_for_resource(ResourceARN=c["ConsumerARN"])["Tags"] == [{"Key": "t", "Value": "v"}]
    assert k.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["ConsumerCount"] == 2
    code, _, _ = err(k.delete_stream, StreamName="s")
    assert code == "ResourceInUseException"
    k.deregister_stream_consumer(StreamARN=arn, ConsumerName="other")
    code, _, _ = err(k.describe_stream_consumer, StreamARN=arn, ConsumerName="other")
    assert code == "ResourceNotFoundException"
    k.delete_stream(StreamName="s", EnforceConsumerDeletion=True)


def test_streams_and_records_survive_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    k = a.client("kinesis")
    create(k, "s", shards=2)
    k.split_shard(StreamName="s", ShardToSplit="shardId-000000000001", NewStartingHashKey=str(3 * 2**126))
    k.add_tags_to_stream(StreamName="s", Tags={"keep": "me"})
    # Only the records (and the sequence counter) are journaled after the last stream change.
    seqs = [k.put_record(StreamName="s", Data=f"r{i}".encode(), PartitionKey="k")["SequenceNumber"] for i in range(3)]
    shard = shard_for(k, "s", "k")
    a.kill()
    b = aloft_factory(data_dir=tmp_path)
    k = b.client("kinesis")
    got = read_all(k, "s", shard)["Records"]
    assert [r["SequenceNumber"] for r in got] == seqs and [r["Data"] for r in got] == [b"r0", b"r1", b"r2"]
    assert len(k.list_shards(StreamName="s")["Shards"]) == 4
    assert k.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "keep", "Value": "me"}]
    later = k.put_record(StreamName="s", Data=b"r3", PartitionKey="k")["SequenceNumber"]
    assert int(later) > int(seqs[-1])
    k.delete_stream(StreamName="s")
    b.stop()
    c = aloft_factory(data_dir=tmp_path)
    assert c.client("kinesis").list_streams()["StreamNames"] == []


def test_aws_cli(aloft):
    aloft.cli("kinesis", "create-stream", "--stream-name", "cli", "--shard-count", "1")
    aloft.cli("kinesis", "wait", "stream-exists", "--stream-name", "cli")
    # CLI v1 sends a blob argument's text as the bytes (base64-encoding it on the wire).
    out = aloft.cli_json("kinesis", "put-record", "--stream-name", "cli", "--partition-key", "k",
                         "--data", "hello")
    assert out["ShardId"] == "shardId-000000000000"
    it = aloft.cli_json("kinesis", "get-shard-iterator", "--stream-name", "cli", "--shard-id", out["ShardId"],
                        "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    recs = aloft.cli_json("kinesis", "get-records", "--shard-iterator", it)["Records"]
    assert recs[0]["Data"] == "aGVsbG8=" and recs[0]["SequenceNumber"] == out["SequenceNumber"]
    assert aloft.cli_json("kinesis", "list-streams")["StreamNames"] == ["cli"]
    p = aloft.cli("kinesis", "describe-stream", "--stream-name", "missing", check=False)
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr


def test_eventbridge_rule_delivers_to_a_stream(aloft):
    k, ev = aloft.client("kinesis"), aloft.client("events")
    arn = create(k, "events", shards=1)
    ev.put_rule(Name="to-kinesis", EventPattern=json.dumps({"source": ["app"]}))
    ev.put_targets(Rule="to-kinesis", Targets=[{"Id": "k", "Arn": arn}])
    ev.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": json.dumps({"n": 1})}])
    it = k.get_shard_iterator(StreamName="events", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    import time
    deadline = time.time() + 10
    records = []
    while not records and time.time() < deadline:
        out = k.get_records(ShardIterator=it)
        records, it = out["Records"], out["NextShardIterator"]
        time.sleep(0.05)
    assert records, "the event never reached the stream"
    body = json.loads(records[0]["Data"])
    assert body["source"] == "app" and body["detail"] == {"n": 1}


def test_subscribe_to_shard_streams_records(aloft):
    k = aloft.client("kinesis")
    arn = create(k, "s", shards=1)
    consumer = k.register_stream_consumer(StreamARN=arn, ConsumerName="efo")["Consumer"]["ConsumerARN"]
    sent = [k.put_record(StreamName="s", Data=f"r{i}".encode(), PartitionKey="k")["SequenceNumber"] for i in range(3)]
    resp = k.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                StartingPosition={"Type": "TRIM_HORIZON"})
    events = iter(resp["EventStream"])
    first = next(events)["SubscribeToShardEvent"]
    assert [r["Data"] for r in first["Records"]] == [b"r0", b"r1", b"r2"]
    assert [r["SequenceNumber"] for r in first["Records"]] == sent
    assert first["ContinuationSequenceNumber"] == sent[-1] and first["MillisBehindLatest"] == 0
    k.put_record(StreamName="s", Data=b"pushed", PartitionKey="k")
    second = next(events)["SubscribeToShardEvent"]
    assert [r["Data"] for r in second["Records"]] == [b"pushed"]
    resp["EventStream"].close()
    code, _, _ = err(k.subscribe_to_shard, ConsumerARN=consumer + "0", ShardId="shardId-000000000000",
                     StartingPosition={"Type": "LATEST"})
    assert code == "ResourceNotFoundException"
    # A closed shard's subscription ends with its children.
    k.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    resp = k.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000000",
                                StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": sent[-1]})
    evs = [e["SubscribeToShardEvent"] for e in resp["EventStream"]]
    assert [r["Data"] for r in evs[-1]["Records"]] == [b"pushed"]
    assert sorted(c["ShardId"] for c in evs[-1]["ChildShards"]) == ["shardId-000000000001", "shardId-000000000002"]


def test_a_bad_record_fails_put_records_without_writing_any(aloft):
    k = aloft.client("kinesis", parameter_validation=False)
    create(k, "s", shards=1)
    code, msg, _ = err(k.put_records, StreamName="s", Records=[
        {"Data": b"ok", "PartitionKey": "p"},
        {"Data": b"x" * (1024 * 1024 + 1), "PartitionKey": "p"}])
    assert code == "ValidationException" and "records.2.member.data" in msg
    assert read_all(k, "s", "shardId-000000000000")["Records"] == []


def test_stream_metrics_reach_cloudwatch(aloft):
    import datetime as dt
    import time
    k, cw = aloft.client("kinesis"), aloft.client("cloudwatch")
    create(k, "s", shards=1)
    k.enable_enhanced_monitoring(StreamName="s", ShardLevelMetrics=["IncomingRecords", "OutgoingBytes"])
    k.put_record(StreamName="s", Data=b"abcd", PartitionKey="p")
    k.put_records(StreamName="s", Records=[{"Data": b"xy", "PartitionKey": "p"}] * 2)
    read_all(k, "s", "shardId-000000000000")
    dims = [{"Name": "StreamName", "Value": "s"}]

    def total(metric, dims=dims):
        now = dt.datetime.now(dt.timezone.utc)
        pts = cw.get_metric_statistics(Namespace="AWS/Kinesis", MetricName=metric, Dimensions=dims,
                                       StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(hours=1),
                                       Period=7200, Statistics=["Sum"])["Datapoints"]
        return sum(p["Sum"] for p in pts) if pts else None

    deadline = time.time() + 10
    while total("GetRecords.Records") != 3 and time.time() < deadline:
        time.sleep(0.1)
    assert total("IncomingRecords") == 3 and total("IncomingBytes") == 8
    assert total("PutRecord.Success") == 1 and total("PutRecords.SuccessfulRecords") == 2
    assert total("GetRecords.Records") == 3
    # Shard-level metrics: only those enabled, with the ShardId dimension.
    shard = dims + [{"Name": "ShardId", "Value": "shardId-000000000000"}]
    assert total("IncomingRecords", shard) == 3 and total("OutgoingBytes", shard) == 8
    assert total("IncomingBytes", shard) is None


def test_iam_policies_and_stream_resource_policies_are_enforced(aloft_factory):
    import boto3
    import botocore.config
    a = aloft_factory(args=["--enforce-iam"])
    root = a.client("kinesis")
    allowed = create(root, "allowed", shards=1)
    other = create(root, "other", shards=1)
    iam = a.client("iam")
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:GetShardIterator",
                                                     "kinesis:GetRecords"], "Resource": allowed}]}))
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    carol = boto3.client("kinesis", endpoint_url=a.url, region_name="us-east-1",
                         aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                         config=botocore.config.Config(retries={"max_attempts": 1}))
    carol.put_record(StreamName="allowed", Data=b"x", PartitionKey="k")
    it = carol.get_shard_iterator(StreamName="allowed", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(carol.get_records(ShardIterator=it)["Records"]) == 1
    code, msg, status = err(carol.put_record, StreamName="other", Data=b"x", PartitionKey="k")
    assert (code, status) == ("AccessDeniedException", 400)
    assert "kinesis:PutRecord" in msg and other in msg
    # The stream's own policy can grant what the identity policy does not.
    root.put_resource_policy(ResourceARN=other, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/carol"},
                       "Action": "kinesis:PutRecord", "Resource": other}]}))
    assert carol.put_record(StreamName="other", Data=b"x", PartitionKey="k")["ShardId"] == "shardId-000000000000"


def test_api_gateway_as_a_kinesis_proxy(aloft):
    """AWS's tutorial: a REST API whose AWS integration calls Kinesis PutRecord from a template."""
    import requests
    k, apigw = aloft.client("kinesis"), aloft.client("apigateway")
    create(k, "clicks", shards=1)
    api = apigw.create_rest_api(name="proxy")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="record")["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="PUT", authorizationType="NONE")
    apigw.put_integration(
        restApiId=api, resourceId=res, httpMethod="PUT", type="AWS", integrationHttpMethod="POST",
        uri="arn:aws:apigateway:us-east-1:kinesis:action/PutRecord",
        credentials="arn:aws:iam::000000000000:role/apigw-kinesis",
        requestTemplates={"application/json": (
            '{"StreamName": "clicks", "Data": "$util.base64Encode($input.json(\'$.Data\'))", '
            '"PartitionKey": "$input.path(\'$.PartitionKey\')"}')})
    apigw.put_method_response(restApiId=api, resourceId=res, httpMethod="PUT", statusCode="200")
    apigw.put_integration_response(restApiId=api, resourceId=res, httpMethod="PUT", statusCode="200")
    apigw.create_deployment(restApiId=api, stageName="prod")
    r = requests.put(f"{aloft.url}/_aws/execute-api/{api}/prod/record",
                     json={"Data": {"clicked": "buy"}, "PartitionKey": "user-1"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["ShardId"] == "shardId-000000000000"
    (rec,) = read_all(k, "clicks", "shardId-000000000000")["Records"]
    assert json.loads(rec["Data"]) == {"clicked": "buy"} and rec["PartitionKey"] == "user-1"


def test_on_demand_auto_distribution_and_warm_throughput(aloft):
    k = aloft.client("kinesis")
    arn = create(k, "auto", RecordDistributionStrategy="AUTO")
    summary = k.describe_stream_summary(StreamName="auto")["StreamDescriptionSummary"]
    assert summary["RecordDistributionStrategy"] == "AUTO"
    # AUTO: no partition key needed, any given (and ExplicitHashKey) ignored, records spread evenly.
    shards = [k.put_record(StreamName="auto", Data=b"x")["ShardId"] for _ in range(4)]
    shards += [k.put_record(StreamName="auto", Data=b"x", PartitionKey="same",
                            ExplicitHashKey="0")["ShardId"] for _ in range(4)]
    assert sorted(shards) == sorted([f"shardId-00000000000{i}" for i in range(4)] * 2)
    k.update_stream_record_distribution_strategy(StreamARN=arn, RecordDistributionStrategy="USER_PARTITION_KEY")
    code, _, _ = err(k.put_record, StreamName="auto", Data=b"x")
    assert code == "ValidationException"
    assert len({k.put_record(StreamName="auto", Data=b"x", PartitionKey="same")["ShardId"] for _ in range(4)}) == 1
    out = k.update_stream_warm_throughput(StreamARN=arn, WarmThroughputMiBps=100)
    assert out["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 100}
    summary = k.describe_stream_summary(StreamName="auto")["StreamDescriptionSummary"]
    assert summary["WarmThroughput"]["TargetMiBps"] == 100
    # Both settings are for on-demand streams only.
    prov = create(k, "prov", shards=1)
    code, _, _ = err(k.update_stream_record_distribution_strategy, StreamARN=prov, RecordDistributionStrategy="AUTO")
    assert code == "InvalidArgumentException"
    code, _, _ = err(k.update_stream_warm_throughput, StreamName="prov", WarmThroughputMiBps=10)
    assert code == "InvalidArgumentException"
    code, _, _ = err(k.create_stream, StreamName="p2", ShardCount=1, RecordDistributionStrategy="AUTO")
    assert code == "InvalidArgumentException"
