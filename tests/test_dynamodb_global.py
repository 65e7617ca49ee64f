"""DynamoDB global tables (version 2019.11.21) inside one Aloft: ReplicaUpdates create and
delete replicas in other regions, writes replicate asynchronously, last writer wins."""

import time

import pytest
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def flush(aloft):
    aloft.internal("POST", "dynamodb/replication/flush")


def make(ddb, name="Glob", **kw):
    ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], **kw)


def replica(region, table_class="STANDARD", **more):
    """A member of DescribeTable's Replicas, as AWS fills it (measured: a same-account replica
    shows no ReplicaArn, and its table class only when it is not STANDARD)."""
    r = {"RegionName": region, "ReplicaStatus": "ACTIVE",
         "WarmThroughput": {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"},
         "GlobalTableSettingsReplicationMode": "ENABLED_WITH_OVERRIDES", **more}
    if table_class != "STANDARD":
        r["ReplicaTableClassSummary"] = {"TableClass": table_class}
    return r


def get(ddb, key, name="Glob"):
    return ddb.get_item(TableName=name, Key={"id": {"S": key}}, ConsistentRead=True).get("Item")


def test_replicas_and_replication(aloft):
    east, west, eu = (aloft.client("dynamodb", region=r) for r in ("us-east-1", "us-west-2", "eu-west-1"))
    make(east, BillingMode="PAY_PER_REQUEST")
    east.put_item(TableName="Glob", Item={"id": {"S": "before"}, "v": {"N": "1"}})

    out = east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert out["TableDescription"]["Replicas"] == [replica("us-west-2")]
    d = west.describe_table(TableName="Glob")["Table"]
    assert d["GlobalTableVersion"] == "2019.11.21"
    assert "MultiRegionConsistency" not in d  # an eventual group does not echo its mode
    assert d["GlobalTableSettingsReplicationMode"] == "ENABLED_WITH_OVERRIDES"
    assert d["Replicas"] == [replica("us-east-1")]
    assert d["TableArn"] == "arn:aws:dynamodb:us-west-2:000000000000:table/Glob"
    assert d["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert get(west, "before")["v"] == {"N": "1"}

    east.put_item(TableName="Glob", Item={"id": {"S": "a"}, "v": {"N": "1"}})
    flush(aloft)
    assert get(west, "a")["v"] == {"N": "1"}
    west.update_item(TableName="Glob", Key={"id": {"S": "a"}}, UpdateExpression="SET v = v + :one",
                     ExpressionAttributeValues={":one": {"N": "1"}})
    flush(aloft)
    assert get(east, "a")["v"] == {"N": "2"}

    # Conflicting writes in two regions before replication: the later one wins everywhere.
    east.put_item(TableName="Glob", Item={"id": {"S": "c"}, "v": {"S": "east"}})
    west.put_item(TableName="Glob", Item={"id": {"S": "c"}, "v": {"S": "west"}})
    flush(aloft)
    assert get(east, "c")["v"] == {"S": "west"} and get(west, "c")["v"] == {"S": "west"}

    # A third region joins and receives writes from either side.
    west.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    regions = {r["RegionName"] for r in east.describe_table(TableName="Glob")["Table"]["Replicas"]}
    assert regions == {"us-west-2", "eu-west-1"}
    east.delete_item(TableName="Glob", Key={"id": {"S": "before"}})
    flush(aloft)
    assert get(eu, "before") is None and get(west, "before") is None
    assert get(eu, "c")["v"] == {"S": "west"}

    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    assert err(e)[0] == "ValidationException"

    east.update_table(TableName="Glob", ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    with pytest.raises(ClientError) as e:
        west.describe_table(TableName="Glob")
    assert err(e)[0] == "ResourceNotFoundException"
    assert eu.describe_table(TableName="Glob")["Table"]["Replicas"] == [replica("us-east-1")]
    east.put_item(TableName="Glob", Item={"id": {"S": "late"}})
    flush(aloft)
    assert get(eu, "late") is not None


def test_replica_rules(aloft):
    east = aloft.client("dynamodb")
    make(east, name="Prov", ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Prov", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert err(e) == ("ValidationException", "Table write capacity should either be Pay-Per-Request or AutoScaled.")
    west = aloft.client("dynamodb", region="us-west-2")
    make(west, name="Taken", BillingMode="PAY_PER_REQUEST")
    make(east, name="Taken", BillingMode="PAY_PER_REQUEST")
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Taken", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert "already existed as tables" in err(e)[1]


def test_global_table_survives_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    east = a.client("dynamodb")
    make(east, BillingMode="PAY_PER_REQUEST")
    east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    east.put_item(TableName="Glob", Item={"id": {"S": "x"}})
    flush(a)
    a.kill()
    b = aloft_factory(data_dir=tmp_path / "d")
    east, west = b.client("dynamodb"), b.client("dynamodb", region="us-west-2")
    assert get(west, "x") is not None
    assert west.describe_table(TableName="Glob")["Table"]["Replicas"] == [replica("us-east-1")]
    west.put_item(TableName="Glob", Item={"id": {"S": "y"}})
    flush(b)
    assert get(east, "y") is not None


def test_table_settings_follow_on_every_replica(aloft):
    east, west = aloft.client("dynamodb"), aloft.client("dynamodb", region="us-west-2")
    make(east, BillingMode="PAY_PER_REQUEST")
    east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    for i in range(5):
        east.put_item(TableName="Glob", Item={"id": {"S": f"k{i}"}, "colour": {"S": "red" if i % 2 else "blue"},
                                              "exp": {"N": str(int(time.time()) - 100)}})
    flush(aloft)
    # A GSI added in the replica's region appears in the other, backfilled.
    west.update_table(TableName="Glob",
                      AttributeDefinitions=[{"AttributeName": "colour", "AttributeType": "S"}],
                      GlobalSecondaryIndexUpdates=[{"Create": {
                          "IndexName": "byColour", "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"}],
                          "Projection": {"ProjectionType": "ALL"}}}])
    d = east.describe_table(TableName="Glob")["Table"]
    assert [g["IndexName"] for g in d["GlobalSecondaryIndexes"]] == ["byColour"]
    assert d["Replicas"] == [replica("us-west-2", GlobalSecondaryIndexes=[{"IndexName": "byColour"}])]
    got = east.query(TableName="Glob", IndexName="byColour", KeyConditionExpression="colour = :c",
                     ExpressionAttributeValues={":c": {"S": "red"}})
    assert sorted(i["id"]["S"] for i in got["Items"]) == ["k1", "k3"]
    # Writes keep both indexes in step.
    west.put_item(TableName="Glob", Item={"id": {"S": "w"}, "colour": {"S": "red"}})
    flush(aloft)
    got = east.query(TableName="Glob", IndexName="byColour", KeyConditionExpression="colour = :c",
                     ExpressionAttributeValues={":c": {"S": "red"}})
    assert sorted(i["id"]["S"] for i in got["Items"]) == ["k1", "k3", "w"]

    # TTL set in one region holds in the other; removing the GSI too. The table class is one
    # of the settings a global table never synchronizes: each replica keeps its own, changed
    # where it is or by a replica update's TableClassOverride.
    east.update_time_to_live(TableName="Glob", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ttl = west.describe_time_to_live(TableName="Glob")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    east.update_table(TableName="Glob", TableClass="STANDARD_INFREQUENT_ACCESS")
    # (no TableClassSummary: a table that never had a class set shows none, as on AWS)
    assert "TableClassSummary" not in west.describe_table(TableName="Glob")["Table"]
    east.update_table(TableName="Glob", ReplicaUpdates=[
        {"Update": {"RegionName": "us-west-2", "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}}])
    assert west.describe_table(TableName="Glob")["Table"]["TableClassSummary"]["TableClass"] == \
        "STANDARD_INFREQUENT_ACCESS"
    east.update_table(TableName="Glob", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "byColour"}}])
    d = west.describe_table(TableName="Glob")["Table"]
    assert "GlobalSecondaryIndexes" not in d
    assert d["Replicas"] == [replica("us-east-1", "STANDARD_INFREQUENT_ACCESS")]
    with pytest.raises(ClientError) as e:
        west.query(TableName="Glob", IndexName="byColour", KeyConditionExpression="colour = :c",
                   ExpressionAttributeValues={":c": {"S": "red"}})
    assert err(e)[0] == "ValidationException"
    # Replication needs the stream.
    with pytest.raises(ClientError) as e:
        west.update_table(TableName="Glob", StreamSpecification={"StreamEnabled": False})
    assert err(e) == ("ValidationException", "One or more parameter values were invalid: "
                      "Disabling Stream is not allowed for a Global Table replica.")
    # Per-replica settings stay put.
    west.update_table(TableName="Glob", DeletionProtectionEnabled=True)
    assert east.describe_table(TableName="Glob")["Table"]["DeletionProtectionEnabled"] is False

    # The TTL sweep in one region deletes the expired items there and replicates the deletes.
    aloft.internal("POST", "dynamodb/ttl/sweep")
    flush(aloft)
    assert east.scan(TableName="Glob")["Count"] == 1 and west.scan(TableName="Glob")["Count"] == 1


def test_replica_table_class_override_at_creation(aloft):
    east = aloft.client("dynamodb")
    make(east, BillingMode="PAY_PER_REQUEST")
    east.update_table(TableName="Glob", ReplicaUpdates=[
        {"Create": {"RegionName": "eu-west-1", "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}}])
    east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    d = east.describe_table(TableName="Glob")["Table"]
    assert "TableClassSummary" not in d
    assert {r["RegionName"]: r.get("ReplicaTableClassSummary") for r in d["Replicas"]} == \
        {"eu-west-1": {"TableClass": "STANDARD_INFREQUENT_ACCESS"}, "us-west-2": None}


def test_no_replication_attributes_are_added(aloft):
    east, west = aloft.client("dynamodb"), aloft.client("dynamodb", region="us-west-2")
    make(east, BillingMode="PAY_PER_REQUEST")
    east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    east.put_item(TableName="Glob", Item={"id": {"S": "a"}, "v": {"N": "1"}})
    flush(aloft)
    west.update_item(TableName="Glob", Key={"id": {"S": "a"}}, UpdateExpression="SET w = :w",
                     ExpressionAttributeValues={":w": {"N": "2"}})
    flush(aloft)
    # Version 2019.11.21 adds no aws:rep:* attributes (version 2017.11.29 did).
    for c in (east, west):
        assert get(c, "a") == {"id": {"S": "a"}, "v": {"N": "1"}, "w": {"N": "2"}}


def test_disassociation(aloft):
    east, west, eu = (aloft.client("dynamodb", region=r) for r in ("us-east-1", "us-west-2", "eu-west-1"))
    make(east, BillingMode="PAY_PER_REQUEST")
    east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    east.update_table(TableName="Glob", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    assert west.describe_table(TableName="Glob")["Table"]["DisassociationProtectionEnabled"] is True

    def refused(client, **kw):
        with pytest.raises(ClientError) as e:
            client.update_table(TableName="Glob", **kw)
        assert err(e)[0] == "ValidationException"
        return err(e)[1]

    leave = [{"Disassociate": {"RegionName": "us-west-2", "DisassociationMode": "WAIT_FOR_REPLICATION"}}]
    assert "protection" in refused(west, ReplicaUpdates=leave)
    assert "cannot be combined" in refused(west, DisassociationProtectionEnabled=False, TableClass="STANDARD")
    d = west.update_table(TableName="Glob", DisassociationProtectionEnabled=False)["TableDescription"]
    assert d["DisassociationProtectionEnabled"] is False
    # The setting is the replica's own.
    assert east.describe_table(TableName="Glob")["Table"]["DisassociationProtectionEnabled"] is True
    assert "only update" in refused(west, ReplicaUpdates=leave + [{"Delete": {"RegionName": "eu-west-1"}}])
    assert "region of the request" in refused(east, ReplicaUpdates=[
        {"Disassociate": {"RegionName": "us-west-2", "DisassociationMode": "WAIT_FOR_REPLICATION"}}])

    east.put_item(TableName="Glob", Item={"id": {"S": "before"}})
    west.update_table(TableName="Glob", ReplicaUpdates=leave)
    t = west.describe_table(TableName="Glob")["Table"]
    assert t["TableStatus"] == "ACTIVE" and "Replicas" not in t
    assert "DisassociationProtectionEnabled" not in t
    assert get(west, "before") is not None  # its items stay
    assert [r["RegionName"] for r in east.describe_table(TableName="Glob")["Table"]["Replicas"]] == ["eu-west-1"]
    # Writes no longer cross between the standalone table and the group.
    west.put_item(TableName="Glob", Item={"id": {"S": "west-only"}})
    east.put_item(TableName="Glob", Item={"id": {"S": "group-only"}})
    flush(aloft)
    assert get(east, "west-only") is None and get(eu, "west-only") is None
    assert get(west, "group-only") is None and get(eu, "group-only") is not None


def test_settings_replication_mode_on_a_regional_table(aloft):
    east = aloft.client("dynamodb")
    make(east, name="Src", BillingMode="PAY_PER_REQUEST")
    assert "GlobalTableSettingsReplicationMode" not in east.describe_table(TableName="Src")["Table"]
    d = east.update_table(TableName="Src", GlobalTableSettingsReplicationMode="ENABLED")["TableDescription"]
    assert d["GlobalTableSettingsReplicationMode"] == "ENABLED"
    east.update_table(TableName="Src", GlobalTableSettingsReplicationMode="DISABLED")
    east.update_table(TableName="Src", GlobalTableSettingsReplicationMode="DISABLED")  # a re-send is fine
    assert east.describe_table(TableName="Src")["Table"]["GlobalTableSettingsReplicationMode"] == "DISABLED"
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Src", GlobalTableSettingsReplicationMode="ENABLED_WITH_OVERRIDES")
    assert err(e) == ("ValidationException",
                      "Value 'ENABLED_WITH_OVERRIDES' at 'GlobalTableSettingsReplicationMode' failed to satisfy "
                      "constraint: Only ENABLED and DISABLED settings replication are supported for a Regional Table.")
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Src", DisassociationProtectionEnabled=False)
    assert err(e)[0] == "ValidationException"
