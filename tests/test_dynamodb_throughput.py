"""OnDemandThroughput (an on-demand table's and GSI's request-unit ceilings) and WarmThroughput
(the rate a table or GSI serves at once, which only rises) on CreateTable, UpdateTable and
DescribeTable, as AWS keeps them. Aloft stores and describes them; it does not throttle by
them."""

import pytest
from botocore.exceptions import ClientError

KEY = dict(
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
)
# A table with a GSI on `g`.
KEY_G = dict(
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                          {"AttributeName": "g", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
)


def gsi(**extra):
    return dict(IndexName="byG", KeySchema=[{"AttributeName": "g", "KeyType": "HASH"}],
                Projection={"ProjectionType": "ALL"}, **extra)


def error(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_on_demand_table_with_ceilings_and_warm_throughput(aloft):
    c = aloft.client("dynamodb")
    c.create_table(TableName="odt", BillingMode="PAY_PER_REQUEST", **KEY_G,
                   OnDemandThroughput={"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50},
                   WarmThroughput={"ReadUnitsPerSecond": 15000},
                   GlobalSecondaryIndexes=[gsi(OnDemandThroughput={"MaxReadRequestUnits": 10})])
    t = c.describe_table(TableName="odt")["Table"]
    assert t["OnDemandThroughput"] == {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50}
    assert t["WarmThroughput"] == {"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 4000,
                                   "Status": "ACTIVE"}
    g = t["GlobalSecondaryIndexes"][0]
    assert g["OnDemandThroughput"] == {"MaxReadRequestUnits": 10, "MaxWriteRequestUnits": -1}
    assert g["WarmThroughput"] == {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000,
                                   "Status": "ACTIVE"}

    # Members merge one by one; -1 removes a ceiling.
    c.update_table(TableName="odt", OnDemandThroughput={"MaxReadRequestUnits": -1})
    t = c.describe_table(TableName="odt")["Table"]
    assert t["OnDemandThroughput"] == {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 50}
    c.update_table(TableName="odt", WarmThroughput={"WriteUnitsPerSecond": 9000},
                   GlobalSecondaryIndexUpdates=[{"Update": {
                       "IndexName": "byG", "WarmThroughput": {"ReadUnitsPerSecond": 20000}}}])
    t = c.describe_table(TableName="odt")["Table"]
    assert (t["WarmThroughput"]["ReadUnitsPerSecond"], t["WarmThroughput"]["WriteUnitsPerSecond"]) == (15000, 9000)
    assert t["GlobalSecondaryIndexes"][0]["WarmThroughput"]["ReadUnitsPerSecond"] == 20000

    # Warm throughput never falls.
    with pytest.raises(ClientError) as e:
        c.update_table(TableName="odt", WarmThroughput={"ReadUnitsPerSecond": 14000})
    # AWS's words, as users paste them (terraform-provider-aws) and live probes measured them
    # (cdkd, ack-api-quirks DDB-TABLE-179/457): zero and negatives are "lower" too.
    lower = ("One or more parameter values were invalid: Requested {} for WarmThroughput for {} is lower than "
             "current WarmThroughput, decreasing WarmThroughput is not supported")
    assert error(e) == ("ValidationException", lower.format("ReadUnitsPerSecond", "table"))
    with pytest.raises(ClientError) as e:
        c.update_table(TableName="odt", WarmThroughput={"WriteUnitsPerSecond": 0})
    assert error(e) == ("ValidationException", lower.format("WriteUnitsPerSecond", "table"))
    with pytest.raises(ClientError) as e:
        c.update_table(TableName="odt", GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "byG", "WarmThroughput": {"ReadUnitsPerSecond": 1}}}])
    assert error(e) == ("ValidationException", lower.format("ReadUnitsPerSecond", "index byG"))
    with pytest.raises(ClientError) as e:
        c.update_table(TableName="odt", GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "byG", "WarmThroughput": {}}}])
    assert error(e) == ("ValidationException", "One or more parameter values were invalid: WarmThroughput must "
                        "have at least one of ReadUnitsPerSecond or WriteUnitsPerSecond specified for index: byG")
    # Re-asserting the present value is accepted.
    c.update_table(TableName="odt", WarmThroughput={"ReadUnitsPerSecond": 15000})
    assert c.describe_table(TableName="odt")["Table"]["WarmThroughput"]["ReadUnitsPerSecond"] == 15000
    # CreateTable words it against the on-demand start.
    with pytest.raises(ClientError) as e:
        c.create_table(TableName="cold", BillingMode="PAY_PER_REQUEST", **KEY,
                       WarmThroughput={"ReadUnitsPerSecond": 100})
    assert error(e)[1].startswith(
        "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is "
        "lower than initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/"
        "developerguide/on-demand-capacity-mode.html#on-demand-cap")

    # A switch to provisioned drops the ceilings; the warm throughput stays.
    c.update_table(TableName="odt", BillingMode="PROVISIONED",
                   ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                   GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "byG", "ProvisionedThroughput": {
                       "ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}])
    t = c.describe_table(TableName="odt")["Table"]
    assert "OnDemandThroughput" not in t
    assert "OnDemandThroughput" not in t["GlobalSecondaryIndexes"][0]
    assert t["WarmThroughput"]["ReadUnitsPerSecond"] == 15000


def test_provisioned_tables_start_warm_at_their_capacity_and_follow_it_up(aloft):
    c = aloft.client("dynamodb")
    c.create_table(TableName="prov", **KEY_G,
                   ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
                   GlobalSecondaryIndexes=[gsi(ProvisionedThroughput={"ReadCapacityUnits": 2,
                                                                      "WriteCapacityUnits": 1})])
    t = c.describe_table(TableName="prov")["Table"]
    assert t["WarmThroughput"] == {"ReadUnitsPerSecond": 5, "WriteUnitsPerSecond": 3, "Status": "ACTIVE"}
    assert "OnDemandThroughput" not in t
    c.update_table(TableName="prov", ProvisionedThroughput={"ReadCapacityUnits": 50, "WriteCapacityUnits": 3})
    t = c.describe_table(TableName="prov")["Table"]
    assert (t["WarmThroughput"]["ReadUnitsPerSecond"], t["WarmThroughput"]["WriteUnitsPerSecond"]) == (50, 3)
    # Back down: the warm throughput keeps its peak.
    c.update_table(TableName="prov", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3})
    assert c.describe_table(TableName="prov")["Table"]["WarmThroughput"]["ReadUnitsPerSecond"] == 50


def test_on_demand_ceilings_errors(aloft):
    c = aloft.client("dynamodb")
    with pytest.raises(ClientError) as e:
        c.create_table(TableName="bad", **KEY, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                       OnDemandThroughput={"MaxWriteRequestUnits": 5})
    assert error(e) == ("ValidationException", "One or more parameter values were invalid: MaxWriteRequestUnits "
                        "for OnDemandThroughput cannot be specified when table BillingMode is PROVISIONED.")
    with pytest.raises(ClientError) as e:
        c.create_table(TableName="bad", BillingMode="PAY_PER_REQUEST", **KEY,
                       OnDemandThroughput={"MaxReadRequestUnits": -1})
    assert error(e) == ("ValidationException", "One or more parameter values were invalid: Requested "
                        "MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range")
    c.create_table(TableName="prov", **KEY, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    with pytest.raises(ClientError) as e:
        c.update_table(TableName="prov", OnDemandThroughput={"MaxReadRequestUnits": 5})
    assert error(e) == ("ValidationException", "One or more parameter values were invalid: MaxReadRequestUnits "
                        "for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED")
    # ...unless the same request switches the table to on demand.
    c.update_table(TableName="prov", BillingMode="PAY_PER_REQUEST", OnDemandThroughput={"MaxReadRequestUnits": 5})
    assert c.describe_table(TableName="prov")["Table"]["OnDemandThroughput"]["MaxReadRequestUnits"] == 5


def test_settings_survive_a_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    c = a.client("dynamodb")
    c.create_table(TableName="kept", BillingMode="PAY_PER_REQUEST", **KEY,
                   OnDemandThroughput={"MaxWriteRequestUnits": 70},
                   WarmThroughput={"ReadUnitsPerSecond": 30000, "WriteUnitsPerSecond": 10000})
    before = c.describe_table(TableName="kept")["Table"]
    a.stop()
    b = aloft_factory(data_dir=tmp_path / "d")
    after = b.client("dynamodb").describe_table(TableName="kept")["Table"]
    assert after["OnDemandThroughput"] == before["OnDemandThroughput"] == {
        "MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 70}
    assert after["WarmThroughput"] == before["WarmThroughput"]
    assert after["WarmThroughput"]["ReadUnitsPerSecond"] == 30000
