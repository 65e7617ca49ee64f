"""Item collections of tables with local secondary indexes: ItemCollectionMetrics on writes
and ItemCollectionSizeLimitExceededException (10 GB on AWS; lowered here by a setting)."""

import pytest
from botocore.exceptions import ClientError


def lsi_table(ddb):
    ddb.create_table(
        TableName="Coll", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "alt", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[{"IndexName": "byAlt", "Projection": {"ProjectionType": "ALL"},
                                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                              {"AttributeName": "alt", "KeyType": "RANGE"}]}])


def test_item_collection_metrics(aloft):
    ddb = aloft.client("dynamodb")
    lsi_table(ddb)
    out = ddb.put_item(TableName="Coll", Item={"pk": {"S": "p"}, "sk": {"S": "1"}, "alt": {"S": "a"}},
                       ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"] == {"ItemCollectionKey": {"pk": {"S": "p"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
    out = ddb.put_item(TableName="Coll", Item={"pk": {"S": "p"}, "sk": {"S": "2"}})
    assert "ItemCollectionMetrics" not in out
    out = ddb.delete_item(TableName="Coll", Key={"pk": {"S": "p"}, "sk": {"S": "2"}}, ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"]["ItemCollectionKey"] == {"pk": {"S": "p"}}
    out = ddb.batch_write_item(RequestItems={"Coll": [
        {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"S": "3"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "q"}, "sk": {"S": "3"}}}}]}, ReturnItemCollectionMetrics="SIZE")
    keys = [m["ItemCollectionKey"]["pk"]["S"] for m in out["ItemCollectionMetrics"]["Coll"]]
    assert keys == ["p", "q"]
    out = ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "Coll", "Item": {
        "pk": {"S": "r"}, "sk": {"S": "1"}}}}], ReturnItemCollectionMetrics="SIZE")
    assert out["ItemCollectionMetrics"]["Coll"][0]["ItemCollectionKey"] == {"pk": {"S": "r"}}
    # Tables without LSIs never report item collections.
    ddb.create_table(TableName="Flat", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    out = ddb.put_item(TableName="Flat", Item={"pk": {"S": "p"}}, ReturnItemCollectionMetrics="SIZE")
    assert "ItemCollectionMetrics" not in out


def test_collection_size_limit(aloft_factory):
    a = aloft_factory(args=["--set", "dynamodb.item_collection_limit_bytes=3000"])
    ddb = a.client("dynamodb")
    lsi_table(ddb)
    body = "x" * 600
    # Each item counts twice (table + its LSI entry): two fit, the third does not.
    for i in range(2):
        ddb.put_item(TableName="Coll", Item={"pk": {"S": "p"}, "sk": {"S": str(i)}, "alt": {"S": "a"}, "b": {"S": body}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="Coll", Item={"pk": {"S": "p"}, "sk": {"S": "9"}, "alt": {"S": "a"}, "b": {"S": body}})
    assert e.value.response["Error"]["Code"] == "ItemCollectionSizeLimitExceededException"
    assert e.value.response["Error"]["Message"] == "Collection size exceeded."
    # Another partition key is another collection; shrinking an item is always allowed.
    ddb.put_item(TableName="Coll", Item={"pk": {"S": "q"}, "sk": {"S": "9"}, "alt": {"S": "a"}, "b": {"S": body}})
    ddb.put_item(TableName="Coll", Item={"pk": {"S": "p"}, "sk": {"S": "0"}})
    ddb.put_item(TableName="Coll", Item={"pk": {"S": "p"}, "sk": {"S": "9"}, "alt": {"S": "a"}, "b": {"S": body}})
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={"Coll": [{"PutRequest": {"Item": {
            "pk": {"S": "p"}, "sk": {"S": "7"}, "alt": {"S": "a"}, "b": {"S": body}}}}]})
    assert e.value.response["Error"]["Code"] == "ItemCollectionSizeLimitExceededException"
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "Coll", "Item": {
            "pk": {"S": "p"}, "sk": {"S": "8"}, "alt": {"S": "a"}, "b": {"S": body}}}}])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["ItemCollectionSizeLimitExceeded"]
