"""SSM Parameter Store (json 1.1) with boto3 and the CLI: types, SecureString through KMS,
versions, labels and selectors, overwrite and tier rules, paths, filters, history, tags."""

import base64

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def ssm(aloft):
    return aloft.client("ssm")


def code(exc):
    return exc.value.response["Error"]["Code"]


def test_put_get_string_and_overwrite(ssm):
    out = ssm.put_parameter(Name="/app/url", Value="http://a", Type="String")
    assert out["Version"] == 1 and out["Tier"] == "Standard"
    p = ssm.get_parameter(Name="/app/url")["Parameter"]
    assert p["Value"] == "http://a" and p["Version"] == 1 and p["Type"] == "String"
    assert p["ARN"] == "arn:aws:ssm:us-east-1:000000000000:parameter/app/url"
    assert p["DataType"] == "text"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/app/url", Value="http://b", Type="String")
    assert code(e) == "ParameterAlreadyExists"
    out = ssm.put_parameter(Name="/app/url", Value="http://b", Overwrite=True)
    assert out["Version"] == 2 and out["Tier"] == "Standard"
    assert ssm.get_parameter(Name="/app/url")["Parameter"]["Value"] == "http://b"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/nope")
    assert code(e) == "ParameterNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_put_rules(ssm):
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/new", Value="v")
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/aws/mine", Value="v", Type="String")
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="a/b", Value="v", Type="String")
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/t", Value="v", Type="String", Overwrite=True, Tags=[{"Key": "k", "Value": "v"}])
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/p", Value="abc", Type="String", AllowedPattern=r"\d+")
    assert code(e) == "ParameterPatternMismatchException"
    ssm.put_parameter(Name="/p", Value="123", Type="String", AllowedPattern=r"\d+")
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/p", Value="12a", Overwrite=True)
    assert code(e) == "ParameterPatternMismatchException"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/bad", Value="v", Type="Number")
    assert code(e) == "ValidationException"


def test_tiers(ssm):
    big = "x" * 5000
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/big", Value=big, Type="String")
    assert code(e) == "ValidationException"
    assert ssm.put_parameter(Name="/big", Value=big, Type="String", Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    assert ssm.put_parameter(Name="/adv", Value="s", Type="String", Tier="Advanced")["Tier"] == "Advanced"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/adv", Value="s2", Tier="Standard", Overwrite=True)
    assert code(e) == "ValidationException"
    assert "downgrade" in e.value.response["Error"]["Message"]


def test_securestring_round_trip_through_kms(aloft, ssm):
    ssm.put_parameter(Name="/db/password", Value="hunter2", Type="SecureString")
    raw = ssm.get_parameter(Name="/db/password")["Parameter"]
    assert raw["Type"] == "SecureString" and raw["Value"] != "hunter2"
    base64.b64decode(raw["Value"])  # the ciphertext blob, base64
    assert ssm.get_parameter(Name="/db/password", WithDecryption=True)["Parameter"]["Value"] == "hunter2"
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/db/password"]}])["Parameters"][0]
    assert meta["KeyId"] == "alias/aws/ssm"
    kms = aloft.client("kms")
    # The ciphertext is a real KMS blob under the AWS managed key, bound to the parameter's ARN.
    plain = kms.decrypt(
        CiphertextBlob=base64.b64decode(raw["Value"]),
        EncryptionContext={"PARAMETER_ARN": raw["ARN"]},
    )["Plaintext"]
    assert plain == b"hunter2"

    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ssm.put_parameter(Name="/db/other", Value="s3cret", Type="SecureString", KeyId=key)
    assert ssm.get_parameter(Name="/db/other", WithDecryption=True)["Parameter"]["Value"] == "s3cret"
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/db/other", WithDecryption=True)
    assert code(e) == "InvalidKeyId"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/db/third", Value="x", Type="SecureString", KeyId="11111111-2222-3333-4444-555555555555")
    assert code(e) == "InvalidKeyId"
    with pytest.raises(ClientError) as e:
        ssm.put_parameter(Name="/plain", Value="x", Type="String", KeyId=key)
    assert code(e) == "ValidationException"


def test_string_list(ssm):
    ssm.put_parameter(Name="/list", Value="a,b,c", Type="StringList")
    p = ssm.get_parameter(Name="/list")["Parameter"]
    assert p["Type"] == "StringList" and p["Value"] == "a,b,c"


def test_versions_labels_and_selectors(ssm):
    for v in ["one", "two", "three"]:
        ssm.put_parameter(Name="/cfg", Value=v, Type="String", Overwrite=True)
    assert ssm.get_parameter(Name="/cfg:1")["Parameter"]["Value"] == "one"
    p = ssm.get_parameter(Name="/cfg:2")["Parameter"]
    assert p["Value"] == "two" and p["Selector"] == ":2" and p["Name"] == "/cfg"
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/cfg:9")
    assert code(e) == "ParameterVersionNotFound"
    out = ssm.label_parameter_version(Name="/cfg", ParameterVersion=1, Labels=["prod", "1bad", "awsx"])
    assert out["ParameterVersion"] == 1 and sorted(out["InvalidLabels"]) == ["1bad", "awsx"]
    assert ssm.get_parameter(Name="/cfg:prod")["Parameter"]["Value"] == "one"
    # A label moves to the version it is put on.
    assert ssm.label_parameter_version(Name="/cfg", Labels=["prod"])["ParameterVersion"] == 3
    assert ssm.get_parameter(Name="/cfg:prod")["Parameter"]["Value"] == "three"
    hist = ssm.get_parameter_history(Name="/cfg")["Parameters"]
    assert [(h["Version"], h["Value"], h["Labels"]) for h in hist] == [
        (1, "one", []), (2, "two", []), (3, "three", ["prod"])]
    with pytest.raises(ClientError) as e:
        ssm.label_parameter_version(Name="/cfg", ParameterVersion=3, Labels=[f"l{i}" for i in range(10)])
    assert code(e) == "ParameterVersionLabelLimitExceeded"
    out = ssm.unlabel_parameter_version(Name="/cfg", ParameterVersion=3, Labels=["prod", "nope"])
    assert out["RemovedLabels"] == ["prod"] and out["InvalidLabels"] == ["nope"]
    got = ssm.get_parameters(Names=["/cfg:1", "/cfg", "/missing", "/cfg:prod"])
    assert [p["Value"] for p in got["Parameters"]] == ["one", "three"]
    assert sorted(got["InvalidParameters"]) == ["/cfg:prod", "/missing"]


def test_history_paginates(ssm):
    for i in range(5):
        ssm.put_parameter(Name="/h", Value=str(i), Type="String", Overwrite=True)
    page = ssm.get_parameter_history(Name="/h", MaxResults=2)
    assert [p["Version"] for p in page["Parameters"]] == [1, 2]
    pages = ssm.get_paginator("get_parameter_history").paginate(Name="/h", PaginationConfig={"PageSize": 2})
    assert [p["Version"] for pg in pages for p in pg["Parameters"]] == [1, 2, 3, 4, 5]


def test_get_parameters_by_path(ssm):
    names = ["/app/a", "/app/b", "/app/db/url", "/app/db/pass", "/other/x", "/apple"]
    for n in names:
        ssm.put_parameter(Name=n, Value=n, Type="SecureString" if n.endswith("pass") else "String")
    direct = ssm.get_parameters_by_path(Path="/app")["Parameters"]
    assert sorted(p["Name"] for p in direct) == ["/app/a", "/app/b"]
    rec = ssm.get_parameters_by_path(Path="/app/", Recursive=True, WithDecryption=True)["Parameters"]
    assert sorted(p["Name"] for p in rec) == ["/app/a", "/app/b", "/app/db/pass", "/app/db/url"]
    assert {p["Name"]: p["Value"] for p in rec}["/app/db/pass"] == "/app/db/pass"
    secure = ssm.get_parameters_by_path(
        Path="/app", Recursive=True, ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])
    assert [p["Name"] for p in secure["Parameters"]] == ["/app/db/pass"]
    first = ssm.get_parameters_by_path(Path="/", Recursive=True, MaxResults=2)
    assert len(first["Parameters"]) == 2 and "NextToken" in first
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True, PaginationConfig={"PageSize": 4})
    assert sorted(p["Name"] for pg in pages for p in pg["Parameters"]) == sorted(names)
    with pytest.raises(ClientError) as e:
        ssm.get_parameters_by_path(Path="app")
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ssm.get_parameters_by_path(Path="/app", ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert code(e) == "InvalidFilterKey"


def test_describe_parameters_filters(ssm):
    ssm.put_parameter(Name="/svc/a", Value="1", Type="String", Description="first", Tags=[{"Key": "team", "Value": "x"}])
    ssm.put_parameter(Name="/svc/b/c", Value="2", Type="StringList")
    ssm.put_parameter(Name="top", Value="3", Type="String")
    names = lambda r: sorted(p["Name"] for p in r["Parameters"])  # noqa: E731
    assert names(ssm.describe_parameters()) == ["/svc/a", "/svc/b/c", "top"]
    assert names(ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Values": ["/svc"]}])) == ["/svc/a"]
    assert names(ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/svc"]}])) == ["/svc/a", "/svc/b/c"]
    assert names(ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": ["/svc/b"]}])) == ["/svc/b/c"]
    assert names(ssm.describe_parameters(ParameterFilters=[{"Key": "Type", "Values": ["StringList"]}])) == ["/svc/b/c"]
    assert names(ssm.describe_parameters(ParameterFilters=[{"Key": "tag:team", "Values": ["x"]}])) == ["/svc/a"]
    assert names(ssm.describe_parameters(Filters=[{"Key": "Name", "Values": ["to"]}])) == ["top"]
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/svc/a"]}])["Parameters"][0]
    assert meta["Description"] == "first" and meta["Version"] == 1 and meta["Tier"] == "Standard"
    with pytest.raises(ClientError) as e:
        ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Option": "BeginsWith", "Values": ["/svc"]}])
    assert code(e) == "InvalidFilterOption"
    with pytest.raises(ClientError) as e:
        ssm.describe_parameters(ParameterFilters=[{"Key": "Bogus", "Values": ["x"]}])
    # The model's pattern on the key rejects it before the service sees it.
    assert code(e) == "ValidationException"


def test_delete(ssm):
    ssm.put_parameter(Name="/d1", Value="1", Type="String")
    ssm.put_parameter(Name="/d2", Value="2", Type="String")
    ssm.delete_parameter(Name="/d1")
    with pytest.raises(ClientError) as e:
        ssm.delete_parameter(Name="/d1")
    assert code(e) == "ParameterNotFound"
    out = ssm.delete_parameters(Names=["/d2", "/d3"])
    assert out["DeletedParameters"] == ["/d2"] and out["InvalidParameters"] == ["/d3"]
    # A deleted name starts again at version 1.
    assert ssm.put_parameter(Name="/d1", Value="x", Type="String")["Version"] == 1


def test_tags(ssm):
    ssm.put_parameter(Name="/tagged", Value="v", Type="String", Tags=[{"Key": "a", "Value": "1"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/tagged", Tags=[{"Key": "b", "Value": "2"}])
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/tagged", TagKeys=["a"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tagged")["TagList"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/none")
    assert code(e) == "InvalidResourceId"


def test_cli(aloft):
    aloft.cli("ssm", "put-parameter", "--name", "/cli/p", "--value", "v1", "--type", "SecureString")
    out = aloft.cli_json("ssm", "get-parameter", "--name", "/cli/p", "--with-decryption")
    assert out["Parameter"]["Value"] == "v1"
    out = aloft.cli_json("ssm", "get-parameters-by-path", "--path", "/cli")
    assert [p["Name"] for p in out["Parameters"]] == ["/cli/p"]


def test_parameters_survive_restart_with_data_dir(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    ssm = a.client("ssm")
    ssm.put_parameter(Name="/keep/plain", Value="p", Type="String")
    ssm.put_parameter(Name="/keep/secret", Value="s", Type="SecureString")
    a.kill()
    if not any(p.suffix in (".redb", ".db") for p in tmp_path.rglob("*")):
        pytest.skip("this build has no durable journal yet")
    ssm = aloft_factory(data_dir=tmp_path).client("ssm")
    assert ssm.get_parameter(Name="/keep/plain")["Parameter"]["Value"] == "p"
    assert ssm.get_parameter(Name="/keep/secret", WithDecryption=True)["Parameter"]["Value"] == "s"
