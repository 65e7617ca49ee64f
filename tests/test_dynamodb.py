"""DynamoDB through boto3 (client and Table resource) and the AWS CLI.

Covers seed 004's lab (create_table + table_exists waiter, put_item, query with
KeyConditionExpression + ProjectionExpression, update_item, a paginator over more than 1 MB),
optimistic locking with a version attribute (seed 001), indexes, expressions and their errors.
"""

import json
from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def notes_table(ddb, name="Notes", **extra):
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "UserId", "AttributeType": "S"},
            {"AttributeName": "NoteId", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "UserId", "KeyType": "HASH"},
            {"AttributeName": "NoteId", "KeyType": "RANGE"},
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        **extra,
    )


def test_seed_004_notes_lab(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    ddb.get_waiter("table_exists").wait(TableName="Notes", WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    desc = ddb.describe_table(TableName="Notes")["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/Notes"

    for i in range(1, 4):
        ddb.put_item(
            TableName="Notes",
            Item={"UserId": {"S": "student"}, "NoteId": {"N": str(i)}, "Note": {"S": f"note {i}"},
                  "Is_Incomplete": {"S": "No"}},
        )
    ddb.put_item(TableName="Notes", Item={"UserId": {"S": "other"}, "NoteId": {"N": "1"}, "Note": {"S": "x"}})

    resp = ddb.query(
        TableName="Notes",
        KeyConditionExpression="UserId = :userId",
        ExpressionAttributeValues={":userId": {"S": "student"}},
        ProjectionExpression="NoteId, Note",
    )
    assert resp["Count"] == 3
    assert resp["Items"][0] == {"NoteId": {"N": "1"}, "Note": {"S": "note 1"}}

    out = ddb.update_item(
        TableName="Notes",
        Key={"UserId": {"S": "student"}, "NoteId": {"N": "2"}},
        UpdateExpression="SET Is_Incomplete = :incomplete",
        ExpressionAttributeValues={":incomplete": {"S": "Yes"}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"]["Is_Incomplete"] == {"S": "Yes"}
    assert desc["ItemCount"] == 0
    assert ddb.describe_table(TableName="Notes")["Table"]["ItemCount"] == 4


def test_paginator_over_more_than_one_megabyte(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    big = "x" * 100_000
    with aloft.resource("dynamodb").Table("Notes").batch_writer() as bw:
        for i in range(25):
            bw.put_item(Item={"UserId": "u", "NoteId": i, "Body": big})
    pages = list(ddb.get_paginator("query").paginate(
        TableName="Notes", KeyConditionExpression="UserId = :u",
        ExpressionAttributeValues={":u": {"S": "u"}}))
    assert len(pages) == 3, [p["Count"] for p in pages]
    assert [p["Count"] for p in pages] == [11, 11, 3]
    ids = [int(i["NoteId"]["N"]) for p in pages for i in p["Items"]]
    assert ids == list(range(25))
    scan_pages = list(ddb.get_paginator("scan").paginate(TableName="Notes"))
    assert sum(p["Count"] for p in scan_pages) == 25 and len(scan_pages) == 3


def test_resource_key_and_attr_conditions(aloft):
    res = aloft.resource("dynamodb")
    notes_table(res.meta.client)
    t = res.Table("Notes")
    for i in range(10):
        t.put_item(Item={"UserId": "a", "NoteId": i, "tags": {"x", f"t{i}"}, "n": Decimal(i) * Decimal("1.5")})
    got = t.query(KeyConditionExpression=Key("UserId").eq("a") & Key("NoteId").between(3, 6),
                  FilterExpression=Attr("n").gt(5) & Attr("tags").contains("x"))
    assert [int(i["NoteId"]) for i in got["Items"]] == [4, 5, 6]
    assert got["ScannedCount"] == 4
    got = t.query(KeyConditionExpression=Key("UserId").eq("a"), ScanIndexForward=False, Limit=2)
    assert [int(i["NoteId"]) for i in got["Items"]] == [9, 8]
    assert got["LastEvaluatedKey"] == {"UserId": "a", "NoteId": 8}
    got = t.scan(FilterExpression=Attr("NoteId").is_in([1, 2]) | Attr("missing").exists())
    assert sorted(int(i["NoteId"]) for i in got["Items"]) == [1, 2]
    item = t.get_item(Key={"UserId": "a", "NoteId": 3})["Item"]
    assert item["n"] == Decimal("4.5") and item["tags"] == {"x", "t3"}


def test_optimistic_locking_with_version(aloft):
    t = aloft.resource("dynamodb")
    t.create_table(TableName="Acct", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                   BillingMode="PAY_PER_REQUEST")
    t = t.Table("Acct")
    t.put_item(Item={"id": "1", "balance": 100, "version": 1}, ConditionExpression="attribute_not_exists(id)")
    with pytest.raises(ClientError) as e:
        t.put_item(Item={"id": "1", "balance": 0, "version": 1}, ConditionExpression="attribute_not_exists(id)")
    assert err(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    t.update_item(Key={"id": "1"}, UpdateExpression="SET balance = balance - :d, version = version + :one",
                  ConditionExpression="version = :v",
                  ExpressionAttributeValues={":d": 30, ":one": 1, ":v": 1})
    with pytest.raises(ClientError) as e:
        t.update_item(Key={"id": "1"}, UpdateExpression="SET balance = :b", ConditionExpression="version = :v",
                      ExpressionAttributeValues={":b": 0, ":v": 1},
                      ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert e.value.response["Item"]["version"] == {"N": "2"}
    assert t.get_item(Key={"id": "1"}, ConsistentRead=True)["Item"] == {"id": "1", "balance": 70, "version": 2}


def test_expression_errors_match_aws(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    key = {"UserId": {"S": "u"}, "NoteId": {"N": "1"}}
    cases = [
        (dict(UpdateExpression="SET a = :v x", ExpressionAttributeValues={":v": {"S": "1"}}),
         'Invalid UpdateExpression: Syntax error; token: "x", near: ":v x"'),
        (dict(UpdateExpression="SET status = :v", ExpressionAttributeValues={":v": {"S": "1"}}),
         "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"),
        (dict(UpdateExpression="SET #s = :v", ExpressionAttributeValues={":v": {"S": "1"}}),
         "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #s"),
        (dict(UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": {"S": "1"}, ":w": {"S": "2"}}),
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
        (dict(UpdateExpression="SET UserId = :v", ExpressionAttributeValues={":v": {"S": "1"}}),
         "One or more parameter values were invalid: Cannot update attribute UserId. This attribute is part of the key"),
        (dict(UpdateExpression="ADD a :v", ExpressionAttributeValues={":v": {"S": "1"}}),
         "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.update_item(TableName="Notes", Key=key, **kwargs)
        assert err(e) == ("ValidationException", message)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_item_and_key_errors(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}})
    assert err(e) == ("ValidationException", "One or more parameter values were invalid: Missing the key NoteId in the item")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Notes", Item={"UserId": {"N": "1"}, "NoteId": {"N": "1"}})
    assert err(e)[1] == "One or more parameter values were invalid: Type mismatch for key UserId expected: S actual: N"
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName="Notes", Key={"UserId": {"S": "u"}})
    assert err(e) == ("ValidationException", "The provided key element does not match the schema")
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName="Nope", Key={"UserId": {"S": "u"}})
    assert err(e) == ("ResourceNotFoundException", "Requested resource not found")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}, "NoteId": {"N": "1"}, "x": {"SS": []}})
    assert err(e)[1] == "One or more parameter values were invalid: An string set  may not be empty"
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}, "NoteId": {"N": "1e126"}})
    assert err(e)[1] == "Number overflow. Attempting to store a number with magnitude larger than supported range"
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}, "NoteId": {"N": "1"}, "b": {"S": "x" * 410_000}})
    assert err(e)[1] == "Item size has exceeded the maximum allowed size"
    with pytest.raises(ClientError) as e:
        notes_table(ddb)
    assert err(e) == ("ResourceInUseException", "Table already exists: Notes")
    ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}, "NoteId": {"N": "1.50"}, "v": {"N": "-0.0100"}})
    item = ddb.get_item(TableName="Notes", Key={"UserId": {"S": "u"}, "NoteId": {"N": "15e-1"}})["Item"]
    assert item["NoteId"] == {"N": "1.5"} and item["v"] == {"N": "-0.01"}


def test_number_and_string_sort_orders(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    for n in ["10", "-2", "3.5", "0", "-10.25", "1e2"]:
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}, "NoteId": {"N": n}})
    got = ddb.query(TableName="Notes", KeyConditionExpression="UserId = :u AND NoteId > :z",
                    ExpressionAttributeValues={":u": {"S": "u"}, ":z": {"N": "-5"}})
    assert [i["NoteId"]["N"] for i in got["Items"]] == ["-2", "0", "3.5", "10", "100"]
    ddb.create_table(TableName="Strs", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}, {"AttributeName": "s", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}, {"AttributeName": "s", "KeyType": "RANGE"}])
    for s in ["b", "a", "B", "ab", "é", "a0"]:
        ddb.put_item(TableName="Strs", Item={"p": {"S": "x"}, "s": {"S": s}})
    got = ddb.query(TableName="Strs", KeyConditionExpression="p = :p AND begins_with(s, :a)",
                    ExpressionAttributeValues={":p": {"S": "x"}, ":a": {"S": "a"}})
    assert [i["s"]["S"] for i in got["Items"]] == ["a", "a0", "ab"]
    got = ddb.query(TableName="Strs", KeyConditionExpression="p = :p", ExpressionAttributeValues={":p": {"S": "x"}})
    assert [i["s"]["S"] for i in got["Items"]] == ["B", "a", "a0", "ab", "b", "é"]


def test_global_and_local_secondary_indexes(aloft):
    ddb = aloft.client("dynamodb")
    ddb.create_table(
        TableName="Orders", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                              [("pk", "S"), ("sk", "S"), ("status", "S"), ("total", "N")]],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "byStatus", "KeySchema": [
            {"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "total", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        LocalSecondaryIndexes=[{"IndexName": "byTotal", "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "total", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}}],
    )
    for i, (status, total) in enumerate([("open", 30), ("done", 10), ("open", 20), (None, 5)]):
        item = {"pk": {"S": "c1"}, "sk": {"S": f"o{i}"}, "total": {"N": str(total)}, "note": {"S": "n"}, "x": {"S": "y"}}
        if status:
            item["status"] = {"S": status}
        ddb.put_item(TableName="Orders", Item=item)
    got = ddb.query(TableName="Orders", IndexName="byStatus", KeyConditionExpression="#s = :o",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":o": {"S": "open"}})
    assert [i["sk"]["S"] for i in got["Items"]] == ["o2", "o0"]
    assert set(got["Items"][0]) == {"pk", "sk", "status", "total"}
    got = ddb.query(TableName="Orders", IndexName="byTotal", KeyConditionExpression="pk = :c AND #t >= :t",
                    ExpressionAttributeNames={"#t": "total"},
                    ExpressionAttributeValues={":c": {"S": "c1"}, ":t": {"N": "10"}}, Limit=2)
    assert [i["sk"]["S"] for i in got["Items"]] == ["o1", "o2"]
    assert set(got["Items"][0]) == {"pk", "sk", "total", "note"}
    assert set(got["LastEvaluatedKey"]) == {"pk", "sk", "total"}
    got = ddb.query(TableName="Orders", IndexName="byTotal", KeyConditionExpression="pk = :c AND #t >= :t",
                    ExpressionAttributeNames={"#t": "total"},
                    ExpressionAttributeValues={":c": {"S": "c1"}, ":t": {"N": "10"}},
                    ExclusiveStartKey=got["LastEvaluatedKey"])
    assert [i["sk"]["S"] for i in got["Items"]] == ["o0"]
    assert ddb.scan(TableName="Orders", IndexName="byStatus")["Count"] == 3
    with pytest.raises(ClientError) as e:
        ddb.query(TableName="Orders", IndexName="nope", KeyConditionExpression="pk = :c",
                  ExpressionAttributeValues={":c": {"S": "c1"}})
    assert err(e) == ("ValidationException", "The table does not have the specified index: nope")
    # Updating the indexed attribute moves the entry.
    ddb.update_item(TableName="Orders", Key={"pk": {"S": "c1"}, "sk": {"S": "o0"}},
                    UpdateExpression="SET #s = :d", ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":d": {"S": "done"}})
    got = ddb.query(TableName="Orders", IndexName="byStatus", KeyConditionExpression="#s = :o",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":o": {"S": "done"}},
                    Select="COUNT")
    assert got["Count"] == 2 and "Items" not in got
    desc = ddb.describe_table(TableName="Orders")["Table"]
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 3


def test_batches_and_transactions(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    ddb.batch_write_item(RequestItems={"Notes": [
        {"PutRequest": {"Item": {"UserId": {"S": "u"}, "NoteId": {"N": str(i)}}}} for i in range(25)]})
    got = ddb.batch_get_item(RequestItems={"Notes": {"Keys": [
        {"UserId": {"S": "u"}, "NoteId": {"N": str(i)}} for i in (1, 2, 99)]}})
    assert len(got["Responses"]["Notes"]) == 2 and got["UnprocessedKeys"] == {}
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={"Notes": [
            {"DeleteRequest": {"Key": {"UserId": {"S": "u"}, "NoteId": {"N": "1"}}}}] * 2})
    assert err(e) == ("ValidationException", "Provided list of item keys contains duplicates")

    key = lambda n: {"UserId": {"S": "u"}, "NoteId": {"N": str(n)}}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "Notes", "Item": {**key(100), "a": {"S": "x"}}}},
            {"ConditionCheck": {"TableName": "Notes", "Key": key(1), "ConditionExpression": "attribute_not_exists(UserId)",
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Delete": {"TableName": "Notes", "Key": key(2)}},
        ])
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = e.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert reasons[1]["Item"] == key(1)
    assert "Item" not in ddb.get_item(TableName="Notes", Key=key(100))
    assert "Item" in ddb.get_item(TableName="Notes", Key=key(2))

    req = dict(TransactItems=[
        {"Update": {"TableName": "Notes", "Key": key(1), "UpdateExpression": "ADD c :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": "Notes", "Key": key(2)}}], ClientRequestToken="tok-1")
    ddb.transact_write_items(**req)
    ddb.transact_write_items(**req)  # idempotent: applied once
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "Notes", "Key": key(1)}},
                                                {"Get": {"TableName": "Notes", "Key": key(2)}}])
    assert got["Responses"][0]["Item"]["c"] == {"N": "1"} and got["Responses"][1] == {}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Delete": {"TableName": "Notes", "Key": key(3)}},
                                                {"Delete": {"TableName": "Notes", "Key": key(3)}}])
    assert err(e)[1] == "Transaction request cannot include multiple operations on one item"


def test_consumed_capacity(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    item = {"UserId": {"S": "u"}, "NoteId": {"N": "1"}, "b": {"S": "x" * 5000}}
    out = ddb.put_item(TableName="Notes", Item=item, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 5.0
    key = {"UserId": {"S": "u"}, "NoteId": {"N": "1"}}
    out = ddb.get_item(TableName="Notes", Key=key, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0
    out = ddb.get_item(TableName="Notes", Key=key, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["CapacityUnits"] == 2.0
    out = ddb.transact_write_items(TransactItems=[{"Delete": {"TableName": "Notes", "Key": key}}],
                                   ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"][0]["CapacityUnits"] == 10.0


def test_streams_and_ttl(aloft):
    ddb = aloft.client("dynamodb")
    streams = aloft.client("dynamodbstreams")
    notes_table(ddb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = ddb.describe_table(TableName="Notes")["Table"]["LatestStreamArn"]
    assert arn.startswith("arn:aws:dynamodb:us-east-1:000000000000:table/Notes/stream/")
    ddb.update_time_to_live(TableName="Notes", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(aloft.internal("GET", "clock")["now_ms"] / 1000)
    key = {"UserId": {"S": "u"}, "NoteId": {"N": "1"}}
    ddb.put_item(TableName="Notes", Item={**key, "exp": {"N": str(now + 60)}})
    ddb.update_item(TableName="Notes", Key=key, UpdateExpression="SET exp = :e",
                    ExpressionAttributeValues={":e": {"N": str(now - 1)}})
    # Expired but not yet swept: still readable, as on AWS.
    assert "Item" in ddb.get_item(TableName="Notes", Key=key)
    assert aloft.internal("POST", "dynamodb/ttl/sweep")["deleted"] == 1
    assert "Item" not in ddb.get_item(TableName="Notes", Key=key)

    s = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert s["StreamStatus"] == "ENABLED" and s["TableName"] == "Notes"
    shard = s["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = streams.get_records(ShardIterator=it)["Records"]
    assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    assert recs[1]["dynamodb"]["OldImage"]["exp"] == {"N": str(now + 60)}
    assert recs[1]["dynamodb"]["NewImage"]["exp"] == {"N": str(now - 1)}
    assert recs[2]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
    assert seqs == sorted(seqs)
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                    SequenceNumber=recs[1]["dynamodb"]["SequenceNumber"])["ShardIterator"]
    assert [r["eventName"] for r in streams.get_records(ShardIterator=it)["Records"]] == ["REMOVE"]
    assert streams.list_streams()["Streams"][0]["StreamArn"] == arn


def test_cli_round_trip(aloft):
    aloft.cli("dynamodb", "create-table", "--table-name", "Cli", "--billing-mode", "PAY_PER_REQUEST",
              "--attribute-definitions", "AttributeName=id,AttributeType=S",
              "--key-schema", "AttributeName=id,KeyType=HASH")
    aloft.cli("dynamodb", "wait", "table-exists", "--table-name", "Cli")
    aloft.cli("dynamodb", "put-item", "--table-name", "Cli", "--item", json.dumps({"id": {"S": "1"}, "v": {"N": "7"}}))
    got = aloft.cli_json("dynamodb", "get-item", "--table-name", "Cli", "--key", json.dumps({"id": {"S": "1"}}))
    assert got["Item"]["v"] == {"N": "7"}
    assert aloft.cli_json("dynamodb", "list-tables")["TableNames"] == ["Cli"]
    p = aloft.cli("dynamodb", "describe-table", "--table-name", "Nope", check=False)
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr


def test_table_lifecycle_and_tags(aloft):
    ddb = aloft.client("dynamodb")
    for n in ["tab1", "tab2", "tab3"]:
        ddb.create_table(TableName=n, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    page = ddb.list_tables(Limit=2)
    assert page["TableNames"] == ["tab1", "tab2"] and page["LastEvaluatedTableName"] == "tab2"
    assert ddb.list_tables(ExclusiveStartTableName="tab2")["TableNames"] == ["tab3"]
    arn = ddb.describe_table(TableName="tab1")["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    ddb.delete_table(TableName="tab1")
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName="tab1")
    assert err(e) == ("ResourceNotFoundException", "Requested resource not found: Table: tab1 not found")
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName="bad", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    assert err(e)[1].startswith("One or more parameter values were invalid: Some index key attributes are not defined")


def test_survives_restart_with_data_dir(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    ddb = a.client("dynamodb")
    notes_table(ddb, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    for i in range(50):
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}, "NoteId": {"N": str(i)}})
    ddb.delete_item(TableName="Notes", Key={"UserId": {"S": "u"}, "NoteId": {"N": "7"}})
    a.kill()
    b = aloft_factory(data_dir=tmp_path / "d")
    ddb = b.client("dynamodb")
    got = ddb.query(TableName="Notes", KeyConditionExpression="UserId = :u",
                    ExpressionAttributeValues={":u": {"S": "u"}}, Select="COUNT")
    assert got["Count"] == 49
    arn = ddb.describe_table(TableName="Notes")["Table"]["LatestStreamArn"]
    st = b.client("dynamodbstreams")
    shard = st.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = st.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(st.get_records(ShardIterator=it)["Records"]) == 51


def test_backup_and_restore(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    for i in range(3):
        ddb.put_item(TableName="Notes", Item={"UserId": {"S": "u"}, "NoteId": {"N": str(i)}})
    b = ddb.create_backup(TableName="Notes", BackupName="nightly")["BackupDetails"]
    assert b["BackupStatus"] == "AVAILABLE" and "/backup/" in b["BackupArn"]
    ddb.delete_item(TableName="Notes", Key={"UserId": {"S": "u"}, "NoteId": {"N": "0"}})
    desc = ddb.describe_backup(BackupArn=b["BackupArn"])["BackupDescription"]
    assert desc["SourceTableDetails"]["ItemCount"] == 3
    assert [s["BackupName"] for s in ddb.list_backups(TableName="Notes")["BackupSummaries"]] == ["nightly"]
    out = ddb.restore_table_from_backup(TargetTableName="Restored", BackupArn=b["BackupArn"])
    assert out["TableDescription"]["RestoreSummary"]["SourceBackupArn"] == b["BackupArn"]
    assert ddb.scan(TableName="Restored")["Count"] == 3
    assert ddb.scan(TableName="Notes")["Count"] == 2
    with pytest.raises(ClientError) as e:
        ddb.restore_table_from_backup(TargetTableName="Notes", BackupArn=b["BackupArn"])
    assert err(e) == ("TableAlreadyExistsException", "Table already exists: Notes")
    ddb.delete_backup(BackupArn=b["BackupArn"])
    with pytest.raises(ClientError) as e:
        ddb.describe_backup(BackupArn=b["BackupArn"])
    assert err(e)[0] == "BackupNotFoundException"


def test_legacy_parameters(aloft):
    ddb = aloft.client("dynamodb")
    notes_table(ddb)
    key = {"UserId": {"S": "u"}, "NoteId": {"N": "1"}}
    ddb.put_item(TableName="Notes", Item={**key, "a": {"S": "x"}, "n": {"N": "1"}},
                 Expected={"UserId": {"Exists": False}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Notes", Item=key, Expected={"UserId": {"Exists": False}})
    assert err(e)[0] == "ConditionalCheckFailedException"
    ddb.update_item(TableName="Notes", Key=key,
                    AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "5"}}, "a": {"Action": "DELETE"}},
                    Expected={"n": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}})
    got = ddb.get_item(TableName="Notes", Key=key, AttributesToGet=["n", "a"])
    assert got["Item"] == {"n": {"N": "6"}}
    got = ddb.query(TableName="Notes", KeyConditions={
        "UserId": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "u"}]},
        "NoteId": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "1"}]}},
        QueryFilter={"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}})
    assert got["Count"] == 1
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName="Notes", Key=key, AttributesToGet=["n"], ProjectionExpression="n")
    assert err(e)[1] == ("Can not use both expression and non-expression parameters in the same request: "
                         "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")


def test_malformed_requests(aloft):
    import urllib.request
    req = urllib.request.Request(aloft.url + "/", data=b"{not json", method="POST", headers={
        "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("expected an error")
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        assert e.code == 400
        assert body["__type"] == "com.amazon.coral.service#SerializationException"
    ddb = aloft.client("dynamodb")
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName="x")
    assert err(e)[0] == "ValidationException"
