"""Secrets Manager (json 1.1) with boto3 and the CLI: versions and stages, values encrypted
through KMS, filters, deletion on the clock, policies, passwords, rotation via a Lambda."""

import io
import json
import time
import zipfile

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def sm(aloft):
    return aloft.client("secretsmanager")


def code(exc):
    return exc.value.response["Error"]["Code"]


def msg(exc):
    return exc.value.response["Error"]["Message"]


def test_create_get_describe(sm):
    out = sm.create_secret(Name="db/creds", SecretString='{"user":"app","password":"pw1"}',
                           Description="database", Tags=[{"Key": "env", "Value": "dev"}])
    assert out["ARN"].startswith("arn:aws:secretsmanager:us-east-1:000000000000:secret:db/creds-")
    assert len(out["ARN"].rsplit("-", 1)[1]) == 6
    v = sm.get_secret_value(SecretId="db/creds")
    assert json.loads(v["SecretString"]) == {"user": "app", "password": "pw1"}
    assert v["VersionStages"] == ["AWSCURRENT"] and v["VersionId"] == out["VersionId"]
    # Full ARN and the ARN without its random suffix both work.
    assert sm.get_secret_value(SecretId=out["ARN"])["Name"] == "db/creds"
    assert sm.get_secret_value(SecretId=out["ARN"][:-7])["Name"] == "db/creds"
    d = sm.describe_secret(SecretId="db/creds")
    assert d["Description"] == "database" and d["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert d["VersionIdsToStages"] == {out["VersionId"]: ["AWSCURRENT"]}
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="db/creds", SecretString="x")
    assert code(e) == "ResourceExistsException"
    assert msg(e) == "The operation failed because the secret db/creds already exists."
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="nope")
    assert code(e) == "ResourceNotFoundException"
    assert msg(e) == "Secrets Manager can't find the specified secret."


def test_binary_secret_and_both_values_rejected(sm):
    sm.create_secret(Name="bin", SecretBinary=b"\x00\x01\xff")
    assert sm.get_secret_value(SecretId="bin")["SecretBinary"] == b"\x00\x01\xff"
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="both", SecretString="a", SecretBinary=b"b")
    assert code(e) == "InvalidParameterException"


def test_secret_without_value(sm):
    sm.create_secret(Name="empty")
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="empty")
    assert code(e) == "ResourceNotFoundException"
    assert msg(e) == "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"


def test_versions_and_stages(sm):
    v1 = sm.create_secret(Name="s", SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId="s", SecretString="two")["VersionId"]
    assert sm.get_secret_value(SecretId="s")["SecretString"] == "two"
    prev = sm.get_secret_value(SecretId="s", VersionStage="AWSPREVIOUS")
    assert prev["SecretString"] == "one" and prev["VersionId"] == v1
    assert sm.get_secret_value(SecretId="s", VersionId=v1)["SecretString"] == "one"
    v3 = sm.put_secret_value(SecretId="s", SecretString="three", VersionStages=["AWSPENDING"])["VersionId"]
    stages = sm.describe_secret(SecretId="s")["VersionIdsToStages"]
    assert stages == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"], v3: ["AWSPENDING"]}
    # Promote the pending version by hand.
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId="s", VersionStage="AWSCURRENT", MoveToVersionId=v3)
    assert code(e) == "InvalidParameterException"
    sm.update_secret_version_stage(SecretId="s", VersionStage="AWSCURRENT", MoveToVersionId=v3, RemoveFromVersionId=v2)
    stages = sm.describe_secret(SecretId="s")["VersionIdsToStages"]
    assert stages == {v2: ["AWSPREVIOUS"], v3: ["AWSPENDING", "AWSCURRENT"]}
    ids = sm.list_secret_version_ids(SecretId="s")["Versions"]
    assert {v["VersionId"] for v in ids} == {v2, v3}
    ids = sm.list_secret_version_ids(SecretId="s", IncludeDeprecated=True)["Versions"]
    assert {v["VersionId"] for v in ids} == {v1, v2, v3}
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId="s", VersionStage="AWSCURRENT", RemoveFromVersionId=v3)
    assert code(e) == "InvalidParameterException"


def test_client_request_token_is_idempotent(sm):
    sm.create_secret(Name="t", SecretString="a")
    tok = "a" * 32 + "-token"
    r1 = sm.put_secret_value(SecretId="t", SecretString="b", ClientRequestToken=tok)
    r2 = sm.put_secret_value(SecretId="t", SecretString="b", ClientRequestToken=tok)
    assert r1["VersionId"] == r2["VersionId"] == tok
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId="t", SecretString="c", ClientRequestToken=tok)
    assert code(e) == "ResourceExistsException"


def test_update_secret(sm):
    sm.create_secret(Name="u", SecretString="a")
    out = sm.update_secret(SecretId="u", Description="new", SecretString="b")
    assert "VersionId" in out
    assert sm.get_secret_value(SecretId="u")["SecretString"] == "b"
    assert sm.describe_secret(SecretId="u")["Description"] == "new"
    assert "VersionId" not in sm.update_secret(SecretId="u", Description="newer")


def test_batch_get(sm):
    sm.create_secret(Name="app/a", SecretString="A")
    sm.create_secret(Name="app/b", SecretString="B")
    sm.create_secret(Name="other", SecretString="O")
    out = sm.batch_get_secret_value(SecretIdList=["app/a", "missing", "other"])
    assert sorted(v["SecretString"] for v in out["SecretValues"]) == ["A", "O"]
    assert out["Errors"][0]["SecretId"] == "missing"
    assert out["Errors"][0]["ErrorCode"] == "ResourceNotFoundException"
    out = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": ["app/"]}])
    assert sorted(v["Name"] for v in out["SecretValues"]) == ["app/a", "app/b"]
    with pytest.raises(ClientError) as e:
        sm.batch_get_secret_value(SecretIdList=["a"], Filters=[{"Key": "name", "Values": ["a"]}])
    assert code(e) == "InvalidParameterException"


def test_list_filters_and_pagination(sm):
    sm.create_secret(Name="prod/db", Description="primary database", Tags=[{"Key": "team", "Value": "core"}])
    sm.create_secret(Name="prod/api", Tags=[{"Key": "team", "Value": "web"}])
    sm.create_secret(Name="dev/db")
    names = lambda r: sorted(s["Name"] for s in r["SecretList"])  # noqa: E731
    assert names(sm.list_secrets(Filters=[{"Key": "name", "Values": ["prod/"]}])) == ["prod/api", "prod/db"]
    assert names(sm.list_secrets(Filters=[{"Key": "name", "Values": ["!prod/"]}])) == ["dev/db"]
    assert names(sm.list_secrets(Filters=[{"Key": "tag-value", "Values": ["core"]}])) == ["prod/db"]
    assert names(sm.list_secrets(Filters=[{"Key": "description", "Values": ["PRIMARY"]}])) == ["prod/db"]
    assert names(sm.list_secrets(Filters=[{"Key": "name", "Values": ["PROD/"]}])) == []
    assert names(sm.list_secrets(Filters=[{"Key": "all", "Values": ["Database"]}])) == ["prod/db"]
    assert names(sm.list_secrets(Filters=[{"Key": "all", "Values": ["web"]}])) == ["prod/api"]
    assert names(sm.list_secrets(Filters=[
        {"Key": "name", "Values": ["prod/"]}, {"Key": "tag-key", "Values": ["team"]},
        {"Key": "tag-value", "Values": ["web"]}])) == ["prod/api"]
    first = sm.list_secrets(MaxResults=2)
    assert len(first["SecretList"]) == 2 and "NextToken" in first
    rest = sm.list_secrets(MaxResults=2, NextToken=first["NextToken"])
    assert len(rest["SecretList"]) == 1 and "NextToken" not in rest
    paginator = sm.get_paginator("list_secrets")
    assert sum(len(p["SecretList"]) for p in paginator.paginate(PaginationConfig={"PageSize": 1})) == 3


def test_delete_restore_and_recovery_window_on_the_clock(aloft, sm):
    sm.create_secret(Name="gone", SecretString="x")
    out = sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7)
    assert "DeletionDate" in out
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="gone")
    assert code(e) == "InvalidRequestException"
    assert "marked for deletion" in msg(e)
    assert sm.list_secrets()["SecretList"] == []
    assert [s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]] == ["gone"]
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="gone", SecretString="y")
    assert code(e) == "InvalidRequestException"
    sm.restore_secret(SecretId="gone")
    assert sm.get_secret_value(SecretId="gone")["SecretString"] == "x"

    sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7)
    aloft.advance(7 * 86400 + 1)
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId="gone")
    assert code(e) == "ResourceNotFoundException"
    sm.create_secret(Name="gone", SecretString="again")

    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId="gone", RecoveryWindowInDays=3)
    assert code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert code(e) == "InvalidParameterException"
    sm.delete_secret(SecretId="gone", ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId="gone")
    assert code(e) == "ResourceNotFoundException"


def test_values_are_encrypted_with_the_secrets_kms_key(aloft, sm):
    kms = aloft.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    sm.create_secret(Name="k", SecretString="v", KmsKeyId=key)
    assert sm.describe_secret(SecretId="k")["KmsKeyId"] == key
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId="k")
    assert code(e) == "DecryptionFailure"
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId="k", SecretString="w")
    assert code(e) == "EncryptionFailure"
    kms.enable_key(KeyId=key)
    assert sm.get_secret_value(SecretId="k")["SecretString"] == "v"
    # The default key is the AWS managed alias/aws/secretsmanager.
    sm.create_secret(Name="d", SecretString="v")
    assert kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]["KeyManager"] == "AWS"


def test_tags_and_resource_policy(sm):
    sm.create_secret(Name="p", SecretString="x")
    sm.tag_resource(SecretId="p", Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sm.untag_resource(SecretId="p", TagKeys=["a"])
    assert sm.describe_secret(SecretId="p")["Tags"] == [{"Key": "b", "Value": "2"}]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    sm.put_resource_policy(SecretId="p", ResourcePolicy=policy)
    assert sm.get_resource_policy(SecretId="p")["ResourcePolicy"] == policy
    sm.delete_resource_policy(SecretId="p")
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId="p")
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId="p", ResourcePolicy="{nope")
    assert code(e) == "MalformedPolicyDocumentException"
    assert sm.validate_resource_policy(ResourcePolicy=policy)["PolicyValidationPassed"] is True


def test_get_random_password(sm):
    pw = sm.get_random_password(PasswordLength=20, ExcludePunctuation=True)["RandomPassword"]
    assert len(pw) == 20 and pw.isalnum()
    assert len(sm.get_random_password()["RandomPassword"]) == 32
    with pytest.raises(ClientError) as e:
        sm.get_random_password(ExcludeNumbers=True, ExcludePunctuation=True, ExcludeUppercase=True, ExcludeLowercase=True)
    assert code(e) == "InvalidParameterException"


def test_cli(aloft):
    aloft.cli("secretsmanager", "create-secret", "--name", "cli", "--secret-string", "s3cr3t")
    out = aloft.cli_json("secretsmanager", "get-secret-value", "--secret-id", "cli")
    assert out["SecretString"] == "s3cr3t"


ROTATOR = """
import json, boto3
sm = boto3.client("secretsmanager")
def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step == "createSecret":
        cur = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
        cur["password"] = "rotated-" + token[:8]
        sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(cur), VersionStages=["AWSPENDING"])
    elif step == "finishSecret":
        stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
        current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
        sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current)
    return step
"""


def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


def test_rotation_runs_the_four_steps_through_a_lambda(aloft, sm):
    lam = aloft.client("lambda")
    fn = lam.create_function(
        FunctionName="rotator", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
        Handler="app.handler", Code={"ZipFile": zip_of({"app.py": ROTATOR})}, Timeout=30,
    )["FunctionArn"]
    probe = lam.invoke(FunctionName="rotator", Payload=b'{"Step":"testSecret","SecretId":"x","ClientRequestToken":"t"}')
    if probe.get("FunctionError") and b"boto3" in probe["Payload"].read():
        pytest.skip("the machine's python3 has no boto3")
    v1 = sm.create_secret(Name="rot", SecretString=json.dumps({"user": "u", "password": "old"}))["VersionId"]
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId="rot")
    assert code(e) == "InvalidRequestException"
    out = sm.rotate_secret(SecretId="rot", RotationLambdaARN=fn, RotationRules={"AutomaticallyAfterDays": 30})
    token = out["VersionId"]
    cur = sm.get_secret_value(SecretId="rot")
    assert cur["VersionId"] == token
    assert json.loads(cur["SecretString"]) == {"user": "u", "password": "rotated-" + token[:8]}
    prev = sm.get_secret_value(SecretId="rot", VersionStage="AWSPREVIOUS")
    assert prev["VersionId"] == v1
    d = sm.describe_secret(SecretId="rot")
    assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == fn
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert "LastRotatedDate" in d and "NextRotationDate" in d
    # The schedule comes round on Aloft's clock: the worker rotates again by itself.
    aloft.advance(31 * 86400)
    deadline = time.time() + 15
    while time.time() < deadline and sm.get_secret_value(SecretId="rot")["VersionId"] == token:
        time.sleep(0.2)
    again = sm.get_secret_value(SecretId="rot")
    assert again["VersionId"] != token
    assert sm.get_secret_value(SecretId="rot", VersionStage="AWSPREVIOUS")["VersionId"] == token
    sm.cancel_rotate_secret(SecretId="rot")
    assert sm.describe_secret(SecretId="rot")["RotationEnabled"] is False


def test_secrets_survive_restart_with_data_dir(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    sm = a.client("secretsmanager")
    sm.create_secret(Name="keep", SecretString="one")
    sm.put_secret_value(SecretId="keep", SecretString="two")
    a.kill()
    if not any(p.suffix in (".redb", ".db") for p in tmp_path.rglob("*")):
        pytest.skip("this build has no durable journal yet")
    sm = aloft_factory(data_dir=tmp_path).client("secretsmanager")
    assert sm.get_secret_value(SecretId="keep")["SecretString"] == "two"
    assert sm.get_secret_value(SecretId="keep", VersionStage="AWSPREVIOUS")["SecretString"] == "one"


def test_a_lambda_reads_a_secret(aloft, sm):
    lam = aloft.client("lambda")
    code = "import boto3\ndef handler(e, c):\n    return boto3.client('secretsmanager').get_secret_value(SecretId='app/db')['SecretString']\n"
    lam.create_function(FunctionName="reader", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                        Handler="app.handler", Code={"ZipFile": zip_of({"app.py": code})}, Timeout=30)
    sm.create_secret(Name="app/db", SecretString="from-the-vault")
    r = lam.invoke(FunctionName="reader")
    body = json.loads(r["Payload"].read())
    if r.get("FunctionError") and "boto3" in json.dumps(body):
        pytest.skip("the machine's python3 has no boto3")
    assert body == "from-the-vault"
