"""KMS key policies and grants under --enforce-iam: the default policy delegates to IAM, a key policy
that denies kms:Decrypt to a role holds, a policy that does not delegate lets only the principals it
names in (the root included), grants work for their grantee, and another account's root needs the
key policy to name it."""

from __future__ import annotations

import json

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
TRUST_ANYONE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
KMS_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}


def client(aloft, key="test", secret="test", token=None, service="kms"):
    return boto3.client(service, endpoint_url=aloft.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def make_user(aloft, name, policy=None):
    iam = aloft.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return client(aloft, k["AccessKeyId"], k["SecretAccessKey"])


def denied(exc):
    r = exc.value.response
    assert r["Error"]["Code"] == "AccessDeniedException"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 400
    return r["Error"]["Message"]


@pytest.fixture
def enforcing(aloft_factory):
    return aloft_factory(args=["--enforce-iam", "--verify-signatures"])


def test_default_key_policy_delegates_to_iam(enforcing):
    kms = client(enforcing)
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"root may")["CiphertextBlob"]
    allowed = make_user(enforcing, "allowed", KMS_ALL)
    assert allowed.decrypt(CiphertextBlob=blob)["Plaintext"] == b"root may"
    nobody = make_user(enforcing, "nobody")
    with pytest.raises(ClientError) as e:
        nobody.decrypt(CiphertextBlob=blob)
    assert denied(e) == (f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: kms:Decrypt "
                         f"on resource: {key['Arn']} because no identity-based policy allows the kms:Decrypt action")


def test_key_policy_denying_decrypt_to_a_role(enforcing):
    kms = client(enforcing)
    iam = enforcing.client("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST_ANYONE)
    iam.put_role_policy(RoleName="app", PolicyName="kms", PolicyDocument=json.dumps(KMS_ALL))
    key = kms.create_key()["KeyMetadata"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    policy["Statement"].append({"Sid": "NoDecryptForApp", "Effect": "Deny",
                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"},
                                "Action": "kms:Decrypt", "Resource": "*"})
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    creds = client(enforcing, service="sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/app", RoleSessionName="ss")["Credentials"]
    app = client(enforcing, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    blob = app.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    with pytest.raises(ClientError) as e:
        app.decrypt(CiphertextBlob=blob)
    msg = denied(e)
    assert msg.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/app/ss is not authorized to perform: kms:Decrypt")
    assert msg.endswith("with an explicit deny in a resource-based policy")
    # Others are untouched by the role's deny.
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


def test_a_policy_without_delegation_lets_only_its_principals_in(enforcing):
    kms = client(enforcing)
    alice = make_user(enforcing, "alice")
    bob = make_user(enforcing, "bob", KMS_ALL)
    key = kms.create_key()["KeyMetadata"]
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", BypassPolicyLockoutSafetyCheck=True,
                       Policy=json.dumps({"Version": "2012-10-17", "Statement": [
                           {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}]}))
    blob = alice.encrypt(KeyId=key["KeyId"], Plaintext=b"a")["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob)["Plaintext"] == b"a"
    with pytest.raises(ClientError) as e:
        bob.decrypt(CiphertextBlob=blob)
    assert denied(e).endswith("because no resource-based policy allows the kms:Decrypt action")
    # IAM policies count for nothing here, and neither does the account's root.
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert denied(e).startswith(f"User: arn:aws:iam::{ACCOUNT}:root is not authorized")
    with pytest.raises(ClientError):
        alice.schedule_key_deletion(KeyId=key["KeyId"])


def test_grants_are_honoured_for_the_grantee(enforcing):
    kms = client(enforcing)
    carol = make_user(enforcing, "carol")
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"for carol")["CiphertextBlob"]
    with pytest.raises(ClientError):
        carol.decrypt(CiphertextBlob=blob)
    grant = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/carol",
                             Operations=["Decrypt", "Encrypt"])
    assert carol.decrypt(CiphertextBlob=blob)["Plaintext"] == b"for carol"
    carol.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    with pytest.raises(ClientError) as e:
        carol.describe_key(KeyId=key["KeyId"])
    assert "kms:DescribeKey" in denied(e)
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    with pytest.raises(ClientError):
        carol.decrypt(CiphertextBlob=blob)


def test_another_accounts_root_needs_the_key_policy(enforcing):
    kms = client(enforcing)
    key = kms.create_key()["KeyMetadata"]
    other = client(enforcing, "111122223333", "test")
    with pytest.raises(ClientError) as e:
        other.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert denied(e).startswith("User: arn:aws:iam::111122223333:root is not authorized to perform: kms:Encrypt")
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    policy["Statement"].append({"Sid": "Partner", "Effect": "Allow",
                                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"})
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    out = other.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert out["KeyId"] == key["Arn"]
    assert other.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    with pytest.raises(ClientError):
        other.disable_key(KeyId=key["Arn"])


def test_without_enforcement_policies_are_only_stored(aloft):
    kms = client(aloft)
    key = kms.create_key()["KeyMetadata"]
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", BypassPolicyLockoutSafetyCheck=True,
                       Policy=json.dumps({"Version": "2012-10-17", "Statement": [
                           {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}))
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"ok")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"ok"
