"""Lambda under --enforce-iam: function resource policies (AddPermission) grant invocation, within
an account and across accounts; and a function's code runs with its execution role's temporary
credentials, so what it may call is what the role allows."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

TRUST_LAMBDA = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
TRUST_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

ECHO = "def handler(event, context):\n    return {'ok': True}\n"

CALLER = """
import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    out = {}
    try:
        out["arn"] = boto3.client("sts").get_caller_identity()["Arn"]
    except ClientError as e:
        out["arn_error"] = e.response["Error"]["Code"]
    ddb = boto3.client("dynamodb")
    for table in ("allowed", "other"):
        try:
            ddb.put_item(TableName=table, Item={"k": {"S": "from-lambda"}})
            out[table] = "ok"
        except ClientError as e:
            out[table] = e.response["Error"]["Code"]
    return out
"""


def zip_of(code: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.py", code)
    return buf.getvalue()


def client(aloft, service, key, secret="x"):
    return boto3.client(service, endpoint_url=aloft.url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def user_keys(iam, name, policy=None):
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return iam.create_access_key(UserName=name)["AccessKey"]


@pytest.fixture
def enforcing(aloft_factory):
    return aloft_factory(args=["--enforce-iam"])


def invoke(lam, name, **kw):
    r = lam.invoke(FunctionName=name, **kw)
    return json.loads(r["Payload"].read())


def test_resource_policy_grants_invoke(enforcing):
    a = enforcing
    iam = a.client("iam")
    iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST_LAMBDA)
    lam = a.client("lambda")
    lam.create_function(FunctionName="f", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/fn-role",
                        Handler="app.handler", Code={"ZipFile": zip_of(ECHO)})
    k = user_keys(iam, "caller")
    as_user = client(a, "lambda", k["AccessKeyId"], k["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        as_user.invoke(FunctionName="f")
    err = e.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDeniedException", 403)
    assert err["Error"]["Message"] == (
        "User: arn:aws:iam::000000000000:user/caller is not authorized to perform: lambda:InvokeFunction on "
        "resource: arn:aws:lambda:us-east-1:000000000000:function:f because no identity-based policy allows "
        "the lambda:InvokeFunction action")
    lam.add_permission(FunctionName="f", StatementId="caller", Action="lambda:InvokeFunction",
                       Principal="arn:aws:iam::000000000000:user/caller")
    assert invoke(as_user, "f") == {"ok": True}
    # The statement grants invocation only.
    with pytest.raises(ClientError) as e:
        as_user.get_function(FunctionName="f")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    # A permission on an alias covers invocations of that alias, not of the function.
    v = lam.publish_version(FunctionName="f")["Version"]
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion=v)
    k2 = user_keys(iam, "alias-caller")
    as_alias_user = client(a, "lambda", k2["AccessKeyId"], k2["SecretAccessKey"])
    lam.add_permission(FunctionName="f", Qualifier="live", StatementId="alias", Action="lambda:InvokeFunction",
                       Principal="arn:aws:iam::000000000000:user/alias-caller")
    assert invoke(as_alias_user, "f", Qualifier="live") == {"ok": True}
    with pytest.raises(ClientError):
        as_alias_user.invoke(FunctionName="f")
    # Removing the statement takes the grant away.
    lam.remove_permission(FunctionName="f", StatementId="caller")
    with pytest.raises(ClientError):
        as_user.invoke(FunctionName="f")


def test_cross_account_invoke_needs_both_policies(enforcing):
    a = enforcing
    a.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST_LAMBDA)
    lam = a.client("lambda")
    arn = lam.create_function(FunctionName="shared", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/fn-role",
                              Handler="app.handler", Code={"ZipFile": zip_of(ECHO)})["FunctionArn"]
    other_iam = client(a, "iam", "111122223333")
    k = user_keys(other_iam, "partner", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]})
    partner = client(a, "lambda", k["AccessKeyId"], k["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        partner.invoke(FunctionName=arn)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    lam.add_permission(FunctionName="shared", StatementId="partner", Action="lambda:InvokeFunction",
                       Principal="111122223333")
    assert invoke(partner, arn) == {"ok": True}


def test_function_code_runs_with_its_execution_role(enforcing):
    a = enforcing
    iam = a.client("iam")
    iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST_LAMBDA)
    iam.put_role_policy(RoleName="fn-role", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
            {"Effect": "Allow", "Action": "dynamodb:PutItem",
             "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/allowed"}]}))
    iam.create_role(RoleName="ec2-role", AssumeRolePolicyDocument=TRUST_EC2)
    ddb = a.client("dynamodb")
    for t in ("allowed", "other"):
        ddb.create_table(TableName=t, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    lam = a.client("lambda")
    lam.create_function(FunctionName="worker", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/fn-role",
                        Handler="app.handler", Code={"ZipFile": zip_of(CALLER)}, Timeout=30)
    out = invoke(lam, "worker")
    assert out == {"arn": "arn:aws:sts::000000000000:assumed-role/fn-role/worker", "allowed": "ok",
                   "other": "AccessDeniedException"}
    assert ddb.get_item(TableName="allowed", Key={"k": {"S": "from-lambda"}})["Item"]
    # A role Lambda may not assume: the function's calls are refused, never made as root.
    lam.create_function(FunctionName="untrusted", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/ec2-role",
                        Handler="app.handler", Code={"ZipFile": zip_of(CALLER)}, Timeout=30)
    out = invoke(lam, "untrusted")
    assert out == {"arn_error": "InvalidClientTokenId", "allowed": "UnrecognizedClientException",
                   "other": "UnrecognizedClientException"}
