"""Kinesis → Lambda with real functions: records in order with the Kinesis event shape,
resharded streams read parents first, retries with bisection, and the on-failure destination."""

import base64
import json

from flows import aloft, drain, function, log_lines, queue, wait_for  # noqa: F401


def stream(k, name="s", shards=1):
    k.create_stream(StreamName=name, ShardCount=shards)
    return k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def records_of(aloft, fn, n):
    return wait_for(lambda: (lambda rs: rs if len(rs) >= n else None)(
        [r for e in log_lines(aloft, fn) for r in e["Records"]]), what=f"{n} records")


def test_records_reach_the_function_in_order_with_the_kinesis_shape(aloft):
    k, lam = aloft.client("kinesis"), aloft.client("lambda")
    arn = stream(k)
    function(aloft, "on-record")
    lam.create_event_source_mapping(FunctionName="on-record", EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                                    BatchSize=10)
    sent = [k.put_record(StreamName="s", Data=json.dumps({"n": i}).encode(), PartitionKey="pk") for i in range(5)]
    got = records_of(aloft, "on-record", 5)
    assert [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in got] == [{"n": i} for i in range(5)]
    r0 = got[0]
    assert r0["eventSource"] == "aws:kinesis" and r0["eventName"] == "aws:kinesis:record"
    assert r0["eventVersion"] == "1.0" and r0["awsRegion"] == "us-east-1" and r0["eventSourceARN"] == arn
    assert r0["eventID"] == f"shardId-000000000000:{sent[0]['SequenceNumber']}"
    assert r0["invokeIdentityArn"].startswith("arn:aws:iam::000000000000:role/")
    kin = r0["kinesis"]
    assert kin["kinesisSchemaVersion"] == "1.0" and kin["partitionKey"] == "pk"
    assert kin["sequenceNumber"] == sent[0]["SequenceNumber"]
    assert isinstance(kin["approximateArrivalTimestamp"], float)


def test_latest_starts_after_existing_records_and_follows_a_split(aloft):
    import time
    k, lam = aloft.client("kinesis"), aloft.client("lambda")
    arn = stream(k)
    k.put_record(StreamName="s", Data=b"old", PartitionKey="a")
    function(aloft, "tail")
    lam.create_event_source_mapping(FunctionName="tail", EventSourceArn=arn, StartingPosition="LATEST")
    wait_for(lambda: lam.list_event_source_mappings(FunctionName="tail")["EventSourceMappings"][0]["State"] == "Enabled")

    def data():
        return [base64.b64decode(r["kinesis"]["data"]) for e in log_lines(aloft, "tail") for r in e["Records"]]

    # LATEST is where the mapping first reads: ping until a record put after that arrives.
    deadline = time.time() + 15
    while b"ping" not in data():
        assert time.time() < deadline, "the mapping never started reading"
        k.put_record(StreamName="s", Data=b"ping", PartitionKey="a")
        settle = time.time() + 1.0
        while b"ping" not in data() and time.time() < settle:
            time.sleep(0.05)
    k.put_record(StreamName="s", Data=b"parent", PartitionKey="a")
    k.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    k.put_record(StreamName="s", Data=b"child", PartitionKey="a")
    got = wait_for(lambda: (lambda d: d if b"child" in d else None)(data()), what="the child's record")
    assert b"old" not in got
    tail = got[len(got) - 2:]
    assert tail == [b"parent", b"child"]
    records = [r for e in log_lines(aloft, "tail") for r in e["Records"]]
    assert records[-2]["eventID"].startswith("shardId-000000000000:")
    assert not records[-1]["eventID"].startswith("shardId-000000000000:")


BISECT = """
import base64, json
def handler(event, context):
    keys = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    print("EVENT " + json.dumps(keys))
    if "poison" in keys:
        raise ValueError("poison pill")
"""


def test_failure_bisects_then_on_failure_destination(aloft):
    k, lam, sqs = aloft.client("kinesis"), aloft.client("lambda"), aloft.client("sqs")
    arn = stream(k)
    dest_url, dest = queue(sqs, "kinesis-failures")
    function(aloft, "picky", BISECT)
    for d in ["a", "b", "poison", "d"]:
        k.put_record(StreamName="s", Data=d.encode(), PartitionKey="k")
    lam.create_event_source_mapping(
        FunctionName="picky", EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=4,
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest}})
    (failure,) = [json.loads(m["Body"]) for m in drain(sqs, dest_url, n=1, timeout=20)]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = failure["KinesisBatchInfo"]
    assert info["streamArn"] == arn and info["batchSize"] == 1 and info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    calls = log_lines(aloft, "picky")
    assert calls[0] == ["a", "b", "poison", "d"]
    wait_for(lambda: {x for c in log_lines(aloft, "picky") if "poison" not in c for x in c} >= {"a", "b", "d"},
             what="the good records processed")
    assert ["poison"] in log_lines(aloft, "picky")


def test_at_timestamp_starts_at_the_first_record_at_or_after_it(aloft):
    k, lam = aloft.client("kinesis"), aloft.client("lambda")
    arn = stream(k)
    k.put_record(StreamName="s", Data=b"before", PartitionKey="a")
    aloft.advance(120)
    k.put_record(StreamName="s", Data=b"after", PartitionKey="a")
    it = k.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    at = k.get_records(ShardIterator=it)["Records"][1]["ApproximateArrivalTimestamp"]
    function(aloft, "since")
    lam.create_event_source_mapping(FunctionName="since", EventSourceArn=arn, StartingPosition="AT_TIMESTAMP",
                                    StartingPositionTimestamp=at)
    k.put_record(StreamName="s", Data=b"later", PartitionKey="a")
    got = records_of(aloft, "since", 2)
    assert [base64.b64decode(r["kinesis"]["data"]) for r in got] == [b"after", b"later"]


def test_a_restart_resumes_after_the_processed_records(aloft_factory, tmp_path):
    import sys
    a = aloft_factory(data_dir=tmp_path, args=["--set", f"lambda.python={sys.executable}"])
    k, lam = a.client("kinesis"), a.client("lambda")
    arn = stream(k)
    function(a, "durable")
    lam.create_event_source_mapping(FunctionName="durable", EventSourceArn=arn, StartingPosition="TRIM_HORIZON")
    for d in [b"one", b"two"]:
        k.put_record(StreamName="s", Data=d, PartitionKey="a")
    records_of(a, "durable", 2)
    a.stop()
    b = aloft_factory(data_dir=tmp_path, args=["--set", f"lambda.python={sys.executable}"])
    b.client("kinesis").put_record(StreamName="s", Data=b"three", PartitionKey="a")
    got = wait_for(lambda: (lambda ds: ds if b"three" in ds else None)(
        [base64.b64decode(r["kinesis"]["data"]) for e in log_lines(b, "durable") for r in e["Records"]]),
        what="the record put after the restart")
    assert got.count(b"one") == 1 and got.count(b"two") == 1 and got.count(b"three") == 1
