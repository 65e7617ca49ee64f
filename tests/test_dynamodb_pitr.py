"""DynamoDB point-in-time recovery: the restorable window, RestoreTableToPointInTime to any
second in it (from the change log, on Aloft's clock), and its errors."""

import pytest
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def window(ddb, name):
    d = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    p = d["PointInTimeRecoveryDescription"]
    return p["EarliestRestorableDateTime"].timestamp(), p["LatestRestorableDateTime"].timestamp()


def keys(ddb, name):
    return {i["id"]["S"]: i.get("v", {}).get("N") for i in ddb.scan(TableName=name)["Items"]}


def test_restore_to_point_in_time(aloft):
    ddb = aloft.client("dynamodb")
    ddb.create_table(TableName="Tab", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    ddb.put_item(TableName="Tab", Item={"id": {"S": "a"}, "v": {"N": "1"}})
    d = ddb.describe_continuous_backups(TableName="Tab")["ContinuousBackupsDescription"]
    assert d["PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Rst", UseLatestRestorableTime=True)
    assert err(e)[0] == "PointInTimeRecoveryUnavailableException"

    out = ddb.update_continuous_backups(TableName="Tab", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"]
    assert out["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    t0, _ = window(ddb, "Tab")

    aloft.advance(60)
    ddb.put_item(TableName="Tab", Item={"id": {"S": "b"}, "v": {"N": "1"}})
    ddb.update_item(TableName="Tab", Key={"id": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    aloft.advance(60)
    ddb.delete_item(TableName="Tab", Key={"id": {"S": "a"}})
    aloft.advance(600)

    earliest, latest = window(ddb, "Tab")
    assert earliest == t0 and latest >= t0 + 420
    p = ddb.describe_continuous_backups(TableName="Tab")["ContinuousBackupsDescription"]
    assert p["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 35

    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="At30", RestoreDateTime=t0 + 30)
    assert keys(ddb, "At30") == {"a": "1"}
    arn = ddb.describe_table(TableName="Tab")["Table"]["TableArn"]
    out = ddb.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName="At90", RestoreDateTime=t0 + 90)
    assert out["TableDescription"]["RestoreSummary"]["SourceTableArn"] == arn
    assert keys(ddb, "At90") == {"a": "2", "b": "1"}
    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Latest", UseLatestRestorableTime=True)
    assert keys(ddb, "Latest") == {"b": "1"}
    assert keys(ddb, "Tab") == {"b": "1"}

    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Early", RestoreDateTime=t0 - 100)
    assert err(e)[0] == "InvalidRestoreTimeException"
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="At30", RestoreDateTime=t0 + 30)
    assert err(e) == ("TableAlreadyExistsException", "Table already exists: At30")
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="Nope", TargetTableName="Xxx", UseLatestRestorableTime=True)
    assert err(e) == ("TableNotFoundException", "Table not found: Nope")

    # Disabling forgets the log; the 35-day window slides with the clock.
    ddb.update_continuous_backups(TableName="Tab", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35})
    aloft.advance(40 * 86400)
    earliest, latest = window(ddb, "Tab")
    assert earliest >= t0 + 5 * 86400
    ddb.update_continuous_backups(TableName="Tab", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False})
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Yyy", UseLatestRestorableTime=True)
    assert err(e)[0] == "PointInTimeRecoveryUnavailableException"


def test_pitr_survives_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    ddb = a.client("dynamodb")
    ddb.create_table(TableName="Tab", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    ddb.put_item(TableName="Tab", Item={"id": {"S": "a"}})
    ddb.update_continuous_backups(TableName="Tab", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    t0, _ = window(ddb, "Tab")
    a.advance(60)
    ddb.put_item(TableName="Tab", Item={"id": {"S": "b"}})
    a.kill()
    b = aloft_factory(data_dir=tmp_path / "d")
    ddb = b.client("dynamodb")
    b.advance(600)  # the clock's offset does not survive a restart; move past the 5-minute lag
    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Rst", RestoreDateTime=t0 + 30)
    assert set(keys(ddb, "Rst")) == {"a"}
    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Rst2", RestoreDateTime=t0 + 90)
    assert set(keys(ddb, "Rst2")) == {"a", "b"}


def pitr_changes(a, name):
    tables = a.internal("GET", "dynamodb/stats")["tables"]
    return next(t["pitr_changes"] for t in tables if t["table"] == name)


def test_log_older_than_the_window_is_compacted_in_memory_and_on_disk(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    ddb = a.client("dynamodb")
    ddb.create_table(TableName="Tab", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    ddb.put_item(TableName="Tab", Item={"id": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_continuous_backups(TableName="Tab", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    t0, _ = window(ddb, "Tab")
    a.advance(60)
    ddb.put_item(TableName="Tab", Item={"id": {"S": "b"}, "v": {"N": "1"}})
    ddb.update_item(TableName="Tab", Key={"id": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    a.advance(60)
    ddb.delete_item(TableName="Tab", Key={"id": {"S": "a"}})
    a.advance(20 * 86400)
    ddb.put_item(TableName="Tab", Item={"id": {"S": "c"}, "v": {"N": "1"}})
    assert pitr_changes(a, "Tab") == 4
    a.advance(16 * 86400)
    # Nothing is written: the background sweeper (woken by the clock, or run now) folds the
    # three changes that left the window.
    a.internal("POST", "dynamodb/pitr/compact")
    assert pitr_changes(a, "Tab") == 1
    earliest, latest = window(ddb, "Tab")
    assert earliest >= t0 + 36 * 86400 - 35 * 86400
    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="AtEarliest", RestoreDateTime=earliest)
    assert keys(ddb, "AtEarliest") == {"b": "1"}
    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Latest", UseLatestRestorableTime=True)
    assert keys(ddb, "Latest") == {"b": "1", "c": "1"}
    with pytest.raises(ClientError) as e:
        ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Old", RestoreDateTime=t0 + 90)
    assert err(e)[0] == "InvalidRestoreTimeException"
    a.kill()

    # The journal was compacted too: only the change still in the window is loaded.
    b = aloft_factory(data_dir=tmp_path / "d")
    assert pitr_changes(b, "Tab") == 1
    ddb = b.client("dynamodb")
    b.advance(36 * 86400 + 600)  # the clock's offset does not survive a restart
    earliest, _ = window(ddb, "Tab")
    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Again", RestoreDateTime=earliest)
    assert keys(ddb, "Again") == {"b": "1"}
    ddb.restore_table_to_point_in_time(SourceTableName="Tab", TargetTableName="Again2", UseLatestRestorableTime=True)
    assert keys(ddb, "Again2") == {"b": "1", "c": "1"}
