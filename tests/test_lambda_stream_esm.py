"""Stream event source mappings (DynamoDB Streams and Kinesis) with real Python functions:
partial batch failures, record age, tumbling windows, parallelization, filters, batching
windows, the execution role in Kinesis records, and AWS's validation of these settings."""

import base64
import json

import pytest
from botocore.exceptions import ClientError

from flows import ROLE, advance_until, aloft, drain, function, log_lines, queue, wait_for  # noqa: F401


def kinesis_stream(aloft, name="s"):
    k = aloft.client("kinesis")
    k.create_stream(StreamName=name, ShardCount=1)
    return k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def ddb_stream(aloft, name="tbl"):
    d = aloft.client("dynamodb").create_table(
        TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return d["TableDescription"]["LatestStreamArn"]


class Source:
    """One flow per source kind: put a keyed record, read a record's key and sequence number."""

    def __init__(self, aloft, kind):
        self.aloft, self.kind = aloft, kind
        self.arn = kinesis_stream(aloft) if kind == "kinesis" else ddb_stream(aloft)

    def put(self, key, extra=None, partition=None):
        if self.kind == "kinesis":
            body = {"k": key, **(extra or {})}
            return self.aloft.client("kinesis").put_record(
                StreamName="s", Data=json.dumps(body).encode(), PartitionKey=partition or key)["SequenceNumber"]
        item = {"pk": {"S": key}}
        for name, v in (extra or {}).items():
            item[name] = {"N": str(v)} if isinstance(v, int) else {"S": str(v)}
        self.aloft.client("dynamodb").put_item(TableName="tbl", Item=item)
        return None

    def info_key(self):
        return "KinesisBatchInfo" if self.kind == "kinesis" else "DDBStreamBatchInfo"


# Handlers see records through these two helpers, whatever the source.
COMMON = """
import base64, json, os, time, uuid
def key(r):
    if "kinesis" in r:
        return json.loads(base64.b64decode(r["kinesis"]["data"]))["k"]
    return r["dynamodb"]["Keys"]["pk"]["S"]
def seq(r):
    return r["kinesis"]["sequenceNumber"] if "kinesis" in r else r["dynamodb"]["SequenceNumber"]
def num(r):
    if "kinesis" in r:
        return json.loads(base64.b64decode(r["kinesis"]["data"])).get("n", 0)
    return int(r["dynamodb"]["NewImage"].get("n", {"N": "0"})["N"])
"""

KINDS = pytest.mark.parametrize("kind", ["kinesis", "dynamodb"])


def keys_per_call(aloft, fn):
    return log_lines(aloft, fn)


# --- ReportBatchItemFailures ------------------------------------------------------------------

PARTIAL = COMMON + """
def handler(event, context):
    keys = [key(r) for r in event["Records"]]
    print("EVENT " + json.dumps(keys))
    return {"batchItemFailures": [{"itemIdentifier": seq(r)} for r in event["Records"] if key(r).startswith("bad")]}
"""


@KINDS
def test_partial_batch_failure_retries_from_the_lowest_failed_record(aloft, kind):
    src, lam, sqs = Source(aloft, kind), aloft.client("lambda"), aloft.client("sqs")
    dest_url, dest = queue(sqs, "failures")
    function(aloft, "partial", PARTIAL)
    for k in ["a", "b", "bad1", "c", "bad2"]:
        src.put(k)
    lam.create_event_source_mapping(
        FunctionName="partial", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON", BatchSize=5,
        FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest}})
    (failure,) = [json.loads(m["Body"]) for m in drain(sqs, dest_url, n=1, timeout=20)]
    calls = log_lines(aloft, "partial")
    # a and b are checkpointed; the retry starts at bad1 and carries what follows it.
    assert calls[:2] == [["a", "b", "bad1", "c", "bad2"], ["bad1", "c", "bad2"]]
    info = failure[src.info_key()]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert info["batchSize"] == 3 and info["startSequenceNumber"] != info["endSequenceNumber"]


def test_partial_failure_with_bisection_splits_at_the_failed_record(aloft):
    src, lam, sqs = Source(aloft, "kinesis"), aloft.client("lambda"), aloft.client("sqs")
    dest_url, dest = queue(sqs, "failures")
    function(aloft, "split", PARTIAL)
    for k in ["a", "b", "bad1", "c"]:
        src.put(k)
    lam.create_event_source_mapping(
        FunctionName="split", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON", BatchSize=4,
        FunctionResponseTypes=["ReportBatchItemFailures"], BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dest}})
    (failure,) = [json.loads(m["Body"]) for m in drain(sqs, dest_url, n=1, timeout=20)]
    calls = wait_for(lambda: (lambda c: c if ["c"] in c else None)(log_lines(aloft, "split")), what="c alone")
    # Split at bad1 (not a retry), then halved: only bad1 is given up on.
    assert calls == [["a", "b", "bad1", "c"], ["bad1", "c"], ["bad1"], ["c"]]
    info = failure["KinesisBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]


INVALID = COMMON + """
def handler(event, context):
    print("EVENT " + json.dumps([key(r) for r in event["Records"]]))
    return {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}
"""


@KINDS
def test_an_unknown_item_identifier_fails_the_whole_batch(aloft, kind):
    src, lam, sqs = Source(aloft, kind), aloft.client("lambda"), aloft.client("sqs")
    dest_url, dest = queue(sqs, "failures")
    function(aloft, "liar", INVALID)
    for k in ["a", "b"]:
        src.put(k)
    lam.create_event_source_mapping(
        FunctionName="liar", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON", BatchSize=5,
        FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest}})
    (failure,) = [json.loads(m["Body"]) for m in drain(sqs, dest_url, n=1, timeout=20)]
    assert log_lines(aloft, "liar")[:2] == [["a", "b"], ["a", "b"]]
    assert failure[src.info_key()]["batchSize"] == 2


EMPTY_OK = COMMON + """
def handler(event, context):
    print("EVENT " + json.dumps([key(r) for r in event["Records"]]))
    return {"batchItemFailures": []} if key(event["Records"][0]) == "a" else None
"""


def test_an_empty_or_null_failure_list_is_a_success(aloft):
    src, lam = Source(aloft, "kinesis"), aloft.client("lambda")
    function(aloft, "fine", EMPTY_OK)
    lam.create_event_source_mapping(FunctionName="fine", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
                                    BatchSize=1, FunctionResponseTypes=["ReportBatchItemFailures"])
    src.put("a")
    src.put("b")
    wait_for(lambda: len(log_lines(aloft, "fine")) >= 2, what="two calls")
    src.put("c")
    calls = wait_for(lambda: (lambda c: c if ["c"] in c else None)(log_lines(aloft, "fine")), what="c")
    assert calls == [["a"], ["b"], ["c"]]


# --- MaximumRecordAgeInSeconds ----------------------------------------------------------------

@KINDS
def test_records_older_than_the_maximum_age_go_to_the_destination(aloft, kind):
    src, lam, sqs = Source(aloft, kind), aloft.client("lambda"), aloft.client("sqs")
    dest_url, dest = queue(sqs, "aged")
    function(aloft, "young")
    src.put("old")
    aloft.advance(120)
    lam.create_event_source_mapping(
        FunctionName="young", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": dest}})
    (failure,) = [json.loads(m["Body"]) for m in drain(sqs, dest_url, n=1, timeout=20)]
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure[src.info_key()]["batchSize"] == 1
    src.put("new")
    got = wait_for(lambda: [r for e in log_lines(aloft, "young") for r in e["Records"]], what="the new record")
    assert len(got) == 1 and (kind == "dynamodb" or json.loads(base64.b64decode(got[0]["kinesis"]["data"]))["k"] == "new")


FAILING = COMMON + """
def handler(event, context):
    print("EVENT " + json.dumps([key(r) for r in event["Records"]]))
    raise RuntimeError("always")
"""


@KINDS
def test_a_failing_record_is_retried_until_it_ages_out(aloft, kind):
    src, lam, sqs = Source(aloft, kind), aloft.client("lambda"), aloft.client("sqs")
    dest_url, dest = queue(sqs, "aged")
    function(aloft, "doomed", FAILING)
    m = lam.create_event_source_mapping(
        FunctionName="doomed", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
        MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": dest}})
    src.put("x")
    wait_for(lambda: len(log_lines(aloft, "doomed")) >= 2, what="retries")
    listed = lam.list_event_source_mappings(FunctionName="doomed")["EventSourceMappings"]
    assert [x["LastProcessingResult"] for x in listed] == ["PROBLEM: Function call failed"]
    assert listed[0]["UUID"] == m["UUID"]
    got = advance_until(aloft, 30, lambda: drain(sqs, dest_url, n=1, timeout=0.3), what="the aged-out record")
    failure = json.loads(got[0]["Body"])
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] >= 2


# --- TumblingWindowInSeconds ------------------------------------------------------------------

WINDOW = COMMON + """
def handler(event, context):
    view = {k: v for k, v in event.items() if k != "Records"}
    view["keys"] = [key(r) for r in event["Records"]]
    print("EVENT " + json.dumps(view))
    total = event["state"].get("sum", 0) + sum(num(r) for r in event["Records"])
    return {"state": {"sum": total}}
"""


def to_next_window(aloft, seconds):
    now = aloft.internal("GET", "clock")["now_ms"]
    aloft.advance((seconds * 1000 - now % (seconds * 1000)) / 1000 + 1)


@KINDS
def test_tumbling_window_carries_state_and_ends_with_a_final_invoke(aloft, kind):
    src, lam = Source(aloft, kind), aloft.client("lambda")
    function(aloft, "agg", WINDOW)
    to_next_window(aloft, 60)
    lam.create_event_source_mapping(FunctionName="agg", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
                                    BatchSize=1, TumblingWindowInSeconds=60)
    for i, n in enumerate([1, 2, 3]):
        src.put(f"r{i}", {"n": n})
    wait_for(lambda: len(log_lines(aloft, "agg")) >= 3, what="three invokes")
    calls = log_lines(aloft, "agg")
    assert [c["keys"] for c in calls] == [["r0"], ["r1"], ["r2"]]
    assert [c["state"] for c in calls] == [{}, {"sum": 1}, {"sum": 3}]
    first = calls[0]
    assert first["isFinalInvokeForWindow"] is False and first["isWindowTerminatedEarly"] is False
    assert first["eventSourceARN"] == src.arn and first["shardId"].startswith("shardId-")
    assert first["window"]["start"].endswith(":00Z") and first["window"]["end"].endswith(":00Z")
    assert all(c["window"] == first["window"] for c in calls)
    final = advance_until(aloft, 60, lambda: [c for c in log_lines(aloft, "agg") if c["isFinalInvokeForWindow"]],
                          what="the final invoke")[0]
    assert final["keys"] == [] and final["state"] == {"sum": 6} and final["window"] == first["window"]
    # The next window starts with an empty state.
    src.put("r3", {"n": 10})
    later = wait_for(lambda: [c for c in log_lines(aloft, "agg") if c["keys"] == ["r3"]], what="the next window")[0]
    assert later["state"] == {} and later["window"]["start"] >= first["window"]["end"]


STATELESS = COMMON + """
def handler(event, context):
    print("EVENT " + json.dumps([key(r) for r in event["Records"]]))
    return {"batchItemFailures": []}
"""


def test_a_windowed_invoke_without_state_counts_as_failed(aloft):
    src, lam, sqs = Source(aloft, "kinesis"), aloft.client("lambda"), aloft.client("sqs")
    dest_url, dest = queue(sqs, "failures")
    function(aloft, "forgetful", STATELESS)
    src.put("a")
    lam.create_event_source_mapping(
        FunctionName="forgetful", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
        TumblingWindowInSeconds=300, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": dest}})
    (failure,) = [json.loads(m["Body"]) for m in drain(sqs, dest_url, n=1, timeout=20)]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert log_lines(aloft, "forgetful")[:2] == [["a"], ["a"]]


# --- ParallelizationFactor --------------------------------------------------------------------

PARALLEL = COMMON + """
def handler(event, context):
    d = os.environ["DIR"]
    me = os.path.join(d, str(uuid.uuid4()))
    open(me, "w").close()
    deadline = time.time() + 8
    while len(os.listdir(d)) < 2 and time.time() < deadline:
        time.sleep(0.02)
    items = [[key(r), num(r)] for r in event["Records"]]
    print("EVENT " + json.dumps({"items": items, "overlap": len(os.listdir(d)) >= 2}))
"""


@KINDS
def test_parallelization_factor_runs_batches_of_a_shard_at_once_keeping_key_order(aloft, kind, tmp_path):
    src, lam = Source(aloft, kind), aloft.client("lambda")
    function(aloft, "wide", PARALLEL, Environment={"Variables": {"DIR": str(tmp_path)}})
    for i in range(12):
        src.put(f"item{i % 6}", {"n": i}, partition=f"item{i % 6}")
    lam.create_event_source_mapping(FunctionName="wide", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
                                    BatchSize=1, ParallelizationFactor=10)
    calls = wait_for(lambda: (lambda c: c if len(c) >= 12 else None)(log_lines(aloft, "wide")), timeout=60,
                     what="twelve invokes")
    # The first two batches ran at the same time (each saw the other's marker file).
    assert calls[0]["overlap"] is True
    got = [item for c in calls for item in c["items"]]
    assert sorted(n for _, n in got) == list(range(12))
    for k in {k for k, _ in got}:
        mine = [n for key, n in got if key == k]
        assert mine == sorted(mine), f"{k} out of order: {mine}"


# --- FilterCriteria ---------------------------------------------------------------------------

def test_kinesis_filters_match_the_decoded_json_data(aloft):
    src, lam = Source(aloft, "kinesis"), aloft.client("lambda")
    function(aloft, "orders")
    pattern = {"data": {"kind": ["order"], "total": [{"numeric": [">=", 10]}], "note": [{"anything-but": ["test"]}]}}
    lam.create_event_source_mapping(FunctionName="orders", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
                                    FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    k = aloft.client("kinesis")
    k.put_record(StreamName="s", Data=b"plain text", PartitionKey="p")
    for body in [{"kind": "order", "total": 5, "note": "x"}, {"kind": "refund", "total": 50, "note": "x"},
                 {"kind": "order", "total": 50, "note": "test"}, {"kind": "order", "total": 12, "note": "ok"}]:
        k.put_record(StreamName="s", Data=json.dumps(body).encode(), PartitionKey="p")
    k.put_record(StreamName="s", Data=json.dumps({"kind": "order", "total": 99, "note": "last"}).encode(),
                 PartitionKey="p")
    got = wait_for(lambda: (lambda rs: rs if len(rs) >= 2 else None)(
        [json.loads(base64.b64decode(r["kinesis"]["data"])) for e in log_lines(aloft, "orders") for r in e["Records"]]),
        what="two matching records")
    assert [g["total"] for g in got] == [12, 99]


def test_kinesis_records_that_are_not_json_match_only_patterns_without_data(aloft):
    src, lam = Source(aloft, "kinesis"), aloft.client("lambda")
    function(aloft, "any")
    lam.create_event_source_mapping(FunctionName="any", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
                                    FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": [{"exists": False}]})}]})
    k = aloft.client("kinesis")
    k.put_record(StreamName="s", Data=json.dumps({"a": 1}).encode(), PartitionKey="p")
    k.put_record(StreamName="s", Data=b"\x00binary", PartitionKey="p")
    got = wait_for(lambda: [r for e in log_lines(aloft, "any") for r in e["Records"]], what="the binary record")
    assert [base64.b64decode(r["kinesis"]["data"]) for r in got] == [b"\x00binary"]


def test_dynamodb_filters_match_keys_images_and_event_names(aloft):
    src, lam = Source(aloft, "dynamodb"), aloft.client("lambda")
    ddb = aloft.client("dynamodb")
    function(aloft, "vip")
    pattern = {"eventName": ["INSERT", "MODIFY"],
               "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "user#"}]}},
                            "NewImage": {"tier": {"S": [{"anything-but": ["free"]}]}}}}
    lam.create_event_source_mapping(FunctionName="vip", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
                                    FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "user#1"}, "tier": {"S": "free"}})
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "order#1"}, "tier": {"S": "gold"}})
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "user#2"}, "tier": {"S": "gold"}})
    ddb.delete_item(TableName="tbl", Key={"pk": {"S": "user#2"}})
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "user#1"}, "tier": {"S": "pro"}})
    got = wait_for(lambda: (lambda rs: rs if len(rs) >= 2 else None)(
        [r for e in log_lines(aloft, "vip") for r in e["Records"]]), what="two records")
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in got] == [("INSERT", "user#2"), ("MODIFY", "user#1")]


# --- MaximumBatchingWindowInSeconds and invokeIdentityArn -------------------------------------

@KINDS
def test_batching_window_waits_for_a_full_batch_or_the_window(aloft, kind):
    src, lam = Source(aloft, kind), aloft.client("lambda")
    function(aloft, "gather")
    lam.create_event_source_mapping(FunctionName="gather", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON",
                                    BatchSize=3, MaximumBatchingWindowInSeconds=120)
    for i in range(4):
        src.put(f"r{i}")
    # The first three make a full batch at once; the fourth waits for the window.
    first = wait_for(lambda: log_lines(aloft, "gather"), what="the full batch")
    assert len(first) == 1 and len(first[0]["Records"]) == 3
    import time
    time.sleep(0.6)
    assert len(log_lines(aloft, "gather")) == 1
    calls = advance_until(aloft, 121, lambda: (lambda c: c if len(c) >= 2 else None)(log_lines(aloft, "gather")),
                          what="the window to pass")
    assert [len(c["Records"]) for c in calls] == [3, 1]


def test_kinesis_records_carry_the_execution_role(aloft):
    src, lam = Source(aloft, "kinesis"), aloft.client("lambda")
    function(aloft, "who")
    m = lam.create_event_source_mapping(FunctionName="who", EventSourceArn=src.arn, StartingPosition="TRIM_HORIZON")
    assert m["LastProcessingResult"] == "No records processed"
    src.put("a")
    (r,) = wait_for(lambda: [r for e in log_lines(aloft, "who") for r in e["Records"]], what="the record")
    assert r["invokeIdentityArn"] == ROLE
    wait_for(lambda: lam.get_event_source_mapping(UUID=m["UUID"])["LastProcessingResult"] == "OK", what="OK")


# --- validation -------------------------------------------------------------------------------

def error_of(call, **kw):
    with pytest.raises(ClientError) as e:
        call(**kw)
    err = e.value.response["Error"]
    return err["Code"], err["Message"]


def test_settings_are_validated_as_aws_does(aloft):
    lam, sqs = aloft.client("lambda"), aloft.client("sqs")
    arn = kinesis_stream(aloft)
    _, q = queue(sqs, "work")
    function(aloft, "f")
    base = dict(FunctionName="f", EventSourceArn=arn, StartingPosition="LATEST")
    create = lam.create_event_source_mapping
    assert error_of(create, **base, ParallelizationFactor=11) == (
        "ValidationException",
        "1 validation error detected: Value '11' at 'parallelizationFactor' failed to satisfy constraint: "
        "Member must have value less than or equal to 10")
    assert error_of(create, **base, TumblingWindowInSeconds=901)[0] == "ValidationException"
    assert error_of(create, **base, MaximumRecordAgeInSeconds=30) == (
        "InvalidParameterValueException",
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)")
    assert error_of(create, **base, MaximumBatchingWindowInSeconds=301)[0] == "ValidationException"
    assert error_of(create, **base, FilterCriteria={"Filters": [{"Pattern": "{not json"}]}) == (
        "InvalidParameterValueException", "Invalid filter pattern definition.")
    assert error_of(create, **base, ScalingConfig={"MaximumConcurrency": 2}) == (
        "InvalidParameterValueException",
        "Unsupported 'scalingConfig' parameter for given event source mapping type.")
    assert error_of(create, FunctionName="f", EventSourceArn=q, TumblingWindowInSeconds=60) == (
        "InvalidParameterValueException",
        "Unsupported 'tumblingWindowInSeconds' parameter for given event source mapping type.")
    assert error_of(create, FunctionName="f", EventSourceArn=q, ParallelizationFactor=2)[0] == \
        "InvalidParameterValueException"
    assert error_of(create, FunctionName="f", EventSourceArn=q, BatchSize=50)[1] == \
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
    # Starting positions, as LocalStack recorded AWS answering them (event_source_mapping/test_api).
    enum = ("ValidationException", "1 validation error detected: Value '0' at 'startingPosition' failed to "
            "satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]")
    assert error_of(create, FunctionName="f", EventSourceArn=arn, StartingPosition="0") == enum
    assert error_of(create, FunctionName="f", EventSourceArn=arn) == (
        "InvalidParameterValueException", "1 validation error detected: Value null at 'startingPosition' "
        "failed to satisfy constraint: Member must not be null.")
    assert error_of(create, FunctionName="f", EventSourceArn=q, StartingPosition="0") == enum
    assert error_of(create, **base, StartingPositionTimestamp=1_700_000_000) == (
        "InvalidParameterValueException", "Timestamp only valid with StartingPosition AT_TIMESTAMP")
    assert error_of(create, FunctionName="f", EventSourceArn=q, StartingPosition="LATEST") == (
        "InvalidParameterValueException", "StartingPosition is not valid for SQS event sources.")
    table_stream = ddb_stream(aloft)
    assert error_of(create, FunctionName="f", EventSourceArn=table_stream, StartingPosition="AT_TIMESTAMP",
                    StartingPositionTimestamp=1_700_000_000) == (
        "InvalidParameterValueException", f"Unsupported starting position for arn type: {table_stream}")
    m = create(**base, ParallelizationFactor=10, TumblingWindowInSeconds=900, MaximumRecordAgeInSeconds=-1)
    assert m["ParallelizationFactor"] == 10 and m["TumblingWindowInSeconds"] == 900
    update = lam.update_event_source_mapping
    assert error_of(update, UUID=m["UUID"], ParallelizationFactor=20)[0] == "ValidationException"
    assert error_of(update, UUID=m["UUID"], MaximumRecordAgeInSeconds=59)[0] == "InvalidParameterValueException"
    got = update(UUID=m["UUID"], MaximumRecordAgeInSeconds=3600, ParallelizationFactor=2)
    assert got["MaximumRecordAgeInSeconds"] == 3600 and got["ParallelizationFactor"] == 2
    assert got["TumblingWindowInSeconds"] == 900


def test_stream_mappings_show_the_stream_settings_with_their_defaults(aloft):
    lam = aloft.client("lambda")
    arn = kinesis_stream(aloft)
    function(aloft, "f")
    m = lam.create_event_source_mapping(FunctionName="f", EventSourceArn=arn, StartingPosition="LATEST")
    got = lam.get_event_source_mapping(UUID=m["UUID"])
    assert (got["ParallelizationFactor"], got["MaximumRecordAgeInSeconds"], got["MaximumRetryAttempts"],
            got["TumblingWindowInSeconds"], got["BisectBatchOnFunctionError"]) == (1, -1, -1, 0, False)
    assert got["DestinationConfig"] == {"OnFailure": {}} and got["FunctionResponseTypes"] == []
    assert got["MaximumBatchingWindowInSeconds"] == 0 and got["BatchSize"] == 100


SQS_LIAR = """
import json
def handler(event, context):
    print("EVENT " + json.dumps([r["messageId"] for r in event["Records"]]))
    return {"batchItemFailures": [{"itemIdentifier": "no-such-message"}]}
"""


def test_sqs_answer_naming_an_unknown_message_fails_the_whole_batch(aloft):
    lam, sqs = aloft.client("lambda"), aloft.client("sqs")
    url, arn = queue(sqs, "work", VisibilityTimeout="300")
    function(aloft, "sqs-liar", SQS_LIAR)
    lam.create_event_source_mapping(FunctionName="sqs-liar", EventSourceArn=arn, BatchSize=1,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    mid = sqs.send_message(QueueUrl=url, MessageBody="x")["MessageId"]
    wait_for(lambda: log_lines(aloft, "sqs-liar"), what="the first delivery")
    # Not deleted: it comes back once its visibility timeout passes.
    calls = advance_until(aloft, 301, lambda: (lambda c: c if len(c) >= 2 else None)(log_lines(aloft, "sqs-liar")),
                          what="the redelivery")
    assert calls[:2] == [[mid], [mid]]
