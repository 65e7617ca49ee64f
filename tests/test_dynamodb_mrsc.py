"""DynamoDB global tables with multi-Region strong consistency (MRSC) inside one Aloft:
three replicas or two and a witness in MRSC-capable regions, writes that answer once every replica
holds them, ReplicatedWriteConflictException for a write racing one from another region, and
what MRSC tables refuse. The refusal texts are AWS's, as measured by the ack-api-quirks probes
(DDB-TABLE-202/257/260/261)."""

import threading

import pytest
from botocore.exceptions import ClientError

US = ("us-east-1", "us-east-2", "us-west-2")
ONLY_ONE = "Deletion of only one table replica is not supported for global tables with MultiRegionConsistency set to STRONG."
COUNT = "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG."


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def clients(aloft, regions=US):
    return [aloft.client("dynamodb", region=r) for r in regions]


def make(ddb, name="Strong", **kw):
    kw.setdefault("BillingMode", "PAY_PER_REQUEST")
    ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], **kw)


def get(ddb, key, name="Strong"):
    return ddb.get_item(TableName=name, Key={"id": {"S": key}}, ConsistentRead=True).get("Item")


def three_replicas(east):
    return east.update_table(TableName="Strong", MultiRegionConsistency="STRONG", ReplicaUpdates=[
        {"Create": {"RegionName": "us-east-2"}}, {"Create": {"RegionName": "us-west-2"}}])["TableDescription"]


def test_three_replicas_and_strongly_consistent_reads(aloft):
    east, ohio, oregon = clients(aloft)
    make(east)
    d = three_replicas(east)
    assert d["MultiRegionConsistency"] == "STRONG"
    assert {r["RegionName"] for r in d["Replicas"]} == {"us-east-2", "us-west-2"}
    for c, region in zip((east, ohio, oregon), US):
        t = c.describe_table(TableName="Strong")["Table"]
        assert t["MultiRegionConsistency"] == "STRONG"
        assert t["GlobalTableVersion"] == "2019.11.21"
        assert "GlobalTableWitnesses" not in t
        others = sorted(r for r in US if r != region)
        assert [r["RegionName"] for r in sorted(t["Replicas"], key=lambda r: r["RegionName"])] == others
        for r in t["Replicas"]:
            assert r["ReplicaStatus"] == "ACTIVE"
            assert r["GlobalTableSettingsReplicationMode"] == "ENABLED_WITH_OVERRIDES"
            assert "ReplicaArn" not in r and "ReplicaTableClassSummary" not in r

    # No flush: the write has answered, so every replica already holds it.
    for i in range(20):
        writer = (east, ohio, oregon)[i % 3]
        writer.put_item(TableName="Strong", Item={"id": {"S": "k"}, "n": {"N": str(i)}})
        for reader in (east, ohio, oregon):
            assert get(reader, "k")["n"] == {"N": str(i)}
    oregon.update_item(TableName="Strong", Key={"id": {"S": "k"}}, UpdateExpression="SET n = n + :one",
                       ExpressionAttributeValues={":one": {"N": "1"}})
    assert get(east, "k")["n"] == {"N": "20"}
    ohio.batch_write_item(RequestItems={"Strong": [{"PutRequest": {"Item": {"id": {"S": f"b{i}"}}}}
                                                   for i in range(5)]})
    assert all(get(oregon, f"b{i}") is not None for i in range(5))
    east.delete_item(TableName="Strong", Key={"id": {"S": "k"}})
    assert get(ohio, "k") is None and get(oregon, "k") is None

    # One replica cannot leave alone, by DeleteTable or UpdateTable.
    with pytest.raises(ClientError) as e:
        oregon.delete_table(TableName="Strong")
    assert err(e) == ("ValidationException", ONLY_ONE)
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Strong", ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    assert err(e) == ("ValidationException", ONLY_ONE)
    # Back to a regional table: both other replicas removed at once.
    east.update_table(TableName="Strong", ReplicaUpdates=[
        {"Delete": {"RegionName": "us-east-2"}}, {"Delete": {"RegionName": "us-west-2"}}])
    t = east.describe_table(TableName="Strong")["Table"]
    assert "Replicas" not in t and "MultiRegionConsistency" not in t
    for c in (ohio, oregon):
        with pytest.raises(ClientError) as e:
            c.describe_table(TableName="Strong")
        assert err(e)[0] == "ResourceNotFoundException"


def test_two_replicas_and_a_witness(aloft):
    east, ohio, oregon = clients(aloft)
    make(east)
    d = east.update_table(TableName="Strong", MultiRegionConsistency="STRONG",
                          ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                          GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}}])["TableDescription"]
    assert d["GlobalTableWitnesses"] == [{"RegionName": "us-west-2", "WitnessStatus": "ACTIVE"}]
    t = ohio.describe_table(TableName="Strong")["Table"]
    assert t["MultiRegionConsistency"] == "STRONG"
    assert [r["RegionName"] for r in t["Replicas"]] == ["us-east-1"]
    assert t["GlobalTableWitnesses"] == [{"RegionName": "us-west-2", "WitnessStatus": "ACTIVE"}]
    # A witness holds no table: nothing to read or write there.
    with pytest.raises(ClientError) as e:
        oregon.get_item(TableName="Strong", Key={"id": {"S": "x"}})
    assert err(e)[0] == "ResourceNotFoundException"
    ohio.put_item(TableName="Strong", Item={"id": {"S": "x"}, "v": {"S": "ohio"}})
    assert get(east, "x")["v"] == {"S": "ohio"}

    # The witness leaves only with the other replica, in one call.
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Strong", GlobalTableWitnessUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    assert err(e)[0] == "ValidationException"
    assert err(e)[1].startswith("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, ")
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Strong", ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}])
    assert err(e) == ("ValidationException", "Update table delete operation does not include all witnesses.")
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="Strong", ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}],
                          GlobalTableWitnessUpdates=[{"Delete": {"RegionName": "eu-west-1"}}])
    assert err(e) == ("ValidationException",
                      "Update global table operation failed because one or more witnesses were not part of the "
                      "global table. Please retry the request without these witnesses: [eu-west-1].")
    east.update_table(TableName="Strong", ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}],
                      GlobalTableWitnessUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    t = east.describe_table(TableName="Strong")["Table"]
    assert "GlobalTableWitnesses" not in t and "Replicas" not in t
    assert get(east, "x")["v"] == {"S": "ohio"}


def test_group_rules(aloft):
    east, ohio, oregon = clients(aloft)
    ireland = aloft.client("dynamodb", region="eu-west-1")

    def refused(**kw):
        with pytest.raises(ClientError) as e:
            east.update_table(TableName="Strong", **kw)
        code, msg = err(e)
        assert code == "ValidationException"
        return msg

    make(east)
    assert refused(MultiRegionConsistency="STRONG",
                   ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}]) == COUNT
    assert refused(MultiRegionConsistency="STRONG", ReplicaUpdates=[
        {"Create": {"RegionName": "us-east-2"}}, {"Create": {"RegionName": "us-west-1"}}]) == \
        "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [us-west-1]."
    assert refused(ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                   GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}}]) == \
        "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present."
    assert refused(MultiRegionConsistency="STRONG", ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                   GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-east-2"}}]) == \
        "Cannot target multiple regions with the same action"
    assert refused(MultiRegionConsistency="STRONG", ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                   GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-east-1"}}]).startswith(
        "Cannot add a witness in the same region as an existing replica")
    assert refused(MultiRegionConsistency="STRONG", DeletionProtectionEnabled=True, ReplicaUpdates=[
        {"Create": {"RegionName": "us-east-2"}}, {"Create": {"RegionName": "us-west-2"}}]) == \
        "One or more parameter values were invalid: Requests that modify replicas or witnesses must not also modify other fields"
    # Nothing was created by the refusals.
    for c in (ohio, oregon, ireland):
        with pytest.raises(ClientError):
            c.describe_table(TableName="Strong")

    east.put_item(TableName="Strong", Item={"id": {"S": "a"}})
    assert "must be empty" in refused(MultiRegionConsistency="STRONG", ReplicaUpdates=[
        {"Create": {"RegionName": "us-east-2"}}, {"Create": {"RegionName": "us-west-2"}}])
    east.delete_item(TableName="Strong", Key={"id": {"S": "a"}})
    three_replicas(east)
    # The membership of an MRSC group is frozen.
    assert refused(ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}]) == ONLY_ONE
    assert refused(ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}]) == \
        "Cannot add replicas to a global table with strong MultiRegionConsistency"
    assert refused(MultiRegionConsistency="STRONG", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}]) == COUNT
    assert refused(MultiRegionConsistency="EVENTUAL", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}]) == \
        "MultiRegionConsistency parameter is unsupported on existing global table"
    assert refused(MultiRegionConsistency="STRONG", ReplicaUpdates=[{"Delete": {"RegionName": "us-east-2"}}]) == \
        "Only Replica Create actions are supported when MultiRegionConsistency parameter is provided."

    # An eventually consistent global table cannot become strong; it does not echo its mode.
    make(ireland, name="Eventual")
    d = ireland.update_table(TableName="Eventual", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-2"}}])
    assert "MultiRegionConsistency" not in d["TableDescription"]
    with pytest.raises(ClientError) as e:
        ireland.update_table(TableName="Eventual", MultiRegionConsistency="STRONG",
                             ReplicaUpdates=[{"Create": {"RegionName": "eu-west-3"}}])
    assert err(e) == ("ValidationException", COUNT)
    with pytest.raises(ClientError) as e:
        ireland.update_table(TableName="Eventual", MultiRegionConsistency="STRONG",
                             ReplicaUpdates=[{"Create": {"RegionName": "eu-west-3"}}],
                             GlobalTableWitnessUpdates=[{"Create": {"RegionName": "eu-central-1"}}])
    assert err(e)[0] == "ValidationException"
    # Measured: a group may span continents (a eu-west-1 replica, a us-east-2 witness).
    make(ireland, name="Across")
    ireland.update_table(TableName="Across", MultiRegionConsistency="STRONG",
                         ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}],
                         GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-east-2"}}])
    # A regional table shows no consistency mode.
    make(east, name="Regional")
    assert "MultiRegionConsistency" not in east.describe_table(TableName="Regional")["Table"]


def test_what_strong_tables_refuse(aloft):
    east, ohio, _ = clients(aloft)
    east.create_table(TableName="WithLsi",
                      AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                            {"AttributeName": "s", "AttributeType": "S"},
                                            {"AttributeName": "l", "AttributeType": "S"}],
                      KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                                 {"AttributeName": "s", "KeyType": "RANGE"}],
                      LocalSecondaryIndexes=[{"IndexName": "byL", "KeySchema": [
                          {"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
                          "Projection": {"ProjectionType": "ALL"}}],
                      BillingMode="PAY_PER_REQUEST")
    with pytest.raises(ClientError) as e:
        east.update_table(TableName="WithLsi", MultiRegionConsistency="STRONG", ReplicaUpdates=[
            {"Create": {"RegionName": "us-east-2"}}, {"Create": {"RegionName": "us-west-2"}}])
    assert err(e)[0] == "ValidationException" and "Local secondary indexes" in err(e)[1]

    make(east)
    three_replicas(east)
    with pytest.raises(ClientError) as e:
        ohio.update_time_to_live(TableName="Strong",
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert err(e)[0] == "ValidationException" and "Time to Live" in err(e)[1]
    with pytest.raises(ClientError) as e:
        east.transact_write_items(TransactItems=[{"Put": {"TableName": "Strong", "Item": {"id": {"S": "t"}}}}])
    assert err(e)[0] == "ValidationException" and "Transactions" in err(e)[1]
    with pytest.raises(ClientError) as e:
        east.transact_get_items(TransactItems=[{"Get": {"TableName": "Strong", "Key": {"id": {"S": "t"}}}}])
    assert err(e)[0] == "ValidationException"
    assert get(ohio, "t") is None


def test_conflicting_write_in_another_region(aloft):
    east, ohio, oregon = clients(aloft)
    make(east)
    three_replicas(east)
    aloft.internal("POST", "dynamodb/replication/pause")
    done = {}

    def write_east():
        east.put_item(TableName="Strong", Item={"id": {"S": "c"}, "v": {"S": "east"}})
        done["east"] = True

    t = threading.Thread(target=write_east)
    try:
        t.start()
        for _ in range(500):
            if aloft.internal("GET", "dynamodb/replication")["strongInTransit"]:
                break
            threading.Event().wait(0.01)
        assert "east" not in done  # held until every replica has it
        with pytest.raises(ClientError) as e:
            ohio.put_item(TableName="Strong", Item={"id": {"S": "c"}, "v": {"S": "ohio"}})
        assert err(e) == ("ReplicatedWriteConflictException",
                          "The request was rejected because one or more items in the request are being "
                          "modified by a request in another Region.")
        with pytest.raises(ClientError) as e:
            oregon.update_item(TableName="Strong", Key={"id": {"S": "c"}}, UpdateExpression="SET v = :v",
                               ExpressionAttributeValues={":v": {"S": "oregon"}})
        assert err(e)[0] == "ReplicatedWriteConflictException"
        with pytest.raises(ClientError) as e:
            oregon.batch_write_item(RequestItems={"Strong": [{"DeleteRequest": {"Key": {"id": {"S": "c"}}}}]})
        assert err(e)[0] == "ReplicatedWriteConflictException"
    finally:
        aloft.internal("POST", "dynamodb/replication/resume")
        t.join(10)
    assert done.get("east")
    for c in (east, ohio, oregon):
        assert get(c, "c")["v"] == {"S": "east"}
    ohio.put_item(TableName="Strong", Item={"id": {"S": "c"}, "v": {"S": "ohio"}})
    assert get(oregon, "c")["v"] == {"S": "ohio"}


def test_strong_table_survives_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    east = a.client("dynamodb")
    make(east)
    east.update_table(TableName="Strong", MultiRegionConsistency="STRONG",
                      ReplicaUpdates=[{"Create": {"RegionName": "us-east-2"}}],
                      GlobalTableWitnessUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    east.put_item(TableName="Strong", Item={"id": {"S": "x"}})
    a.kill()
    b = aloft_factory(data_dir=tmp_path / "d")
    east, ohio = b.client("dynamodb"), b.client("dynamodb", region="us-east-2")
    t = ohio.describe_table(TableName="Strong")["Table"]
    assert t["MultiRegionConsistency"] == "STRONG"
    assert t["GlobalTableWitnesses"] == [{"RegionName": "us-west-2", "WitnessStatus": "ACTIVE"}]
    assert get(ohio, "x") is not None
    ohio.put_item(TableName="Strong", Item={"id": {"S": "y"}})
    assert get(east, "y") is not None


def test_cli_creates_an_mrsc_table_with_a_witness(aloft):
    east = aloft.client("dynamodb")
    make(east, name="Cli")
    out = aloft.cli_json("dynamodb", "update-table", "--region", "us-east-1", "--table-name", "Cli",
                         "--multi-region-consistency", "STRONG",
                         "--replica-updates", '[{"Create": {"RegionName": "us-east-2"}}]',
                         "--global-table-witness-updates", '[{"Create": {"RegionName": "us-west-2"}}]')
    assert out["TableDescription"]["MultiRegionConsistency"] == "STRONG"
    aloft.cli("dynamodb", "put-item", "--region", "us-east-2", "--table-name", "Cli",
              "--item", '{"id": {"S": "from-cli"}}')
    assert get(east, "from-cli", name="Cli") is not None
    t = aloft.cli_json("dynamodb", "describe-table", "--region", "us-east-2", "--table-name", "Cli")["Table"]
    assert t["GlobalTableWitnesses"] == [{"RegionName": "us-west-2", "WitnessStatus": "ACTIVE"}]
