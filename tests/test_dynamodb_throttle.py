"""Opt-in DynamoDB throttling (`--set dynamodb.throttle=true`): PROVISIONED tables and their
GSIs are charged the capacity each request really consumes (4 KB read units, halved when
eventually consistent, 1 KB write units), with 300 s of burst credit each, refilled by Aloft's
clock; GSI writes use the index's own throughput and throttle base-table writes. On-demand
tables and GSIs with an OnDemandThroughput maximum are throttled past it (ThrottlingException,
one second's worth, no burst credit). Every throttle lists its ThrottlingReasons."""

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError


def no_retry_client(a):
    # botocore retries throttling errors (with backoff) even at max_attempts=1: one attempt only.
    cfg = botocore.config.Config(retries={"total_max_attempts": 1})
    return boto3.client("dynamodb", endpoint_url=a.url, region_name="us-east-1", config=cfg)


@pytest.fixture
def ddb(aloft_factory):
    a = aloft_factory(args=["--set", "dynamodb.throttle=true"])
    c = no_retry_client(a)
    c.create_table(
        TableName="Tight",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"},
                                 "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}],
    )
    return a, c


def code_msg(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_reads_are_charged_their_real_size(ddb):
    a, c = ddb
    big = {"id": {"S": "big"}, "pad": {"S": "x" * (39 * 1024)}}
    w = c.put_item(TableName="Tight", Item=big, ReturnConsumedCapacity="TOTAL")
    assert w["ConsumedCapacity"]["CapacityUnits"] == 40.0
    # A consistent read of a 39 KB item is 10 units: 300 s of 1 RCU is 30 such reads.
    for i in range(30):
        got = c.get_item(TableName="Tight", Key={"id": {"S": "big"}}, ConsistentRead=True,
                         ReturnConsumedCapacity="TOTAL")
        assert got["ConsumedCapacity"]["CapacityUnits"] == 10.0
    with pytest.raises(ClientError) as e:
        c.get_item(TableName="Tight", Key={"id": {"S": "big"}}, ConsistentRead=True)
    assert code_msg(e) == ("ProvisionedThroughputExceededException",
                           "The level of configured provisioned throughput for the table was exceeded. "
                           "Consider increasing your provisioning level with the UpdateTable API.")
    arn = c.describe_table(TableName="Tight")["Table"]["TableArn"]
    assert e.value.response["ThrottlingReasons"] == [
        {"reason": "TableReadProvisionedThroughputExceeded", "resource": arn}]
    # A transaction on the table is cancelled, naming the throttled action.
    with pytest.raises(ClientError) as e:
        c.transact_get_items(TransactItems=[{"Get": {"TableName": "Tight", "Key": {"id": {"S": "big"}}}}])
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["ProvisionedThroughputExceeded"]
    # Writes have their own capacity.
    c.put_item(TableName="Tight", Item={"id": {"S": "small"}})
    # 20 s later there are 20 units again: eventually consistent reads cost half (5 each).
    a.advance(20)
    for _ in range(4):
        c.get_item(TableName="Tight", Key={"id": {"S": "big"}})
    with pytest.raises(ClientError):
        c.get_item(TableName="Tight", Key={"id": {"S": "big"}})
    # Transactional reads cost double: 20 units for a 39 KB read, all that 20 s brings.
    a.advance(20)
    got = c.transact_get_items(TransactItems=[{"Get": {"TableName": "Tight", "Key": {"id": {"S": "big"}}}}],
                               ReturnConsumedCapacity="TOTAL")
    assert got["ConsumedCapacity"][0]["CapacityUnits"] == 20.0
    with pytest.raises(ClientError):
        c.get_item(TableName="Tight", Key={"id": {"S": "big"}})
    # A scan is charged the bytes it read, too.
    a.advance(300)
    for _ in range(30):
        c.scan(TableName="Tight", ConsistentRead=True)
    with pytest.raises(ClientError):
        c.scan(TableName="Tight", ConsistentRead=True)


def test_gsi_writes_use_the_index_throughput(ddb):
    a, c = ddb
    item = lambda i: {"id": {"S": f"i{i}"}, "g": {"S": "G"}, "pad": {"S": "y" * (9 * 1024 + 500)}}
    for i in range(30):
        got = c.put_item(TableName="Tight", Item=item(i), ReturnConsumedCapacity="INDEXES")
        assert got["ConsumedCapacity"]["GlobalSecondaryIndexes"]["byG"]["CapacityUnits"] == 10.0
    # The table has capacity left (5 WCU for 300 s); the index has none.
    with pytest.raises(ClientError) as e:
        c.put_item(TableName="Tight", Item=item(99))
    code, msg = code_msg(e)
    assert code == "ProvisionedThroughputExceededException"
    assert "one or more global secondary indexes" in msg
    arn = c.describe_table(TableName="Tight")["Table"]["TableArn"]
    assert e.value.response["ThrottlingReasons"] == [
        {"reason": "IndexWriteProvisionedThroughputExceeded", "resource": f"{arn}/index/byG"}]
    # Items outside the index are throttled too while it is empty (AWS blocks the table's writes).
    with pytest.raises(ClientError):
        c.put_item(TableName="Tight", Item={"id": {"S": "plain"}})
    a.advance(10)
    c.put_item(TableName="Tight", Item=item(100))


def test_on_demand_tables_are_not_throttled(aloft_factory):
    a = aloft_factory(args=["--set", "dynamodb.throttle=true"])
    c = a.client("dynamodb")
    c.create_table(TableName="Free", BillingMode="PAY_PER_REQUEST",
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                   KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    c.put_item(TableName="Free", Item={"id": {"S": "big"}, "pad": {"S": "x" * (300 * 1024)}})
    for _ in range(10):
        c.put_item(TableName="Free", Item={"id": {"S": "big"}, "pad": {"S": "x" * (300 * 1024)}})


def on_demand_table(c, name, **extra):
    attrs = [{"AttributeName": "id", "AttributeType": "S"}]
    if "GlobalSecondaryIndexes" in extra:
        attrs.append({"AttributeName": "g", "AttributeType": "S"})
    c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=attrs,
                   KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], **extra)
    return c.describe_table(TableName=name)["Table"]["TableArn"]


def test_on_demand_maximum_throttles_per_second(aloft_factory):
    a = aloft_factory(args=["--set", "dynamodb.throttle=true"])
    c = no_retry_client(a)
    arn = on_demand_table(c, "Capped", OnDemandThroughput={"MaxWriteRequestUnits": 1})
    c.put_item(TableName="Capped", Item={"id": {"S": "a"}})
    with pytest.raises(ClientError) as e:
        c.put_item(TableName="Capped", Item={"id": {"S": "b"}})
    assert code_msg(e) == ("ThrottlingException",
                           "Throughput exceeds the maximum OnDemandThroughput configured on table or index")
    assert e.value.response["throttlingReasons"] == [
        {"reason": "TableWriteMaxOnDemandThroughputExceeded", "resource": arn}]
    # Reads have no maximum.
    for _ in range(20):
        c.get_item(TableName="Capped", Key={"id": {"S": "a"}}, ConsistentRead=True)
    # A second later the unit is back; an idle minute still gives only one second's worth.
    a.advance(1)
    c.put_item(TableName="Capped", Item={"id": {"S": "b"}})
    a.advance(60)
    c.put_item(TableName="Capped", Item={"id": {"S": "c"}})
    with pytest.raises(ClientError):
        c.put_item(TableName="Capped", Item={"id": {"S": "d"}})
    # Transactions and PartiQL share the throttle.
    with pytest.raises(ClientError) as e:
        c.transact_write_items(TransactItems=[{"Put": {"TableName": "Capped", "Item": {"id": {"S": "t"}}}}])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["ThrottlingError"]
    with pytest.raises(ClientError) as e:
        c.execute_statement(Statement="INSERT INTO Capped VALUE {'id': 'p'}")
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    # Raising the maximum, or removing it, applies to the next request.
    c.update_table(TableName="Capped", OnDemandThroughput={"MaxWriteRequestUnits": -1})
    for i in range(20):
        c.put_item(TableName="Capped", Item={"id": {"S": f"free{i}"}})


def test_on_demand_gsi_maximum_names_the_index(aloft_factory):
    a = aloft_factory(args=["--set", "dynamodb.throttle=true"])
    c = no_retry_client(a)
    arn = on_demand_table(c, "Idx", GlobalSecondaryIndexes=[{
        "IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
        "OnDemandThroughput": {"MaxReadRequestUnits": 1, "MaxWriteRequestUnits": 1}}])
    c.put_item(TableName="Idx", Item={"id": {"S": "a"}, "g": {"S": "G"}})
    with pytest.raises(ClientError) as e:
        c.put_item(TableName="Idx", Item={"id": {"S": "b"}, "g": {"S": "G"}})
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    assert e.value.response["throttlingReasons"] == [
        {"reason": "IndexWriteMaxOnDemandThroughputExceeded", "resource": f"{arn}/index/byG"}]
    q = dict(TableName="Idx", IndexName="byG", KeyConditionExpression="g = :g",
             ExpressionAttributeValues={":g": {"S": "G"}})
    c.query(**q)
    with pytest.raises(ClientError) as e:
        c.query(**q)
    assert e.value.response["throttlingReasons"][0]["reason"] == "IndexReadMaxOnDemandThroughputExceeded"
    # The table itself has no maximum.
    c.get_item(TableName="Idx", Key={"id": {"S": "a"}})
    a.advance(1)
    c.query(**q)


def test_switching_to_provisioned_drops_the_maximum(aloft_factory):
    a = aloft_factory(args=["--set", "dynamodb.throttle=true"])
    c = no_retry_client(a)
    on_demand_table(c, "Switch", OnDemandThroughput={"MaxWriteRequestUnits": 1})
    c.put_item(TableName="Switch", Item={"id": {"S": "a"}})
    with pytest.raises(ClientError):
        c.put_item(TableName="Switch", Item={"id": {"S": "b"}})
    # Provisioned at 1 WCU the table has 300 s of burst credit at once.
    c.update_table(TableName="Switch", BillingMode="PROVISIONED",
                   ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    for i in range(10):
        c.put_item(TableName="Switch", Item={"id": {"S": f"p{i}"}})


def test_batches_return_what_capacity_left_unprocessed(ddb):
    a, c = ddb
    pad = "x" * (39 * 1024)
    for i in range(4):
        c.put_item(TableName="Tight", Item={"id": {"S": f"b{i}"}, "pad": {"S": pad}})
    # 300 s of 1 RCU is 300 units; 28 consistent 39 KB reads take 280 of them.
    for _ in range(28):
        c.get_item(TableName="Tight", Key={"id": {"S": "b0"}}, ConsistentRead=True)
    keys = [{"id": {"S": f"b{i}"}} for i in range(4)]
    spec = {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "#i",
            "ExpressionAttributeNames": {"#i": "id"}}
    got = c.batch_get_item(RequestItems={"Tight": spec}, ReturnConsumedCapacity="TOTAL")
    # Two reads fit in what is left (the second leaves the table in debt), two come back.
    assert sorted(i["id"]["S"] for i in got["Responses"]["Tight"]) == ["b0", "b1"]
    assert got["UnprocessedKeys"] == {"Tight": {**spec, "Keys": keys[2:]}}
    assert got["ConsumedCapacity"][0]["CapacityUnits"] == 20.0
    # Nothing can be read now: the batch fails as a GetItem would.
    with pytest.raises(ClientError) as e:
        c.batch_get_item(RequestItems={"Tight": got["UnprocessedKeys"]["Tight"]})
    assert e.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert e.value.response["ThrottlingReasons"][0]["reason"] == "TableReadProvisionedThroughputExceeded"
    # The retry AWS's docs prescribe works once capacity is back.
    a.advance(20)
    again = c.batch_get_item(RequestItems=got["UnprocessedKeys"])
    assert sorted(i["id"]["S"] for i in again["Responses"]["Tight"]) == ["b2", "b3"]
    assert again["UnprocessedKeys"] == {}

    # Writes: each 39 KB item in the ALL-projected GSI costs the index 40 of its 300 units.
    puts = [{"PutRequest": {"Item": {"id": {"S": f"w{i}"}, "g": {"S": "G"}, "pad": {"S": pad}}}}
            for i in range(10)]
    out = c.batch_write_item(RequestItems={"Tight": puts})
    assert out["UnprocessedItems"] == {"Tight": puts[8:]}
    with pytest.raises(ClientError) as e:
        c.batch_write_item(RequestItems=out["UnprocessedItems"])
    assert e.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert e.value.response["ThrottlingReasons"][0]["reason"] == "IndexWriteProvisionedThroughputExceeded"
    a.advance(300)
    written = {i["id"]["S"] for i in c.scan(TableName="Tight", ProjectionExpression="id")["Items"]}
    assert {f"w{i}" for i in range(8)} <= written and not {"w8", "w9"} & written
