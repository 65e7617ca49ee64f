"""STS and IAM against the real binary (query protocol), with boto3 and the AWS CLI."""

from __future__ import annotations

import datetime
import json
import urllib.parse

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def err(exc):
    e = exc.value.response["Error"]
    return e["Code"], e["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def client_with(aloft, service, creds):
    return boto3.client(service, endpoint_url=aloft.url, region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds.get("SessionToken"),
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def test_caller_identity_defaults_to_root(aloft):
    ident = aloft.client("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    assert aloft.cli_json("sts", "get-caller-identity")["Account"] == "000000000000"


def test_assume_role_credentials_expire_on_the_clock(aloft):
    iam, sts = aloft.client("iam"), aloft.client("sts")
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=TRUST, MaxSessionDuration=7200)["Role"]
    assert role["Arn"] == "arn:aws:iam::000000000000:role/worker" and role["RoleId"].startswith("AROA")
    out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["SecretAccessKey"]) == 40
    left = creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert 800 < left.total_seconds() <= 901
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/worker/s1"
    assert out["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:s1"
    me = client_with(aloft, "sts", creds).get_caller_identity()
    assert me["Arn"] == "arn:aws:sts::000000000000:assumed-role/worker/s1"
    assert me["UserId"] == f"{role['RoleId']}:s1"
    aloft.advance(901)
    # Expired temporary keys are no longer recognised as the role.
    assert client_with(aloft, "sts", creds).get_caller_identity()["Arn"] != me["Arn"]

    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=10000)
    assert err(e)[:2] == ("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="bad name!")
    assert err(e)[0] == "ValidationError"


def test_session_and_federation_tokens(aloft):
    sts = aloft.client("sts")
    fed = sts.get_federation_token(Name="bob", Policy=POLICY)
    assert fed["FederatedUser"]["Arn"] == "arn:aws:sts::000000000000:federated-user/bob"
    assert client_with(aloft, "sts", fed["Credentials"]).get_caller_identity()["Arn"] == fed["FederatedUser"]["Arn"]
    tok = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert tok["SessionToken"]
    with pytest.raises(ClientError) as e:
        aloft.client("sts", parameter_validation=False).get_session_token(DurationSeconds=100)
    assert err(e)[0] == "ValidationError"


def test_iam_user_keys_identify_the_caller(aloft):
    iam = aloft.client("iam")
    user = iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "a"}])["User"]
    assert user["Arn"] == "arn:aws:iam::000000000000:user/alice" and user["UserId"].startswith("AIDA")
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="alice")
    assert err(e) == ("EntityAlreadyExists", "User with name alice already exists.", 409)
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and key["Status"] == "Active"
    me = client_with(aloft, "sts", key).get_caller_identity()
    assert me["Arn"] == user["Arn"] and me["UserId"] == user["UserId"]
    assert client_with(aloft, "iam", key).get_user()["User"]["UserName"] == "alice"
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="alice")
    assert err(e)[:2] == ("DeleteConflict", "Cannot delete entity, must delete access keys first.")
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="alice")
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="alice")
    assert err(e) == ("NoSuchEntity", "The user with name alice cannot be found.", 404)


def test_roles_and_policies(aloft):
    iam = aloft.client("iam")
    iam.create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST, Path="/service/")
    role = iam.get_role(RoleName="fn")["Role"]
    assert role["Path"] == "/service/" and role["Arn"] == "arn:aws:iam::000000000000:role/service/fn"
    # boto3 decodes the URL-encoded document into a dict.
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"
    pol = iam.create_policy(PolicyName="read", PolicyDocument=POLICY)["Policy"]
    assert pol["Arn"] == "arn:aws:iam::000000000000:policy/read" and pol["DefaultVersionId"] == "v1"
    iam.attach_role_policy(RoleName="fn", PolicyArn=pol["Arn"])
    iam.attach_role_policy(RoleName="fn", PolicyArn="arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")
    attached = iam.list_attached_role_policies(RoleName="fn")["AttachedPolicies"]
    assert [a["PolicyName"] for a in attached] == ["read", "AWSLambdaBasicExecutionRole"]
    assert iam.get_policy(PolicyArn=pol["Arn"])["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=pol["Arn"])
    assert err(e)[0] == "DeleteConflict"
    v2 = iam.create_policy_version(PolicyArn=pol["Arn"], PolicyDocument=POLICY.replace("GetObject", "PutObject"), SetAsDefault=True)
    assert v2["PolicyVersion"]["VersionId"] == "v2" and v2["PolicyVersion"]["IsDefaultVersion"]
    doc = iam.get_policy_version(PolicyArn=pol["Arn"], VersionId="v2")["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == "s3:PutObject"
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=pol["Arn"])["Versions"]] == ["v2", "v1"]
    iam.put_role_policy(RoleName="fn", PolicyName="inline", PolicyDocument=POLICY)
    assert iam.list_role_policies(RoleName="fn")["PolicyNames"] == ["inline"]
    assert iam.get_role_policy(RoleName="fn", PolicyName="inline")["PolicyDocument"]["Statement"][0]["Effect"] == "Allow"
    with pytest.raises(ClientError) as e:
        iam.put_role_policy(RoleName="fn", PolicyName="bad", PolicyDocument="{not json")
    assert err(e)[0] == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="fn")
    assert err(e)[0] == "DeleteConflict"
    iam.delete_role_policy(RoleName="fn", PolicyName="inline")
    iam.detach_role_policy(RoleName="fn", PolicyArn=pol["Arn"])
    iam.detach_role_policy(RoleName="fn", PolicyArn="arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")
    iam.delete_role(RoleName="fn")
    assert iam.list_roles()["Roles"] == []


def test_groups_and_pagination(aloft):
    iam = aloft.client("iam")
    iam.create_group(GroupName="devs")
    for n in ("u1", "u2", "u3"):
        iam.create_user(UserName=n)
    iam.add_user_to_group(GroupName="devs", UserName="u2")
    assert [u["UserName"] for u in iam.get_group(GroupName="devs")["Users"]] == ["u2"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="u2")["Groups"]] == ["devs"]
    page = iam.list_users(MaxItems=2)
    assert page["IsTruncated"] and len(page["Users"]) == 2
    rest = iam.list_users(Marker=page["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["u3"] and not rest["IsTruncated"]
    names = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 1}) for u in p["Users"]]
    assert names == ["u1", "u2", "u3"]


def test_web_identity_from_a_cognito_token(aloft):
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    cid = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="u", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="u", Password="Passw0rd!Passw0rd", Permanent=True)
    token = idp.admin_initiate_auth(UserPoolId=pool, ClientId=cid, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "u", "PASSWORD": "Passw0rd!Passw0rd"})["AuthenticationResult"]["IdToken"]
    aloft.client("iam").create_role(RoleName="web", AssumeRolePolicyDocument=TRUST)
    # AssumeRoleWithWebIdentity is unsigned, as SDKs send it.
    sts = boto3.client("sts", endpoint_url=aloft.url, region_name="us-east-1",
                       config=botocore.config.Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))
    out = sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::000000000000:role/web", RoleSessionName="app", WebIdentityToken=token)
    assert out["Audience"] == cid and out["Provider"].endswith(pool)
    me = client_with(aloft, "sts", out["Credentials"]).get_caller_identity()
    assert me["Arn"] == "arn:aws:sts::000000000000:assumed-role/web/app"
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::000000000000:role/web", RoleSessionName="app", WebIdentityToken="garbage")
    assert err(e)[0] == "InvalidIdentityToken"
    aloft.advance(3700)
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::000000000000:role/web", RoleSessionName="app", WebIdentityToken=token)
    assert err(e)[0] == "ExpiredTokenException"


def test_iam_cli(aloft):
    aloft.cli("iam", "create-role", "--role-name", "clirole", "--assume-role-policy-document", TRUST)
    roles = aloft.cli_json("iam", "list-roles")["Roles"]
    assert [r["RoleName"] for r in roles] == ["clirole"]
    creds = aloft.cli_json("sts", "assume-role", "--role-arn", roles[0]["Arn"], "--role-session-name", "cli")["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")


def test_policy_simulation(aloft):
    iam = aloft.client("iam")
    deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"}]})
    out = iam.simulate_custom_policy(PolicyInputList=[POLICY, deny], ActionNames=["s3:GetObject", "s3:PutObject"],
                                     ResourceArns=["arn:aws:s3:::b/k", "arn:aws:s3:::secret/k"])["EvaluationResults"]
    got = {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in out}
    assert got == {
        ("s3:GetObject", "arn:aws:s3:::b/k"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::secret/k"): "explicitDeny",
        ("s3:PutObject", "arn:aws:s3:::b/k"): "implicitDeny",
        ("s3:PutObject", "arn:aws:s3:::secret/k"): "implicitDeny",
    }
    cond = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
                                      "Condition": {"StringEquals": {"aws:username": "alice"}}}]})
    ctx = [{"ContextKeyName": "aws:username", "ContextKeyValues": ["bob"], "ContextKeyType": "string"}]
    res = iam.simulate_custom_policy(PolicyInputList=[cond], ActionNames=["s3:ListBucket"], ContextEntries=ctx)["EvaluationResults"]
    assert res[0]["EvalDecision"] == "implicitDeny"

    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    pol = iam.create_policy(PolicyName="read", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="g", PolicyArn=pol)
    arn = iam.get_user(UserName="u")["User"]["Arn"]
    res = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:DeleteObject"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in res] == ["allowed", "implicitDeny"]
