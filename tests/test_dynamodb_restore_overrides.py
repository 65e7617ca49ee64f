"""RestoreTableFromBackup and RestoreTableToPointInTime overrides (which secondary indexes come
back, billing mode, throughput, encryption) and ListBackups' filters, as AWS applies them. The
messages are AWS's as live probes recorded them (ack-api-quirks DDB-TABLE-273/279/280,
DDB-BACKUP-014)."""

import pytest
from botocore.exceptions import ClientError

DEFS = [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "h", "l")]
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
PT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}


def gsi(name, attr, projection=None, pt=PT):
    g = {"IndexName": name, "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}],
         "Projection": projection or {"ProjectionType": "ALL"}}
    if pt:
        g["ProvisionedThroughput"] = pt
    return g


LSI = {"IndexName": "byL", "KeySchema": [KEYS[0], {"AttributeName": "l", "KeyType": "RANGE"}],
       "Projection": {"ProjectionType": "KEYS_ONLY"}}


def error(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


@pytest.fixture
def source(aloft):
    """A provisioned table with two GSIs and an LSI, three items, and a backup of it."""
    c = aloft.client("dynamodb")
    c.create_table(TableName="src", AttributeDefinitions=DEFS, KeySchema=KEYS,
                   ProvisionedThroughput=PT, LocalSecondaryIndexes=[LSI],
                   GlobalSecondaryIndexes=[gsi("byG", "g"),
                                           gsi("byH", "h", {"ProjectionType": "INCLUDE",
                                                            "NonKeyAttributes": ["x"]})])
    for i in range(3):
        c.put_item(TableName="src", Item={"pk": {"S": f"p{i}"}, "sk": {"S": "s"}, "g": {"S": "G"},
                                          "h": {"S": f"h{i}"}, "l": {"S": "L"}, "x": {"S": "X"}})
    arn = c.create_backup(TableName="src", BackupName="bk1")["BackupDetails"]["BackupArn"]
    return c, arn


def index_names(t):
    return ([i["IndexName"] for i in t.get("GlobalSecondaryIndexes", [])],
            [i["IndexName"] for i in t.get("LocalSecondaryIndexes", [])])


def test_index_overrides_choose_rename_or_drop_indexes(source):
    c, arn = source
    # Omitted: every index comes back, with the items in it. Deletion protection and the
    # table class are not in a backup.
    c.update_table(TableName="src", DeletionProtectionEnabled=True)
    c.update_table(TableName="src", TableClass="STANDARD_INFREQUENT_ACCESS")
    later = c.create_backup(TableName="src", BackupName="bk9")["BackupDetails"]["BackupArn"]
    c.restore_table_from_backup(TargetTableName="all", BackupArn=later)
    t = c.describe_table(TableName="all")["Table"]
    assert index_names(t) == (["byG", "byH"], ["byL"])
    assert t["DeletionProtectionEnabled"] is False and "TableClassSummary" not in t

    # A subset, one GSI renamed: the items are indexed under the new name; the rest is gone.
    out = c.restore_table_from_backup(
        TargetTableName="some", BackupArn=arn,
        GlobalSecondaryIndexOverride=[gsi("renamed", "g", pt={"ReadCapacityUnits": 7,
                                                              "WriteCapacityUnits": 9})],
        LocalSecondaryIndexOverride=[])
    assert index_names(out["TableDescription"]) == (["renamed"], [])
    t = c.describe_table(TableName="some")["Table"]
    assert index_names(t) == (["renamed"], [])
    g = t["GlobalSecondaryIndexes"][0]
    assert (g["ProvisionedThroughput"]["ReadCapacityUnits"], g["ItemCount"]) == (7, 3)
    # Attribute definitions only the dropped indexes used go with them.
    assert sorted(d["AttributeName"] for d in t["AttributeDefinitions"]) == ["g", "pk", "sk"]
    q = c.query(TableName="some", IndexName="renamed", KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "G"}})
    assert q["Count"] == 3
    for gone in ("byG", "byH", "byL"):
        with pytest.raises(ClientError) as e:
            c.query(TableName="some", IndexName=gone, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p0"}})
        assert error(e) == ("ValidationException",
                            f"The table does not have the specified index: {gone}")

    # Empty lists: no secondary index at all.
    c.restore_table_from_backup(TargetTableName="none", BackupArn=arn,
                                GlobalSecondaryIndexOverride=[], LocalSecondaryIndexOverride=[])
    t = c.describe_table(TableName="none")["Table"]
    assert index_names(t) == ([], []) and t["ItemCount"] == 3


def test_backup_records_the_indexes_a_restore_can_bring_back(source):
    c, arn = source
    f = c.describe_backup(BackupArn=arn)["BackupDescription"]["SourceTableFeatureDetails"]
    assert f["GlobalSecondaryIndexes"][0] == {
        "IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}, "ProvisionedThroughput": PT}
    assert f["GlobalSecondaryIndexes"][1]["Projection"] == {
        "ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}
    assert f["LocalSecondaryIndexes"] == [LSI]
    assert "StreamDescription" not in f and "SSEDescription" not in f


def test_index_overrides_cannot_create_indexes(source):
    c, arn = source
    bad = [
        gsi("byG", "h"),                                             # other keys
        gsi("byG", "g", {"ProjectionType": "KEYS_ONLY"}),            # other projection
        gsi("brandNew", "l"),                                        # not in the source
    ]
    for g in bad:
        with pytest.raises(ClientError) as e:
            c.restore_table_from_backup(TargetTableName="tgt", BackupArn=arn,
                                        GlobalSecondaryIndexOverride=[g])
        assert error(e) == ("ValidationException",
                            f"Invalid Request: Index {g['IndexName']} does not match a secondary index that existed "
                            "in the source table and cannot be created during the restore operation")
    with pytest.raises(ClientError) as e:
        c.restore_table_from_backup(TargetTableName="tgt", BackupArn=arn,
                                    GlobalSecondaryIndexOverride=[gsi("byG", "g", pt=None)])
    assert error(e) == ("ValidationException", "Invalid Request: Must specify provisioned throughput for index byG")
    # Nothing was created by the refused restores.
    assert "tgt" not in c.list_tables()["TableNames"]


def test_billing_throughput_and_sse_overrides_together(source):
    c, arn = source
    c.restore_table_from_backup(
        TargetTableName="odm", BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST",
        OnDemandThroughputOverride={"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50},
        GlobalSecondaryIndexOverride=[gsi("byG", "g", pt=None)],
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS"})
    t = c.describe_table(TableName="odm")["Table"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert t["OnDemandThroughput"] == {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50}
    assert t["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert t["SSEDescription"]["Status"] == "ENABLED"

    # Back from on demand to provisioned, SSE turned off again.
    od_arn = c.create_backup(TableName="odm", BackupName="bk2")["BackupDetails"]["BackupArn"]
    details = c.describe_backup(BackupArn=od_arn)["BackupDescription"]["SourceTableDetails"]
    assert details["BillingMode"] == "PAY_PER_REQUEST"
    assert details["OnDemandThroughput"] == {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50}
    # Without overrides a restore keeps the recorded ceilings and encryption.
    c.restore_table_from_backup(TargetTableName="odm2", BackupArn=od_arn)
    t = c.describe_table(TableName="odm2")["Table"]
    assert t["OnDemandThroughput"] == {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 50}
    assert t["SSEDescription"]["Status"] == "ENABLED"
    c.restore_table_from_backup(
        TargetTableName="prov", BackupArn=od_arn, BillingModeOverride="PROVISIONED",
        ProvisionedThroughputOverride={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
        SSESpecificationOverride={"Enabled": False})
    t = c.describe_table(TableName="prov")["Table"]
    assert "BillingModeSummary" not in t and "OnDemandThroughput" not in t
    assert (t["ProvisionedThroughput"]["ReadCapacityUnits"],
            t["ProvisionedThroughput"]["WriteCapacityUnits"]) == (3, 4)
    assert t["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert "SSEDescription" not in t

    refusals = [
        (dict(BackupArn=od_arn, ProvisionedThroughputOverride=PT),
         "Invalid Request: Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"),
        (dict(BackupArn=arn, BillingModeOverride="PROVISIONED"),
         "Invalid Request: Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED"),
        (dict(BackupArn=arn, OnDemandThroughputOverride={"MaxReadRequestUnits": 10}),
         "Invalid Request: Cannot override MaxReadRequestUnits for OnDemandThroughput unless BillingModeOverride "
         "is PAY_PER_REQUEST"),
        (dict(BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST",
              GlobalSecondaryIndexOverride=[gsi("byG", "g")]),
         "Invalid Request: Cannot override ProvisionedThroughput if BillingMode is overridden to PAY_PER_REQUEST "
         "for index byG"),
        (dict(BackupArn=od_arn, BillingModeOverride="PAY_PER_REQUEST", ProvisionedThroughputOverride=PT),
         "Invalid Request: Cannot override ProvisionedThroughput if BillingMode is overridden to PAY_PER_REQUEST"),
    ]
    for kwargs, message in refusals:
        with pytest.raises(ClientError) as e:
            c.restore_table_from_backup(TargetTableName="tgt", **kwargs)
        assert error(e) == ("ValidationException", message)


def test_point_in_time_restore_takes_the_same_overrides(source, aloft):
    c, _ = source
    c.update_continuous_backups(TableName="src", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    aloft.advance(60)
    out = c.restore_table_to_point_in_time(
        SourceTableName="src", TargetTableName="pitr", UseLatestRestorableTime=True,
        GlobalSecondaryIndexOverride=[gsi("byH2", "h", {"ProjectionType": "INCLUDE",
                                                        "NonKeyAttributes": ["x"]})],
        LocalSecondaryIndexOverride=[LSI], SSESpecificationOverride={"Enabled": True})
    assert index_names(out["TableDescription"]) == (["byH2"], ["byL"])
    q = c.query(TableName="pitr", IndexName="byH2", KeyConditionExpression="h = :h",
                ExpressionAttributeValues={":h": {"S": "h1"}})
    assert q["Items"] == [{"pk": {"S": "p1"}, "sk": {"S": "s"}, "h": {"S": "h1"}, "x": {"S": "X"}}]
    assert c.describe_table(TableName="pitr")["Table"]["SSEDescription"]["Status"] == "ENABLED"
    with pytest.raises(ClientError) as e:
        c.restore_table_to_point_in_time(SourceTableName="src", TargetTableName="tgt",
                                         UseLatestRestorableTime=True,
                                         LocalSecondaryIndexOverride=[dict(LSI, Projection={
                                             "ProjectionType": "ALL"})])
    assert error(e)[0] == "ValidationException"
    assert "does not match a secondary index" in error(e)[1]


def test_list_backups_filters_by_time_type_and_table(aloft):
    c = aloft.client("dynamodb")
    for name in ("tba", "tbb"):
        c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=DEFS[:1], KeySchema=KEYS[:1])
    made = []
    for i, table in enumerate(["tba", "tbb", "tba", "tbb"]):
        made.append(c.create_backup(TableName=table, BackupName=f"bk{i}")["BackupDetails"])
        aloft.advance(3600)
    times = [b["BackupCreationDateTime"] for b in made]

    def names(**kw):
        return [b["BackupName"] for b in c.list_backups(**kw)["BackupSummaries"]]

    # Oldest first across tables; the default and ALL list USER backups, the others none.
    assert names() == names(BackupType="ALL") == names(BackupType="USER") == ["bk0", "bk1", "bk2", "bk3"]
    assert names(BackupType="SYSTEM") == names(BackupType="AWS_BACKUP") == []
    assert names(TableName="tba") == ["bk0", "bk2"]
    table_arn = c.describe_table(TableName="tbb")["Table"]["TableArn"]
    assert names(TableName=table_arn) == ["bk1", "bk3"]
    # The lower bound is inclusive, the upper exclusive.
    assert names(TimeRangeLowerBound=times[1], TimeRangeUpperBound=times[3]) == ["bk1", "bk2"]
    assert names(TimeRangeLowerBound=times[1], TimeRangeUpperBound=times[1]) == []
    assert names(TimeRangeLowerBound=times[2], TableName="tbb") == ["bk3"]
    with pytest.raises(ClientError) as e:
        c.list_backups(TimeRangeLowerBound=times[2], TimeRangeUpperBound=times[1])
    assert error(e) == ("ValidationException",
                        "Time range lower bound must be less than or equal to upper bound")

    # Pages of Limit, the cursor a position: a deleted backup's ARN still resumes after it.
    page = c.list_backups(Limit=3)
    assert [b["BackupName"] for b in page["BackupSummaries"]] == ["bk0", "bk1", "bk2"]
    assert page["LastEvaluatedBackupArn"] == made[2]["BackupArn"]
    c.delete_backup(BackupArn=made[1]["BackupArn"])
    assert names(ExclusiveStartBackupArn=made[1]["BackupArn"]) == ["bk2", "bk3"]
    assert "LastEvaluatedBackupArn" not in c.list_backups(Limit=3)

    # The AWS CLI pages through the same filters.
    out = aloft.cli_json("dynamodb", "list-backups", "--table-name", "tba",
                         "--time-range-lower-bound", str(times[2].timestamp()))
    assert [b["BackupName"] for b in out["BackupSummaries"]] == ["bk2"]
