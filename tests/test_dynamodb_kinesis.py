"""DynamoDB's Kinesis Data Streams destinations: Enable/Disable/Describe/UpdateKinesisStreamingDestination
and the change records AWS writes to the stream, read back with boto3's Kinesis client.

The state machine and messages follow what AWS answers (probed against it): Enable answers ENABLING
for any well-formed ARN and reports a bad one later as ENABLE_FAILED; at most one destination per
table is not DISABLED/ENABLE_FAILED; DISABLED entries stay listed; the precision is absent until set.
Aloft's transitions last one second of its clock: the tests move the clock instead of sleeping.
"""

import json
import time

import pytest
from botocore.exceptions import ClientError

NOT_VALID = "Table is not in a valid state to enable Kinesis Streaming Destination: "
CANNOT_ENABLE = NOT_VALID + (
    "EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE operation."
)
CANNOT_DISABLE = NOT_VALID + "KinesisStreamingDestination must be ACTIVE to perform DISABLE operation."
NO_PERMISSION = "User does not have a permission to use kinesis stream"


def make_table(ddb, name="orders", range_key=False, **extra):
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
    return ddb.create_table(
        TableName=name,
        AttributeDefinitions=attrs,
        KeySchema=keys,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )["TableDescription"]


def stream_arn(table_arn, name, region=None, account=None):
    """A Kinesis stream ARN in the table's account and region unless told otherwise."""
    _, part, _, tregion, taccount, _ = table_arn.split(":", 5)
    return f"arn:{part}:kinesis:{region or tregion}:{account or taccount}:stream/{name}"


def make_stream(aloft, name, shards=2):
    kin = aloft.client("kinesis")
    kin.create_stream(StreamName=name, ShardCount=shards)
    for _ in range(50):
        s = kin.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if s["StreamStatus"] == "ACTIVE":
            return s["StreamARN"]
        aloft.advance(1)
    raise AssertionError(f"stream {name} never became ACTIVE")


def destinations(ddb, table="orders"):
    out = ddb.describe_kinesis_streaming_destination(TableName=table)
    assert out["TableName"] == table
    return out["KinesisDataStreamDestinations"]


def enable_active(aloft, ddb, arn, table="orders", **config):
    kwargs = {"EnableKinesisStreamingConfiguration": config} if config else {}
    out = ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn, **kwargs)
    assert out["DestinationStatus"] == "ENABLING"
    aloft.advance(2)
    assert destinations(ddb, table)[0]["DestinationStatus"] == "ACTIVE"


def read_all(kin, arn):
    """Every record in the stream, over every shard, as (partition key, decoded JSON, shard)."""
    out = []
    for shard in kin.list_shards(StreamARN=arn)["Shards"]:
        it = kin.get_shard_iterator(
            StreamARN=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            page = kin.get_records(ShardIterator=it, StreamARN=arn, Limit=1000)
            out += [(r["PartitionKey"], json.loads(r["Data"]), shard["ShardId"]) for r in page["Records"]]
            if not page["Records"] or page.get("MillisBehindLatest", 0) == 0:
                break
            it = page.get("NextShardIterator")
    return out


def wait_records(kin, arn, n, timeout=10.0):
    """Delivery is asynchronous (off the write's path): polls until `n` records are there."""
    deadline = time.monotonic() + timeout
    while True:
        got = read_all(kin, arn)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    err = e.value.response["Error"]
    return err["Code"], err["Message"]


# --- the state machine, without a stream ------------------------------------------------------


def test_describe_lists_nothing_until_enabled_and_a_missing_table_is_not_found(aloft):
    ddb = aloft.client("dynamodb")
    table = make_table(ddb)
    assert destinations(ddb) == []
    # The table ARN is accepted as well as its name.
    out = ddb.describe_kinesis_streaming_destination(TableName=table["TableArn"])
    assert out == {"TableName": "orders", "KinesisDataStreamDestinations": [], "ResponseMetadata": out["ResponseMetadata"]}
    for op in ("describe_kinesis_streaming_destination",):
        assert error_of(getattr(ddb, op), TableName="nope") == (
            "ResourceNotFoundException",
            "Requested resource not found: Table: nope not found",
        )
    arn = stream_arn(table["TableArn"], "s1")
    for op in ("enable_kinesis_streaming_destination", "disable_kinesis_streaming_destination"):
        assert error_of(getattr(ddb, op), TableName="nope", StreamArn=arn) == (
            "ResourceNotFoundException",
            "Requested resource not found: Table: nope not found",
        )


def test_a_destination_never_enabled_cannot_be_disabled_or_updated(aloft):
    ddb = aloft.client("dynamodb")
    table = make_table(ddb)
    arn = stream_arn(table["TableArn"], "never")
    assert error_of(ddb.disable_kinesis_streaming_destination, TableName="orders", StreamArn=arn) == (
        "ValidationException",
        CANNOT_DISABLE,
    )
    assert error_of(
        ddb.update_kinesis_streaming_destination,
        TableName="orders",
        StreamArn=arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
    ) == (
        "ValidationException",
        NOT_VALID
        + "Kinesis streaming is not in ACTIVE state. Updates are only allowed in ACTIVE state. "
        + f"TableName: orders, kdsArn: {arn}",
    )
    for config in (None, {}):
        kwargs = {} if config is None else {"UpdateKinesisStreamingConfiguration": config}
        assert error_of(
            ddb.update_kinesis_streaming_destination, TableName="orders", StreamArn=arn, **kwargs
        ) == (
            "ValidationException",
            "Streaming destination cannot be updated with given parameters: "
            "UpdateKinesisStreamingConfiguration cannot be null or contain only null values",
        )
    assert error_of(
        ddb.disable_kinesis_streaming_destination,
        TableName="orders",
        StreamArn=arn,
        EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MILLISECOND"},
    ) == ("ValidationException", "Stream cannot be disabled using EnableKinesisStreamingConfiguration parameters")
    assert error_of(
        ddb.enable_kinesis_streaming_destination,
        TableName="orders",
        StreamArn=arn,
        EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "SECOND"},
    ) == (
        "ValidationException",
        "1 validation error detected: Value 'SECOND' at "
        "'enableKinesisStreamingConfiguration.approximateCreationDateTimePrecision' failed to satisfy "
        "constraint: Member must satisfy enum value set: [MILLISECOND, MICROSECOND]",
    )
    assert destinations(ddb) == []


def test_streams_elsewhere_fail_the_enable_later_with_aws_descriptions(aloft):
    ddb = aloft.client("dynamodb")
    table = make_table(ddb)
    cases = [
        (stream_arn(table["TableArn"], "s", region="eu-west-1"),
         "The kinesis Arn used to enable kinesis replication belongs to a stream which is not in the current region"),
        (stream_arn(table["TableArn"], "s", account="111122223333"),
         "The kinesis Arn used to enable kinesis replication belongs to a stream which is not in Active state"),
        (table["TableArn"] + "/not-a-stream-at-all", NO_PERMISSION),
    ]
    for arn, description in cases:
        out = ddb.enable_kinesis_streaming_destination(TableName="orders", StreamArn=arn)
        assert {k: v for k, v in out.items() if k != "ResponseMetadata"} == {
            "TableName": "orders",
            "StreamArn": arn,
            "DestinationStatus": "ENABLING",
            "EnableKinesisStreamingConfiguration": {},
        }
        # While one is ENABLING nothing else may be enabled.
        assert error_of(
            ddb.enable_kinesis_streaming_destination, TableName="orders", StreamArn=cases[0][0]
        ) == ("ValidationException", CANNOT_ENABLE)
        assert destinations(ddb)[0] == {"StreamArn": arn, "DestinationStatus": "ENABLING"}
        aloft.advance(2)
        assert destinations(ddb)[0] == {
            "StreamArn": arn,
            "DestinationStatus": "ENABLE_FAILED",
            "DestinationStatusDescription": description,
        }
    # Failed entries accumulate, latest first; enabling one again flips it instead of adding one.
    assert [d["StreamArn"] for d in destinations(ddb)] == [c[0] for c in reversed(cases)]
    ddb.enable_kinesis_streaming_destination(TableName="orders", StreamArn=cases[0][0])
    assert len(destinations(ddb)) == 3
    assert error_of(
        ddb.disable_kinesis_streaming_destination, TableName="orders", StreamArn=cases[1][0]
    ) == ("ValidationException", CANNOT_DISABLE)


def test_destinations_are_not_in_describe_table_and_end_with_the_table(aloft):
    ddb = aloft.client("dynamodb")
    table = make_table(ddb)
    arn = stream_arn(table["TableArn"], "s", region="eu-west-1")
    ddb.enable_kinesis_streaming_destination(TableName="orders", StreamArn=arn)
    desc = ddb.describe_table(TableName="orders")["Table"]
    assert "Kinesis" not in json.dumps(desc, default=str)
    assert "StreamSpecification" not in desc
    ddb.delete_table(TableName="orders")
    make_table(ddb)
    assert destinations(ddb) == []


def test_destinations_survive_a_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    ddb = a.client("dynamodb")
    table = make_table(ddb)
    arn = stream_arn(table["TableArn"], "s", region="eu-west-1")
    ddb.enable_kinesis_streaming_destination(
        TableName="orders",
        StreamArn=arn,
        EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
    )
    a.advance(2)
    before = destinations(ddb)
    assert before[0]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    a.kill()
    b = aloft_factory(data_dir=tmp_path)
    b.advance(2)
    assert destinations(b.client("dynamodb")) == before


def test_the_cli_describes_destinations(aloft):
    ddb = aloft.client("dynamodb")
    make_table(ddb)
    out = aloft.cli_json("dynamodb", "describe-kinesis-streaming-destination", "--table-name", "orders")
    assert out == {"TableName": "orders", "KinesisDataStreamDestinations": []}


# --- delivery to a Kinesis stream -------------------------------------------------------------


def test_item_changes_reach_the_stream_in_aws_record_format(aloft):
    ddb, kin = aloft.client("dynamodb"), aloft.client("kinesis")
    make_table(ddb, range_key=True)
    arn = make_stream(aloft, "orders-cdc")
    enable_active(aloft, ddb, arn)
    assert destinations(ddb) == [{"StreamArn": arn, "DestinationStatus": "ACTIVE"}]
    started = int(time.time() * 1000)

    key = {"pk": {"S": "o1"}, "sk": {"N": "1"}}
    ddb.put_item(TableName="orders", Item={**key, "state": {"S": "new"}})
    ddb.update_item(
        TableName="orders",
        Key=key,
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": {"S": "paid"}},
    )
    # The same item written again is no change: no record.
    ddb.put_item(TableName="orders", Item={**key, "state": {"S": "paid"}})
    ddb.delete_item(TableName="orders", Key=key)
    got = wait_records(kin, arn, 3)
    assert len(got) == 3, got
    # One item's records share a partition key (so a shard) and keep their order.
    assert len({pk for pk, _, _ in got}) == 1
    pk = got[0][0]
    assert len(pk) == 32 and pk == pk.upper() and int(pk, 16) >= 0
    records = [r for _, r, _ in got]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    for r in records:
        assert list(r) == [
            "awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName",
            "dynamodb", "eventSource",
        ]
        assert r["awsRegion"] == "us-east-1"
        assert r["userIdentity"] is None
        assert r["recordFormat"] == "application/json"
        assert r["tableName"] == "orders"
        assert r["eventSource"] == "aws:dynamodb"
        assert len(r["eventID"]) == 36
        d = r["dynamodb"]
        assert d["Keys"] == key
        assert "SequenceNumber" not in d and "StreamViewType" not in d
        assert "ApproximateCreationDateTimePrecision" not in d
        # Milliseconds since the epoch.
        assert abs(d["ApproximateCreationDateTime"] - started) < 120_000
        assert d["SizeBytes"] > 0
    ins, mod, rem = (r["dynamodb"] for r in records)
    assert ins["NewImage"] == {**key, "state": {"S": "new"}} and "OldImage" not in ins
    assert mod["OldImage"]["state"] == {"S": "new"} and mod["NewImage"]["state"] == {"S": "paid"}
    assert rem["OldImage"]["state"] == {"S": "paid"} and "NewImage" not in rem
    assert len({r["eventID"] for r in records}) == 3


def test_batches_transactions_and_partiql_are_delivered_without_dynamodb_streams(aloft):
    ddb, kin = aloft.client("dynamodb"), aloft.client("kinesis")
    make_table(ddb)
    arn = make_stream(aloft, "cdc", shards=1)
    enable_active(aloft, ddb, arn)
    ddb.batch_write_item(
        RequestItems={"orders": [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(3)]}
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "orders", "Item": {"pk": {"S": "t1"}}}},
            {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "b0"}}}},
        ]
    )
    ddb.execute_statement(Statement="UPDATE orders SET v = 1 WHERE pk = 'b1'")
    got = wait_records(kin, arn, 6)
    events = sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for _, r, _ in got)
    assert events == [
        ("INSERT", "b0"), ("INSERT", "b1"), ("INSERT", "b2"), ("INSERT", "t1"),
        ("MODIFY", "b1"), ("REMOVE", "b0"),
    ]
    # Independent of DynamoDB Streams, which stays off.
    assert "StreamSpecification" not in ddb.describe_table(TableName="orders")["Table"]


def test_ttl_deletions_carry_the_service_identity(aloft):
    ddb, kin = aloft.client("dynamodb"), aloft.client("kinesis")
    make_table(ddb)
    ddb.update_time_to_live(
        TableName="orders", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    arn = make_stream(aloft, "ttl-cdc", shards=1)
    enable_active(aloft, ddb, arn)
    ddb.put_item(TableName="orders", Item={"pk": {"S": "old"}, "exp": {"N": str(int(time.time()) - 10)}})
    aloft.internal("POST", "dynamodb/ttl/sweep")
    got = wait_records(kin, arn, 2)
    assert [r["eventName"] for _, r, _ in got] == ["INSERT", "REMOVE"]
    assert got[0][1]["userIdentity"] is None
    assert got[1][1]["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_precision_updates_go_through_updating_and_change_the_timestamps(aloft):
    ddb, kin = aloft.client("dynamodb"), aloft.client("kinesis")
    table = make_table(ddb)
    arn = make_stream(aloft, "precise", shards=1)
    enable_active(aloft, ddb, arn)
    code, msg = error_of(
        ddb.update_kinesis_streaming_destination,
        TableName="orders",
        StreamArn=arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MILLISECOND"},
    )
    assert code == "ValidationException"
    assert msg == (
        "Invalid Request: Precision is already set to the desired value of MILLISECOND "
        f"for tableId: {table['TableId']}, kdsArn: {arn}"
    )
    out = ddb.update_kinesis_streaming_destination(
        TableName="orders",
        StreamArn=arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"},
    )
    assert out["DestinationStatus"] == "UPDATING"
    assert out["UpdateKinesisStreamingConfiguration"] == {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
    assert destinations(ddb) == [
        {"StreamArn": arn, "DestinationStatus": "UPDATING", "ApproximateCreationDateTimePrecision": "MICROSECOND"}
    ]
    assert error_of(ddb.disable_kinesis_streaming_destination, TableName="orders", StreamArn=arn) == (
        "ValidationException",
        CANNOT_DISABLE,
    )
    aloft.advance(2)
    assert destinations(ddb)[0]["DestinationStatus"] == "ACTIVE"
    started = int(time.time() * 1_000_000)
    ddb.put_item(TableName="orders", Item={"pk": {"S": "p"}})
    (_, r, _), = wait_records(kin, arn, 1)
    assert r["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    assert abs(r["dynamodb"]["ApproximateCreationDateTime"] - started) < 120_000_000


def test_disable_stops_delivery_and_a_second_enable_resumes_it(aloft):
    ddb, kin = aloft.client("dynamodb"), aloft.client("kinesis")
    make_table(ddb)
    arn = make_stream(aloft, "toggled", shards=1)
    enable_active(aloft, ddb, arn)
    # Only one destination may be live.
    other = make_stream(aloft, "other", shards=1)
    assert error_of(ddb.enable_kinesis_streaming_destination, TableName="orders", StreamArn=other) == (
        "ValidationException",
        CANNOT_ENABLE,
    )
    ddb.put_item(TableName="orders", Item={"pk": {"S": "before"}})
    assert len(wait_records(kin, arn, 1)) == 1
    out = ddb.disable_kinesis_streaming_destination(TableName="orders", StreamArn=arn)
    assert out["DestinationStatus"] == "DISABLING"
    # A second Disable while DISABLING answers DISABLING again.
    assert ddb.disable_kinesis_streaming_destination(TableName="orders", StreamArn=arn)["DestinationStatus"] == "DISABLING"
    ddb.put_item(TableName="orders", Item={"pk": {"S": "while-off"}})
    aloft.advance(2)
    assert destinations(ddb) == [{"StreamArn": arn, "DestinationStatus": "DISABLED"}]
    enable_active(aloft, ddb, arn)
    assert len(destinations(ddb)) == 1
    ddb.put_item(TableName="orders", Item={"pk": {"S": "after"}})
    # Records are delivered in order: once "after" is there, "while-off" would have been too.
    got = wait_records(kin, arn, 2)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for _, r, _ in got] == ["before", "after"]


def test_a_missing_stream_fails_the_enable_and_a_deleted_one_leaves_it_active(aloft):
    ddb, kin = aloft.client("dynamodb"), aloft.client("kinesis")
    table = make_table(ddb)
    missing = stream_arn(table["TableArn"], "does-not-exist")
    ddb.enable_kinesis_streaming_destination(TableName="orders", StreamArn=missing)
    aloft.advance(2)
    assert destinations(ddb) == [
        {"StreamArn": missing, "DestinationStatus": "ENABLE_FAILED", "DestinationStatusDescription": NO_PERMISSION}
    ]
    arn = make_stream(aloft, "short-lived", shards=1)
    enable_active(aloft, ddb, arn)
    kin.delete_stream(StreamName="short-lived", EnforceConsumerDeletion=True)
    for _ in range(30):
        if not any(s == "short-lived" for s in kin.list_streams()["StreamNames"]):
            break
        aloft.advance(1)
    # The write stands; the record has nowhere to go; AWS keeps describing the destination ACTIVE.
    ddb.put_item(TableName="orders", Item={"pk": {"S": "kept"}})
    assert ddb.get_item(TableName="orders", Key={"pk": {"S": "kept"}})["Item"]["pk"] == {"S": "kept"}
    assert destinations(ddb)[0] == {"StreamArn": arn, "DestinationStatus": "ACTIVE"}


def test_delivery_resumes_after_a_restart_with_a_data_dir(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    ddb, kin = a.client("dynamodb"), a.client("kinesis")
    make_table(ddb)
    arn = make_stream(a, "durable-cdc", shards=1)
    enable_active(a, ddb, arn)
    ddb.put_item(TableName="orders", Item={"pk": {"S": "one"}})
    assert len(wait_records(kin, arn, 1)) == 1
    a.kill()
    b = aloft_factory(data_dir=tmp_path)
    # The clock's offset is not kept across a restart: catch up with the first process.
    b.advance(120)
    ddb, kin = b.client("dynamodb"), b.client("kinesis")
    assert destinations(ddb) == [{"StreamArn": arn, "DestinationStatus": "ACTIVE"}]
    ddb.put_item(TableName="orders", Item={"pk": {"S": "two"}})
    got = wait_records(kin, arn, 2)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for _, r, _ in got] == ["one", "two"]
