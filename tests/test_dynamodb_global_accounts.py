"""DynamoDB multi-account global tables inside one Aloft: CreateTable with GlobalTableSourceArn
in a second account makes a replica of the first account's table, once settings replication
and both resource policies allow it; writes replicate both ways."""

import json

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

SOURCE, OTHER = "000000000000", "222222222222"
SOURCE_ARN = f"arn:aws:dynamodb:us-east-2:{SOURCE}:table/Music"


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def as_account(aloft, account, region):
    return boto3.client("dynamodb", endpoint_url=aloft.url, region_name=region,
                        aws_access_key_id=account, aws_secret_access_key="x",
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def replication_policy(resource, accounts):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "Replication", "Effect": "Allow",
        "Principal": {"Service": ["replication.dynamodb.amazonaws.com"]},
        "Action": ["dynamodb:ReadDataForReplication", "dynamodb:WriteDataForReplication",
                   "dynamodb:ReplicateSettings"],
        "Resource": resource, "Condition": {"StringEquals": {"aws:SourceAccount": accounts}}}]})


def get(ddb, key):
    return ddb.get_item(TableName="Music", Key={"Artist": {"S": key}}, ConsistentRead=True).get("Item")


def test_multi_account_replica(aloft):
    src = aloft.client("dynamodb", region="us-east-2")
    dst = as_account(aloft, OTHER, "us-east-1")
    src.create_table(TableName="Music", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}])
    src.put_item(TableName="Music", Item={"Artist": {"S": "before"}})
    own_policy = replication_policy(f"arn:aws:dynamodb:us-east-1:{OTHER}:table/Music", [OTHER, SOURCE])

    def create(**kw):
        args = dict(TableName="Music", GlobalTableSourceArn=SOURCE_ARN,
                    GlobalTableSettingsReplicationMode="ENABLED", ResourcePolicy=own_policy)
        args.update(kw)
        return dst.create_table(**args)

    def refused(**kw):
        with pytest.raises(ClientError) as e:
            create(**kw)
        return err(e)

    code, msg = refused()
    assert code == "ValidationException" and "GlobalTableSettingsReplicationMode set to ENABLED" in msg
    src.update_table(TableName="Music", GlobalTableSettingsReplicationMode="ENABLED")
    code, msg = refused()
    assert code == "AccessDeniedException" and "source table" in msg
    src.put_resource_policy(ResourceArn=SOURCE_ARN, Policy=replication_policy(SOURCE_ARN, [SOURCE, OTHER]))
    args = dict(TableName="Music", GlobalTableSourceArn=SOURCE_ARN, GlobalTableSettingsReplicationMode="ENABLED")
    with pytest.raises(ClientError) as e:
        dst.create_table(**args)
    assert err(e)[0] == "AccessDeniedException" and "new replica" in err(e)[1]
    assert refused(GlobalTableSettingsReplicationMode="DISABLED")[0] == "ValidationException"
    assert refused(TableName="Other")[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        as_account(aloft, OTHER, "us-east-2").create_table(**args, ResourcePolicy=own_policy)
    assert err(e)[0] == "ValidationException" and "already has a replica" in err(e)[1]

    d = create(Tags=[{"Key": "team", "Value": "b"}])["TableDescription"]
    assert d["TableArn"] == f"arn:aws:dynamodb:us-east-1:{OTHER}:table/Music"
    assert d["KeySchema"] == [{"AttributeName": "Artist", "KeyType": "HASH"}]
    t = dst.describe_table(TableName="Music")["Table"]
    assert t["GlobalTableSettingsReplicationMode"] == "ENABLED"
    assert t["Replicas"] == [{"RegionName": "us-east-2", "ReplicaStatus": "ACTIVE", "ReplicaArn": SOURCE_ARN,
                              "ReplicaTableClassSummary": {"TableClass": "STANDARD"}}]
    s = src.describe_table(TableName="Music")["Table"]
    assert [r["ReplicaArn"] for r in s["Replicas"]] == [d["TableArn"]]
    assert get(dst, "before") is not None
    assert dst.list_tags_of_resource(ResourceArn=d["TableArn"])["Tags"] == [{"Key": "team", "Value": "b"}]

    src.put_item(TableName="Music", Item={"Artist": {"S": "a"}, "v": {"S": "src"}})
    dst.put_item(TableName="Music", Item={"Artist": {"S": "b"}, "v": {"S": "dst"}})
    aloft.internal("POST", "dynamodb/replication/flush")
    assert get(dst, "a")["v"] == {"S": "src"} and get(src, "b")["v"] == {"S": "dst"}
    # The source account's own tables of that name in us-east-1 are untouched.
    with pytest.raises(ClientError):
        aloft.client("dynamodb").describe_table(TableName="Music")

    # Each account removes only its own replica.
    with pytest.raises(ClientError) as e:
        src.update_table(TableName="Music", ReplicaUpdates=[{"Delete": {"RegionName": "us-east-1"}}])
    assert err(e)[0] == "ValidationException" and OTHER in err(e)[1]
    dst.delete_table(TableName="Music")
    s = src.describe_table(TableName="Music")["Table"]
    assert "Replicas" not in s
    src.put_item(TableName="Music", Item={"Artist": {"S": "after"}})
    aloft.internal("POST", "dynamodb/replication/flush")


def test_multi_account_replica_survives_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    src = a.client("dynamodb", region="us-east-2")
    src.create_table(TableName="Music", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}])
    src.update_table(TableName="Music", GlobalTableSettingsReplicationMode="ENABLED")
    src.put_resource_policy(ResourceArn=SOURCE_ARN, Policy=replication_policy(SOURCE_ARN, [SOURCE, OTHER]))
    as_account(a, OTHER, "us-east-1").create_table(
        TableName="Music", GlobalTableSourceArn=SOURCE_ARN, GlobalTableSettingsReplicationMode="ENABLED",
        ResourcePolicy=replication_policy(f"arn:aws:dynamodb:us-east-1:{OTHER}:table/Music", [OTHER, SOURCE]))
    a.kill()
    b = aloft_factory(data_dir=tmp_path / "d")
    src, dst = b.client("dynamodb", region="us-east-2"), as_account(b, OTHER, "us-east-1")
    assert dst.describe_table(TableName="Music")["Table"]["Replicas"][0]["ReplicaArn"] == SOURCE_ARN
    dst.put_item(TableName="Music", Item={"Artist": {"S": "later"}})
    b.internal("POST", "dynamodb/replication/flush")
    assert get(src, "later") is not None
