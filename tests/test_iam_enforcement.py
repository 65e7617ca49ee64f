"""Opt-in SigV4 verification (--verify-signatures) and IAM enforcement (--enforce-iam) in the
gateway, across protocol families (query: STS/SQS-query, json: DynamoDB/SQS, rest-json: Lambda),
and the account mapping of temporary credentials that holds without either flag."""

from __future__ import annotations

import json

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

TRUST_ANYONE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})


def client(aloft, service, key, secret, token=None):
    return boto3.client(service, endpoint_url=aloft.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def creds_client(aloft, service, creds):
    return client(aloft, service, creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("SessionToken"))


def error(exc):
    r = exc.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]


def make_user(aloft, name, policy=None):
    iam = aloft.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_temporary_credentials_belong_to_their_account_without_enforcement(aloft):
    # The role lives in account 111122223333 (a 12-digit key names its account).
    iam = client(aloft, "iam", "111122223333", "x")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_ANYONE)
    ddb = client(aloft, "dynamodb", "111122223333", "x")
    ddb.create_table(TableName="only-in-1111", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    creds = client(aloft, "sts", "111122223333", "x").assume_role(
        RoleArn="arn:aws:iam::111122223333:role/r", RoleSessionName="ss")["Credentials"]
    ident = creds_client(aloft, "sts", creds).get_caller_identity()
    assert ident["Account"] == "111122223333"
    assert "only-in-1111" in creds_client(aloft, "dynamodb", creds).list_tables()["TableNames"]
    # The default account does not see it.
    assert "only-in-1111" not in aloft.client("dynamodb").list_tables()["TableNames"]


@pytest.fixture
def verifying(aloft_factory):
    return aloft_factory(args=["--verify-signatures"])


def test_default_credentials_verify(verifying):
    assert verifying.client("sts").get_caller_identity()["Account"] == "000000000000"
    verifying.client("dynamodb").list_tables()
    verifying.client("lambda").list_functions()
    assert verifying.cli_json("sts", "get-caller-identity")["Account"] == "000000000000"


def test_wrong_secret_is_refused_in_each_protocol(verifying):
    with pytest.raises(ClientError) as e:
        client(verifying, "sts", "test", "wrong").get_caller_identity()
    code, msg, status = error(e)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert msg.startswith("The request signature we calculated does not match the signature you provided.")
    with pytest.raises(ClientError) as e:
        client(verifying, "dynamodb", "test", "wrong").list_tables()
    assert error(e)[0::2] == ("InvalidSignatureException", 400)
    with pytest.raises(ClientError) as e:
        client(verifying, "lambda", "test", "wrong").list_functions()
    assert error(e)[0::2] == ("InvalidSignatureException", 403)


def test_unknown_keys_are_refused(verifying):
    with pytest.raises(ClientError) as e:
        client(verifying, "sts", "AKIAIOSFODNN7EXAMPLE", "x").get_caller_identity()
    assert error(e) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    with pytest.raises(ClientError) as e:
        client(verifying, "dynamodb", "AKIAIOSFODNN7EXAMPLE", "x").list_tables()
    assert error(e)[0::2] == ("UnrecognizedClientException", 400)


def test_iam_user_keys_and_session_credentials_verify_and_expire(verifying):
    key = make_user(verifying, "alice")
    alice = client(verifying, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert alice.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:user/alice"
    with pytest.raises(ClientError) as e:
        client(verifying, "sts", key["AccessKeyId"], key["SecretAccessKey"] + "x").get_caller_identity()
    assert error(e)[0] == "SignatureDoesNotMatch"

    creds = alice.get_session_token(DurationSeconds=900)["Credentials"]
    assert creds_client(verifying, "sts", creds).get_caller_identity()["Arn"].endswith(":user/alice")
    # A temporary key without its session token is not a valid token.
    with pytest.raises(ClientError) as e:
        client(verifying, "sts", creds["AccessKeyId"], creds["SecretAccessKey"]).get_caller_identity()
    assert error(e)[0] == "InvalidClientTokenId"

    verifying.advance(901)
    with pytest.raises(ClientError) as e:
        creds_client(verifying, "sts", creds).get_caller_identity()
    assert error(e) == ("ExpiredToken", "The security token included in the request is expired", 403)
    with pytest.raises(ClientError) as e:
        creds_client(verifying, "dynamodb", creds).list_tables()
    assert error(e)[0::2] == ("ExpiredTokenException", 400)


def test_deactivated_keys_stop_working(verifying):
    key = make_user(verifying, "bob")
    verifying.client("iam").update_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        client(verifying, "sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert error(e)[0] == "InvalidClientTokenId"


def test_unsigned_calls_need_a_token_unless_aws_allows_them(verifying):
    from botocore import UNSIGNED
    anon = boto3.client("dynamodb", endpoint_url=verifying.url, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        anon.list_tables()
    assert error(e) == ("MissingAuthenticationTokenException", "Request is missing Authentication Token", 400)
    # Cognito's sign-in is unsigned by design.
    idp = boto3.client("cognito-idp", endpoint_url=verifying.url, region_name="us-east-1",
                       config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId="nope", AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "u", "PASSWORD": "p"})
    assert error(e)[0] == "ResourceNotFoundException"


@pytest.fixture
def enforcing(aloft_factory):
    return aloft_factory(args=["--enforce-iam", "--verify-signatures"])


TABLE = {"AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}


def test_identity_policies_are_enforced(enforcing):
    root = enforcing.client("dynamodb")
    root.create_table(TableName="allowed", **TABLE)
    root.create_table(TableName="other", **TABLE)
    key = make_user(enforcing, "carol", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
         "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/allowed"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}]})
    carol = client(enforcing, "dynamodb", key["AccessKeyId"], key["SecretAccessKey"])
    carol.put_item(TableName="allowed", Item={"k": {"S": "1"}})
    assert carol.get_item(TableName="allowed", Key={"k": {"S": "1"}})["Item"]["k"]["S"] == "1"

    with pytest.raises(ClientError) as e:
        carol.put_item(TableName="other", Item={"k": {"S": "1"}})
    assert error(e) == (
        "AccessDeniedException",
        "User: arn:aws:iam::000000000000:user/carol is not authorized to perform: dynamodb:PutItem on resource: "
        "arn:aws:dynamodb:us-east-1:000000000000:table/other because no identity-based policy allows the "
        "dynamodb:PutItem action",
        400,
    )
    with pytest.raises(ClientError) as e:
        carol.delete_item(TableName="allowed", Key={"k": {"S": "1"}})
    assert error(e)[1].endswith("with an explicit deny in an identity-based policy")

    sqs = client(enforcing, "sqs", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="q")
    assert "is not authorized to perform: sqs:CreateQueue" in error(e)[1]
    iam = client(enforcing, "iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="mallory")
    assert error(e)[0::2] == ("AccessDenied", 403)
    # Root (the default credentials) is allowed everything.
    assert enforcing.client("dynamodb").delete_item(TableName="allowed", Key={"k": {"S": "1"}})


def test_roles_and_session_policies_are_enforced(enforcing):
    iam = enforcing.client("iam")
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=TRUST_ANYONE)
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
    enforcing.client("dynamodb").create_table(TableName="tbl", **TABLE)
    sts = enforcing.client("sts")
    creds = sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/reader", RoleSessionName="ss")["Credentials"]
    ddb = creds_client(enforcing, "dynamodb", creds)
    assert ddb.scan(TableName="tbl")["Count"] == 0
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="tbl", Item={"k": {"S": "1"}})
    assert error(e)[1].startswith(
        "User: arn:aws:sts::000000000000:assumed-role/reader/ss is not authorized to perform: dynamodb:PutItem")

    # A session policy narrows the role further.
    narrowed = sts.assume_role(
        RoleArn="arn:aws:iam::000000000000:role/reader", RoleSessionName="nn",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:DescribeTable", "Resource": "*"}]}))["Credentials"]
    ddb = creds_client(enforcing, "dynamodb", narrowed)
    ddb.describe_table(TableName="tbl")
    with pytest.raises(ClientError):
        ddb.scan(TableName="tbl")
