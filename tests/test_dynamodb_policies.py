"""DynamoDB resource-based policies (tables and streams), Contributor Insights and replica auto
scaling settings: each operation's answer and AWS's errors, persistence under --data-dir, and
resource policies taking part in --enforce-iam decisions."""

from __future__ import annotations

import json

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
P = "One or more parameter values were invalid: "


def error(exc):
    r = exc.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def make_table(ddb, name, stream=False, gsi=False, range_key=False, **extra):
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": "sk", "AttributeType": "S"})
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
    args = dict(TableName=name, AttributeDefinitions=attrs, KeySchema=keys, BillingMode="PAY_PER_REQUEST")
    if gsi:
        attrs.append({"AttributeName": "g", "AttributeType": "S"})
        args["GlobalSecondaryIndexes"] = [{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                           "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}]
    if stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    args.update(extra)
    return ddb.create_table(**args)["TableDescription"]


def policy(action="dynamodb:GetItem", effect="Allow", principal=None, resource="*", **stmt):
    s = {"Effect": effect, "Principal": principal or {"AWS": ACCOUNT}, "Action": action, "Resource": resource}
    s.update(stmt)
    return json.dumps({"Version": "2012-10-17", "Statement": [s]})


@pytest.fixture
def ddb(aloft):
    return aloft.client("dynamodb")


# --- resource policies ------------------------------------------------------------------------

def test_put_get_delete_with_revisions(ddb):
    arn = make_table(ddb, "pol")["TableArn"]
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=arn)
    assert error(e) == ("PolicyNotFoundException",
                        f"Resource-based policy not found for the provided ResourceArn: {arn}", 400)
    # Deleting where none is attached is an idempotent success with no revision.
    assert "RevisionId" not in ddb.delete_resource_policy(ResourceArn=arn)

    rev1 = ddb.put_resource_policy(ResourceArn=arn, Policy=policy(), ExpectedRevisionId="NO_POLICY")["RevisionId"]
    assert rev1.isdigit()
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert got["RevisionId"] == rev1
    # Read back minified, in AWS's key order, the account principal as its root ARN.
    assert got["Policy"] == ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
                             '{"AWS":"arn:aws:iam::000000000000:root"},"Action":"dynamodb:GetItem","Resource":"*"}]}')
    # The same document (other whitespace, key order, list form) is no change.
    same = json.dumps({"Statement": [{"Resource": ["*"], "Action": ["dynamodb:GetItem"], "Effect": "Allow",
                                      "Principal": {"AWS": ACCOUNT}}], "Version": "2012-10-17"}, indent=2)
    assert ddb.put_resource_policy(ResourceArn=arn, Policy=same)["RevisionId"] == rev1

    with pytest.raises(ClientError) as e:
        ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:PutItem"), ExpectedRevisionId="NO_POLICY")
    assert error(e) == ("PolicyNotFoundException",
                        "Resource-based policy not found for the provided ResourceArn: Requested policy update "
                        f"expecting none to be present for table pol, but a policy exists with revision id {rev1}.", 400)
    rev2 = ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:PutItem"),
                                   ExpectedRevisionId=rev1)["RevisionId"]
    assert int(rev2) > int(rev1)
    for call in (lambda: ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:Query"),
                                                 ExpectedRevisionId=rev1),
                 lambda: ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=rev1)):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("PolicyNotFoundException",
                            "Resource-based policy not found for the provided ResourceArn: Requested update for "
                            f"policy with revision id {rev1}, but the policy associated to target table pol has "
                            f"revision id {rev2}.", 400)
    assert ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=rev2)["RevisionId"] == rev2
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=arn)
    assert error(e)[0] == "PolicyNotFoundException"


def test_resource_policy_at_create_table_and_gone_with_the_table(ddb):
    arn = make_table(ddb, "born", ResourcePolicy=policy())["TableArn"]
    assert "dynamodb:GetItem" in ddb.get_resource_policy(ResourceArn=arn)["Policy"]
    with pytest.raises(ClientError) as e:
        make_table(ddb, "bad-born", ResourcePolicy="{nope")
    assert error(e) == ("ValidationException", P + "Invalid policy document: This policy contains invalid Json", 400)
    assert "bad-born" not in ddb.list_tables()["TableNames"]

    ddb.delete_table(TableName="born")
    for call in (ddb.get_resource_policy, ddb.delete_resource_policy):
        with pytest.raises(ClientError) as e:
            call(ResourceArn=arn)
        assert error(e) == ("ResourceNotFoundException", "Requested resource not found: Table: born not found", 400)
    # A table re-created under the name starts without a policy.
    arn = make_table(ddb, "born")["TableArn"]
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=arn)
    assert error(e)[0] == "PolicyNotFoundException"


def test_stream_policy_is_its_own_slot(ddb):
    desc = make_table(ddb, "streamy", stream=True)
    table_arn, stream_arn = desc["TableArn"], desc["LatestStreamArn"]
    stream_doc = policy(["dynamodb:GetRecords", "dynamodb:DescribeStream"], resource=stream_arn)
    with pytest.raises(ClientError) as e:
        ddb.put_resource_policy(ResourceArn=table_arn, Policy=stream_doc)
    assert error(e) == ("ValidationException", P + "Invalid policy document: The following action names are "
                        'invalid: "dynamodb:GetRecords", "dynamodb:DescribeStream"', 400)
    rev = ddb.put_resource_policy(ResourceArn=stream_arn, Policy=stream_doc)["RevisionId"]
    assert ddb.get_resource_policy(ResourceArn=stream_arn)["RevisionId"] == rev
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=table_arn)
    assert error(e)[0] == "PolicyNotFoundException"
    bogus = table_arn + "/stream/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=bogus)
    assert error(e) == ("ResourceNotFoundException",
                        "Requested resource not found: Stream: 2000-01-01T00:00:00.000 not found for Table: streamy", 400)


def test_policy_and_arn_validation(ddb):
    arn = make_table(ddb, "val", gsi=True)["TableArn"]
    cases = [
        ("{not json", P + "Invalid policy document: This policy contains invalid Json"),
        # AWS's words for degenerate documents, as measured (ack-api-quirks DDB-TABLE-457).
        ("[]", P + "Invalid policy document: This policy contains invalid Json"),
        ("null", P + "Invalid policy document: This text appears not to be a policy"),
        ("{}", P + "Invalid policy document: Syntax error at position (1,3)"),
        ('{"Version":"2012-10-17","Statement":[{}]}', P + "Invalid policy document: Missing required field Effect"),
        ('{"Version":"2012-10-17","Statement":[]}', P + "Invalid policy document: Could not parse the policy: Statement is empty!"),
        (json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "dynamodb:GetItem"}]}),
         P + "Invalid policy document: Missing required field Resource"),
        ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "111122223333", '
         '"Action": "dynamodb:GetItem", "Resource": "*"}]}',
         P + "Invalid policy document: Syntax error at position (1,74)"),
        (policy(principal={"AWS": "*"}), "Resource-based policy grants unbounded access in one or more elements. "
                                        "Please revise the policy to ensure least-privilege form of access"),
        (json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "s", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"},
            {"Sid": "s", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:PutItem", "Resource": "*"}]}),
         P + "Invalid policy document: The Statement Ids in the policy are not unique"),
        (policy() + " " * 20480, P + "Maximum policy size of 20480 bytes exceeded"),
    ]
    for doc, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.put_resource_policy(ResourceArn=arn, Policy=doc)
        assert error(e) == ("ValidationException", message, 400), doc[:60]
    arn_cases = [
        ("val", "ValidationException", P + "ARNs must start with 'arn:': val"),
        (arn.replace("us-east-1", "eu-west-1"), "ValidationException",
         P + "Invalid resource Arn: " + arn.replace("us-east-1", "eu-west-1")),
        (arn.replace(ACCOUNT, "111122223333"), "ValidationException",
         "This action is only supported by accounts that match the resource owner\u2019s account."),
        (arn + "/index/by-g", "ValidationException",
         P + "Invalid resource arn provided, only table or stream is accepted. Provided resource arn: " + arn + "/index/by-g"),
        (arn + "/backup/01234", "ValidationException", P + "Provided Arn is not a DynamoDB resource arn: " + arn + "/backup/01234"),
        (arn + "-missing", "ResourceNotFoundException", "Requested resource not found: Table: val-missing not found"),
    ]
    for resource, code, message in arn_cases:
        with pytest.raises(ClientError) as e:
            ddb.get_resource_policy(ResourceArn=resource)
        assert error(e) == (code, message, 400), resource
    # Resource may name anything, the table's index included.
    ddb.put_resource_policy(ResourceArn=arn, Policy=policy(resource=[arn, arn + "/index/by-g"]))


def test_self_lockout_needs_confirmation(ddb):
    arn = make_table(ddb, "lock")["TableArn"]
    deny = policy("dynamodb:*", effect="Deny", principal="*")
    with pytest.raises(ClientError) as e:
        ddb.put_resource_policy(ResourceArn=arn, Policy=deny)
    assert error(e) == ("AccessDeniedException",
                        "The new resource policy will not allow you to update the resource policy in the future.", 400)
    assert ddb.put_resource_policy(ResourceArn=arn, Policy=deny, ConfirmRemoveSelfResourceAccess=True)["RevisionId"]
    # Denying only DeleteResourcePolicy does not trigger the check.
    arn2 = make_table(ddb, "lock2")["TableArn"]
    ddb.put_resource_policy(ResourceArn=arn2, Policy=policy("dynamodb:DeleteResourcePolicy", effect="Deny", principal="*"))


def test_cli_get_resource_policy(aloft, ddb):
    arn = make_table(ddb, "cli-pol")["TableArn"]
    out = aloft.cli_json("dynamodb", "put-resource-policy", "--resource-arn", arn, "--policy", policy())
    got = aloft.cli_json("dynamodb", "get-resource-policy", "--resource-arn", arn)
    assert got["RevisionId"] == out["RevisionId"]
    assert json.loads(got["Policy"])["Statement"][0]["Action"] == "dynamodb:GetItem"


# --- Contributor Insights ---------------------------------------------------------------------

def test_contributor_insights_lifecycle(aloft, ddb):
    make_table(ddb, "cit", gsi=True, range_key=True)
    d = ddb.describe_contributor_insights(TableName="cit")
    assert d["ContributorInsightsStatus"] == "DISABLED" and "ContributorInsightsRuleList" not in d
    assert ddb.list_contributor_insights(TableName="cit")["ContributorInsightsSummaries"] == []

    u = ddb.update_contributor_insights(TableName="cit", ContributorInsightsAction="ENABLE")
    assert u == {**u, "TableName": "cit", "ContributorInsightsStatus": "ENABLING",
                 "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS"}
    assert ddb.describe_contributor_insights(TableName="cit")["ContributorInsightsStatus"] == "ENABLING"
    aloft.advance(2)
    d = ddb.describe_contributor_insights(TableName="cit")
    assert d["ContributorInsightsStatus"] == "ENABLED"
    assert d["ContributorInsightsMode"] == "ACCESSED_AND_THROTTLED_KEYS"
    assert "LastUpdateDateTime" in d
    rules = d["ContributorInsightsRuleList"]
    stamp = rules[0].rsplit("-", 1)[1]
    assert rules == [f"DynamoDBContributorInsights-{k}-cit-{stamp}" for k in ("PKC", "PKT", "SKC", "SKT")]
    # Enabling again in the same mode changes nothing.
    again = ddb.update_contributor_insights(TableName="cit", ContributorInsightsAction="ENABLE")
    assert again["ContributorInsightsStatus"] == "ENABLED"

    # A mode change re-enables; only the throttled-key rules remain, with the same stamp.
    ddb.update_contributor_insights(TableName="cit", ContributorInsightsAction="ENABLE",
                                    ContributorInsightsMode="THROTTLED_KEYS")
    aloft.advance(2)
    d = ddb.describe_contributor_insights(TableName="cit")
    assert d["ContributorInsightsRuleList"] == [f"DynamoDBContributorInsights-PKT-cit-{stamp}",
                                                f"DynamoDBContributorInsights-SKT-cit-{stamp}"]

    g = ddb.update_contributor_insights(TableName="cit", IndexName="by-g", ContributorInsightsAction="ENABLE")
    assert g["IndexName"] == "by-g"
    aloft.advance(2)
    gd = ddb.describe_contributor_insights(TableName="cit", IndexName="by-g")
    assert gd["ContributorInsightsRuleList"][0].startswith("DynamoDBContributorInsights-PKC-cit-by-g-")
    assert len(gd["ContributorInsightsRuleList"]) == 2

    # Listed table first, then its GSIs; one per page with MaxResults=1.
    p1 = ddb.list_contributor_insights(TableName="cit", MaxResults=1)
    assert p1["ContributorInsightsSummaries"] == [{"TableName": "cit", "ContributorInsightsStatus": "ENABLED",
                                                   "ContributorInsightsMode": "THROTTLED_KEYS"}]
    p2 = ddb.list_contributor_insights(TableName="cit", MaxResults=1, NextToken=p1["NextToken"])
    assert p2["ContributorInsightsSummaries"][0]["IndexName"] == "by-g"
    assert "NextToken" not in p2

    off = ddb.update_contributor_insights(TableName="cit", ContributorInsightsAction="DISABLE")
    assert off["ContributorInsightsStatus"] == "DISABLING"
    assert off["ContributorInsightsMode"] == "THROTTLED_KEYS"
    aloft.advance(2)
    assert ddb.describe_contributor_insights(TableName="cit")["ContributorInsightsStatus"] == "DISABLED"
    # A DISABLED entry is not listed.
    listed = ddb.list_contributor_insights()["ContributorInsightsSummaries"]
    assert [s.get("IndexName") for s in listed if s["TableName"] == "cit"] == ["by-g"]


def test_contributor_insights_errors(ddb):
    make_table(ddb, "ci-err", range_key=True,
               LocalSecondaryIndexes=[{"IndexName": "lsi", "Projection": {"ProjectionType": "ALL"},
                                       "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                     {"AttributeName": "sk", "KeyType": "RANGE"}]}])
    for index in ("lsi", "nope"):
        for call in (lambda: ddb.describe_contributor_insights(TableName="ci-err", IndexName=index),
                     lambda: ddb.update_contributor_insights(TableName="ci-err", IndexName=index,
                                                             ContributorInsightsAction="ENABLE")):
            with pytest.raises(ClientError) as e:
                call()
            assert error(e) == ("ResourceNotFoundException",
                                f"Requested resource not found: Index: {index} not found for table: ci-err", 400)
    for call in (lambda: ddb.describe_contributor_insights(TableName="missing"),
                 lambda: ddb.list_contributor_insights(TableName="missing")):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("ResourceNotFoundException", "Requested resource not found: Table: missing not found", 400)
    with pytest.raises(ClientError) as e:
        ddb.update_contributor_insights(TableName="ci-err", ContributorInsightsAction="TOGGLE")
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.list_contributor_insights(MaxResults=101)
    assert error(e)[0] == "ValidationException"


# --- replica auto scaling ---------------------------------------------------------------------

def scaling(min_units, max_units, target=70.0, name=None):
    pol = {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": target}}
    if name:
        pol["PolicyName"] = name
    return {"MinimumUnits": min_units, "MaximumUnits": max_units, "ScalingPolicyUpdate": pol}


def test_replica_auto_scaling_settings(aloft, ddb):
    make_table(ddb, "ast", gsi=True, BillingMode="PROVISIONED",
               ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
               GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}])
    d = ddb.describe_table_replica_auto_scaling(TableName="ast")["TableAutoScalingDescription"]
    assert d["TableName"] == "ast" and d["TableStatus"] == "ACTIVE"
    (r,) = d["Replicas"]
    assert r["RegionName"] == "us-east-1" and r["ReplicaStatus"] == "ACTIVE"
    assert r["ReplicaProvisionedReadCapacityAutoScalingSettings"] == {"AutoScalingDisabled": True, "ScalingPolicies": []}
    assert r["GlobalSecondaryIndexes"][0]["IndexName"] == "by-g"

    out = ddb.update_table_replica_auto_scaling(
        TableName="ast",
        ProvisionedWriteCapacityAutoScalingUpdate=scaling(2, 20, 50.0, name="w-policy"),
        GlobalSecondaryIndexUpdates=[{"IndexName": "by-g", "ProvisionedWriteCapacityAutoScalingUpdate": scaling(1, 10)}],
        ReplicaUpdates=[{"RegionName": "us-east-1", "ReplicaProvisionedReadCapacityAutoScalingUpdate": scaling(3, 30)}],
    )["TableAutoScalingDescription"]
    (r,) = out["Replicas"]
    w = r["ReplicaProvisionedWriteCapacityAutoScalingSettings"]
    assert w["MinimumUnits"] == 2 and w["MaximumUnits"] == 20 and w["AutoScalingDisabled"] is False
    assert w["ScalingPolicies"] == [{"PolicyName": "w-policy",
                                     "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50.0}}]
    assert w["AutoScalingRoleArn"].endswith("/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable")
    read = r["ReplicaProvisionedReadCapacityAutoScalingSettings"]
    assert read["ScalingPolicies"][0]["PolicyName"] == "DynamoDBReadCapacityUtilization:table/ast"
    g = r["GlobalSecondaryIndexes"][0]
    assert g["ProvisionedWriteCapacityAutoScalingSettings"]["ScalingPolicies"][0]["PolicyName"] == \
        "DynamoDBWriteCapacityUtilization:table/ast/index/by-g"
    assert g["ProvisionedReadCapacityAutoScalingSettings"] == {"AutoScalingDisabled": True, "ScalingPolicies": []}
    # Described back as stored.
    again = ddb.describe_table_replica_auto_scaling(TableName="ast")["TableAutoScalingDescription"]
    assert again["Replicas"] == out["Replicas"]

    # Disabling deregisters the dimension; the sibling stays.
    ddb.update_table_replica_auto_scaling(TableName="ast", ReplicaUpdates=[
        {"RegionName": "us-east-1", "ReplicaProvisionedReadCapacityAutoScalingUpdate": {"AutoScalingDisabled": True}}])
    (r,) = ddb.describe_table_replica_auto_scaling(TableName="ast")["TableAutoScalingDescription"]["Replicas"]
    assert r["ReplicaProvisionedReadCapacityAutoScalingSettings"] == {"AutoScalingDisabled": True, "ScalingPolicies": []}
    assert r["ReplicaProvisionedWriteCapacityAutoScalingSettings"]["MinimumUnits"] == 2


def test_replica_auto_scaling_errors_and_global_replicas(aloft, ddb):
    make_table(ddb, "asg", gsi=True)
    prefix = "Failed to update settings for global table with name"
    cases = [
        ({"MinimumUnits": 1, "MaximumUnits": 5},
         f"{prefix}: \u2018asg\u2019: Parameters 'ScalingPolicyUpdate' are required unless auto scaling is being disabled."),
        ({"ScalingPolicyUpdate": {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50.0}}},
         f"{prefix}: \u2018asg\u2019: Parameters 'MaximumUnits', 'MinimumUnits' are required unless auto scaling is being disabled."),
        ({}, f"{prefix}: \u2018asg\u2019: Parameters 'MaximumUnits', 'ScalingPolicyUpdate', 'MinimumUnits' are required "
             "unless auto scaling is being disabled."),
        ({"AutoScalingDisabled": True, "MinimumUnits": 1, "MaximumUnits": 5},
         f"{prefix} \u2018asg\u2019: Parameters 'MaximumUnits', 'MinimumUnits' must be left blank when disabling auto scaling."),
    ]
    for update, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.update_table_replica_auto_scaling(TableName="asg", ProvisionedWriteCapacityAutoScalingUpdate=update)
        assert error(e) == ("ValidationException", message, 400), update
    with pytest.raises(ClientError) as e:
        ddb.update_table_replica_auto_scaling(TableName="asg", GlobalSecondaryIndexUpdates=[
            {"IndexName": "nope", "ProvisionedWriteCapacityAutoScalingUpdate": scaling(1, 5)}])
    assert error(e) == ("ResourceNotFoundException", "Requested resource not found: Index: nope not found for table: asg", 400)
    with pytest.raises(ClientError) as e:
        ddb.describe_table_replica_auto_scaling(TableName="missing")
    assert error(e) == ("ResourceNotFoundException", "Requested resource not found: Table: missing not found", 400)

    # A global table: the table's own region first, then its replica; write settings are shared.
    ddb.update_table(TableName="asg", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    ddb.update_table_replica_auto_scaling(TableName="asg", ProvisionedWriteCapacityAutoScalingUpdate=scaling(4, 40))
    for region, first in (("us-east-1", "us-east-1"), ("eu-west-1", "eu-west-1")):
        d = aloft.client("dynamodb", region=region).describe_table_replica_auto_scaling(TableName="asg")
        replicas = d["TableAutoScalingDescription"]["Replicas"]
        assert [r["RegionName"] for r in replicas][0] == first
        assert sorted(r["RegionName"] for r in replicas) == ["eu-west-1", "us-east-1"]
        assert all(r["ReplicaProvisionedWriteCapacityAutoScalingSettings"]["MinimumUnits"] == 4 for r in replicas)


# --- persistence ------------------------------------------------------------------------------

def test_settings_survive_a_restart(aloft_factory, tmp_path):
    # (legacy global tables as for an account that still has them)
    a = aloft_factory(data_dir=tmp_path / "d", args=LEGACY)
    ddb = a.client("dynamodb")
    arn = make_table(ddb, "durable", gsi=True)["TableArn"]
    rev = ddb.put_resource_policy(ResourceArn=arn, Policy=policy())["RevisionId"]
    ddb.update_contributor_insights(TableName="durable", IndexName="by-g", ContributorInsightsAction="ENABLE")
    ddb.update_table_replica_auto_scaling(TableName="durable", ProvisionedWriteCapacityAutoScalingUpdate=scaling(2, 8))
    gone = make_table(ddb, "gone")["TableArn"]
    ddb.put_resource_policy(ResourceArn=gone, Policy=policy())
    ddb.delete_table(TableName="gone")
    legacy_table(a, "us-east-1", "durable-g").create_global_table(
        GlobalTableName="durable-g", ReplicationGroup=[{"RegionName": "us-east-1"}])
    a.kill()

    b = aloft_factory(data_dir=tmp_path / "d", args=LEGACY)
    ddb = b.client("dynamodb")
    assert ddb.get_resource_policy(ResourceArn=arn)["RevisionId"] == rev
    b.advance(2)
    d = ddb.describe_contributor_insights(TableName="durable", IndexName="by-g")
    assert d["ContributorInsightsStatus"] == "ENABLED"
    (r,) = ddb.describe_table_replica_auto_scaling(TableName="durable")["TableAutoScalingDescription"]["Replicas"]
    assert r["ReplicaProvisionedWriteCapacityAutoScalingSettings"]["MaximumUnits"] == 8
    make_table(ddb, "gone")
    with pytest.raises(ClientError) as e:
        ddb.get_resource_policy(ResourceArn=gone)
    assert error(e)[0] == "PolicyNotFoundException"
    g = ddb.describe_global_table(GlobalTableName="durable-g")["GlobalTableDescription"]
    assert g["ReplicationGroup"] == [{"RegionName": "us-east-1"}]


# --- enforcement ------------------------------------------------------------------------------

def user_client(aloft, name, identity_policy=None):
    iam = aloft.client("iam")
    user = iam.create_user(UserName=name)["User"]
    if identity_policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(identity_policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    c = boto3.client("dynamodb", endpoint_url=aloft.url, region_name="us-east-1",
                     aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                     config=botocore.config.Config(retries={"max_attempts": 1}))
    return user["Arn"], c


def test_resource_policy_takes_part_in_enforcement(aloft_factory):
    a = aloft_factory(args=["--enforce-iam"])
    ddb = a.client("dynamodb")
    arn = make_table(ddb, "guarded")["TableArn"]
    ddb.put_item(TableName="guarded", Item={"pk": {"S": "a"}})

    # A user with no identity policy is let in by the table's policy alone (same account).
    reader_arn, reader = user_client(a, "reader")
    with pytest.raises(ClientError) as e:
        reader.get_item(TableName="guarded", Key={"pk": {"S": "a"}})
    assert error(e)[0] == "AccessDeniedException"
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
    writer_arn, writer = user_client(a, "writer", allow_all)
    ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": reader_arn}, "Action": "dynamodb:GetItem", "Resource": arn},
        {"Effect": "Deny", "Principal": {"AWS": writer_arn}, "Action": "dynamodb:PutItem", "Resource": arn},
    ]}))
    assert reader.get_item(TableName="guarded", Key={"pk": {"S": "a"}})["Item"]["pk"] == {"S": "a"}
    # An explicit Deny in the table's policy beats the writer's identity Allow.
    with pytest.raises(ClientError) as e:
        writer.put_item(TableName="guarded", Item={"pk": {"S": "b"}})
    code, message, _ = error(e)
    assert code == "AccessDeniedException"
    assert message.endswith("with an explicit deny in a resource-based policy")
    writer.get_item(TableName="guarded", Key={"pk": {"S": "a"}})


# --- global tables version 2017.11.29 ---------------------------------------------------------

# AWS refuses new legacy global tables everywhere now; Aloft makes them only with this setting.
LEGACY = ["--set", "dynamodb.legacy_global_tables=true"]
UNSUPPORTED = ("One or more parameter values were invalid: DynamoDB global tables version 2017.11.29 is not "
               "supported. We recommend using DynamoDB global tables version 2019.11.21, instead of version "
               "2017.11.29 (Legacy).")


@pytest.fixture
def legacy(aloft_factory):
    return aloft_factory(args=LEGACY)


def test_legacy_global_tables_are_refused_as_aws_does_now(aloft):
    east = legacy_table(aloft, "us-east-1", "glob")
    legacy_table(aloft, "us-west-2", "glob")
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName="glob", ReplicationGroup=[
            {"RegionName": "us-east-1"}, {"RegionName": "us-west-2"}])
    assert error(e) == ("ValidationException", UNSUPPORTED, 400)
    # Outside the regions that ever had the legacy version, the message names them.
    south = legacy_table(aloft, "ap-south-1", "glob")
    with pytest.raises(ClientError) as e:
        south.create_global_table(GlobalTableName="glob", ReplicationGroup=[{"RegionName": "ap-south-1"}])
    code, message, _ = error(e)
    assert code == "ValidationException"
    assert "not supported in this region 'ap-south-1', supported regions are : [eu-west-2, eu-west-1," in message
    # Adding a region is refused alike, even for a name that does not exist.
    with pytest.raises(ClientError) as e:
        east.update_global_table(GlobalTableName="missing", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    assert error(e) == ("ValidationException", UNSUPPORTED, 400)
    # Nothing was made; a 2019.11.21 global table is no legacy one either.
    east.update_table(TableName="glob", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    with pytest.raises(ClientError) as e:
        east.describe_global_table(GlobalTableName="glob")
    assert error(e)[0] == "GlobalTableNotFoundException"
    assert east.list_global_tables()["GlobalTables"] == []


def legacy_table(aloft, region, name="legacy", stream="NEW_AND_OLD_IMAGES"):
    c = aloft.client("dynamodb", region=region)
    args = dict(TableName=name, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    if stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
    c.create_table(**args)
    return c


def test_legacy_global_table_lifecycle_and_replication(legacy):
    aloft = legacy
    east = legacy_table(aloft, "us-east-1")
    west = legacy_table(aloft, "us-west-2")
    legacy_table(aloft, "eu-west-1")
    d = east.create_global_table(GlobalTableName="legacy", ReplicationGroup=[
        {"RegionName": "us-east-1"}, {"RegionName": "us-west-2"}])["GlobalTableDescription"]
    assert d["GlobalTableName"] == "legacy" and d["GlobalTableStatus"] == "CREATING"
    assert d["GlobalTableArn"] == f"arn:aws:dynamodb::{ACCOUNT}:global-table/legacy"
    assert d["ReplicationGroup"] == [{"RegionName": "us-east-1"}, {"RegionName": "us-west-2"}]
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName="legacy", ReplicationGroup=[{"RegionName": "us-east-1"}])
    assert error(e)[0] == "GlobalTableAlreadyExistsException"

    # Writes replicate between the linked tables.
    east.put_item(TableName="legacy", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    aloft.internal("POST", "dynamodb/replication/flush")
    assert west.get_item(TableName="legacy", Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}

    assert west.describe_global_table(GlobalTableName="legacy")["GlobalTableDescription"]["GlobalTableStatus"] == "ACTIVE"
    listed = east.list_global_tables()["GlobalTables"]
    assert listed == [{"GlobalTableName": "legacy", "ReplicationGroup": d["ReplicationGroup"]}]
    assert east.list_global_tables(RegionName="eu-west-1")["GlobalTables"] == []

    # eu-west-1 joins (its table is empty); us-west-2 leaves.
    u = east.update_global_table(GlobalTableName="legacy", ReplicaUpdates=[
        {"Create": {"RegionName": "eu-west-1"}}, {"Delete": {"RegionName": "us-west-2"}}])["GlobalTableDescription"]
    assert [r["RegionName"] for r in u["ReplicationGroup"]] == ["us-east-1", "eu-west-1"]
    with pytest.raises(ClientError) as e:
        east.update_global_table(GlobalTableName="legacy", ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    assert error(e)[0] == "ReplicaAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        east.update_global_table(GlobalTableName="legacy", ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    assert error(e)[0] == "ReplicaNotFoundException"
    east.put_item(TableName="legacy", Item={"pk": {"S": "b"}})
    aloft.internal("POST", "dynamodb/replication/flush")
    assert "Item" not in west.get_item(TableName="legacy", Key={"pk": {"S": "b"}})
    eu = aloft.client("dynamodb", region="eu-west-1")
    assert eu.get_item(TableName="legacy", Key={"pk": {"S": "b"}})["Item"]

    s = east.describe_global_table_settings(GlobalTableName="legacy")
    assert [r["RegionName"] for r in s["ReplicaSettings"]] == ["us-east-1", "eu-west-1"]
    assert s["ReplicaSettings"][0]["ReplicaBillingModeSummary"] == {"BillingMode": "PAY_PER_REQUEST"}
    s = east.update_global_table_settings(
        GlobalTableName="legacy", GlobalTableBillingMode="PROVISIONED", GlobalTableProvisionedWriteCapacityUnits=7,
        ReplicaSettingsUpdate=[{"RegionName": "eu-west-1", "ReplicaProvisionedReadCapacityUnits": 9}])
    by_region = {r["RegionName"]: r for r in s["ReplicaSettings"]}
    assert by_region["eu-west-1"]["ReplicaProvisionedReadCapacityUnits"] == 9
    assert by_region["us-east-1"]["ReplicaProvisionedWriteCapacityUnits"] == 7
    assert eu.describe_table(TableName="legacy")["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 9
    with pytest.raises(ClientError) as e:
        east.update_global_table_settings(GlobalTableName="legacy", ReplicaSettingsUpdate=[
            {"RegionName": "ap-south-1", "ReplicaProvisionedReadCapacityUnits": 1}])
    assert error(e)[0] == "ReplicaNotFoundException"
    with pytest.raises(ClientError) as e:
        east.update_global_table_settings(GlobalTableName="legacy", GlobalTableGlobalSecondaryIndexSettingsUpdate=[
            {"IndexName": "nope", "ProvisionedWriteCapacityUnits": 1}])
    assert error(e)[0] == "IndexNotFoundException"
    # A deleted replica table leaves the global table.
    eu.delete_table(TableName="legacy")
    group = east.describe_global_table(GlobalTableName="legacy")["GlobalTableDescription"]["ReplicationGroup"]
    assert group == [{"RegionName": "us-east-1"}]


def test_legacy_global_table_prerequisites(legacy):
    aloft = legacy
    east = legacy_table(aloft, "us-east-1", "pre-req")
    legacy_table(aloft, "us-west-2", "pre-req", stream="NEW_IMAGE")
    # AWS's words, as measured (ack-api-quirks DDB-GLOBALTABLE-004, DDB-TABLE-457) and as users
    # paste them (terraform-provider-aws#11982, aws-controllers-k8s/community#1034).
    with pytest.raises(ClientError) as e:
        east.describe_global_table(GlobalTableName="pre-req")
    assert error(e) == ("GlobalTableNotFoundException",
                        "Global table not found: Global table with name: 'pre-req' does not exist.", 400)
    with pytest.raises(ClientError) as e:
        east.describe_global_table_settings(GlobalTableName="pre-req")
    assert error(e) == ("GlobalTableNotFoundException", "Global table with name: 'pre-req' does not exist.", 400)
    for updates in ([], [{}]):
        with pytest.raises(ClientError) as e:
            east.update_global_table(GlobalTableName="pre-req", ReplicaUpdates=updates)
        assert error(e) == ("ValidationException", "One or more parameter values were invalid", 400)
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName="pre-req", ReplicationGroup=[
            {"RegionName": "us-east-1"}, {"RegionName": "eu-central-1"}])
    assert error(e) == ("TableNotFoundException",
                        "Table not found: Table: 'pre-req' not found in region: 'eu-central-1'.", 400)
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName="pre-req", ReplicationGroup=[
            {"RegionName": "us-east-1"}, {"RegionName": "us-west-2"}])
    assert error(e)[0] == "ValidationException"
    east.put_item(TableName="pre-req", Item={"pk": {"S": "x"}})
    with pytest.raises(ClientError) as e:
        east.create_global_table(GlobalTableName="pre-req", ReplicationGroup=[{"RegionName": "us-east-1"}])
    assert error(e) == ("ValidationException", P + "Table pre-req in region us-east-1 is not empty", 400)
    # Nothing was created by the failed attempts.
    assert east.list_global_tables()["GlobalTables"] == []


def test_index_queries_are_checked_against_the_index_arn(aloft_factory):
    a = aloft_factory(args=["--enforce-iam"])
    ddb = a.client("dynamodb")
    arn = make_table(ddb, "indexed", gsi=True)["TableArn"]
    ddb.put_item(TableName="indexed", Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    user_arn, user = user_client(a, "idx-reader")
    # The table's policy grants the table only: its index stays closed.
    ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:Query", principal={"AWS": user_arn}, resource=arn))
    query = dict(TableName="indexed", IndexName="by-g", KeyConditionExpression="g = :g",
                 ExpressionAttributeValues={":g": {"S": "x"}})
    with pytest.raises(ClientError) as e:
        user.query(**query)
    code, message, _ = error(e)
    assert code == "AccessDeniedException" and f"{arn}/index/by-g" in message
    ddb.put_resource_policy(ResourceArn=arn, Policy=policy("dynamodb:Query", principal={"AWS": user_arn},
                                                           resource=[arn, f"{arn}/index/by-g"]))
    assert user.query(**query)["Count"] == 1


def test_another_account_reaches_a_table_by_arn_when_its_policy_allows(aloft_factory):
    a = aloft_factory(args=["--enforce-iam"])
    ddb = a.client("dynamodb")
    arn = make_table(ddb, "shared")["TableArn"]
    ddb.put_item(TableName="shared", Item={"pk": {"S": "a"}, "v": {"S": "owner"}})
    other = boto3.client("dynamodb", endpoint_url=a.url, region_name="us-east-1",
                         aws_access_key_id="111122223333", aws_secret_access_key="x",
                         config=botocore.config.Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        other.get_item(TableName=arn, Key={"pk": {"S": "a"}})
    assert error(e)[0] == "AccessDeniedException"
    ddb.put_resource_policy(ResourceArn=arn, Policy=policy(
        ["dynamodb:GetItem", "dynamodb:Query"], principal={"AWS": "111122223333"}, resource=arn))
    assert other.get_item(TableName=arn, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "owner"}
    got = other.query(TableName=arn, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}})
    assert got["Count"] == 1
    # Writes are not granted; the other account has no table of that name of its own.
    with pytest.raises(ClientError) as e:
        other.put_item(TableName=arn, Item={"pk": {"S": "b"}})
    assert error(e)[0] == "AccessDeniedException"
    assert "shared" not in other.list_tables()["TableNames"]
