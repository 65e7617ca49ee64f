"""S3 Object Lambda (seed 004's lab): access points via S3 Control, GetObject through an Object
Lambda access point ARN runs the function, which answers with WriteGetObjectResponse."""

from __future__ import annotations

import io
import urllib.parse
import zipfile

import botocore.exceptions
import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ACCOUNT = "000000000000"

# Seed 004's upper-casing function.
UPPER = """
import boto3, urllib.request

def handler(event, context):
    ctx = event["getObjectContext"]
    original = urllib.request.urlopen(ctx["inputS3Url"]).read().decode()
    boto3.client("s3").write_get_object_response(
        Body=original.upper(), RequestRoute=ctx["outputRoute"], RequestToken=ctx["outputToken"],
        ContentType="text/plain")
    return {"status_code": 200}
"""


def zip_code(code: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", code)
    return buf.getvalue()


def local_client(aloft, service):
    """boto3 sends Object Lambda calls to `{name}-{account}.{endpoint host}`, which does not
    resolve here: connect to Aloft and keep that host in the Host header (as signed)."""
    import boto3
    import botocore.config
    c = boto3.client(service, endpoint_url=f"http://localhost:{aloft.port}", region_name="us-east-1",
                     config=botocore.config.Config(retries={"total_max_attempts": 1}))

    def redirect(request, **_):
        u = urllib.parse.urlsplit(request.url)
        request.headers["Host"] = u.netloc
        request.url = urllib.parse.urlunsplit(u._replace(netloc=f"127.0.0.1:{aloft.port}"))
    c.meta.events.register("before-send", redirect)
    return c


@pytest.fixture
def olap(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="notes")
    s3.put_object(Bucket="notes", Key="memo.txt", Body=b"hello object lambda")
    ctl = local_client(aloft, "s3control")
    ap = ctl.create_access_point(AccountId=ACCOUNT, Name="notes-ap", Bucket="notes")
    lam = aloft.client("lambda")
    fn = lam.create_function(FunctionName="upper", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                             Code={"ZipFile": zip_code(UPPER)})
    out = ctl.create_access_point_for_object_lambda(AccountId=ACCOUNT, Name="notes-olap", Configuration={
        "SupportingAccessPoint": ap["AccessPointArn"],
        "TransformationConfigurations": [{"Actions": ["GetObject"], "ContentTransformation": {
            "AwsLambda": {"FunctionArn": fn["FunctionArn"]}}}]})
    return ctl, ap, out


def test_access_points_crud(aloft, olap):
    ctl, ap, out = olap
    assert ap["AccessPointArn"] == f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/notes-ap"
    got = ctl.get_access_point(AccountId=ACCOUNT, Name="notes-ap")
    assert got["Bucket"] == "notes" and got["NetworkOrigin"] == "Internet" and got["Alias"] == ap["Alias"]
    listed = ctl.list_access_points(AccountId=ACCOUNT, Bucket="notes")["AccessPointList"]
    assert [a["Name"] for a in listed] == ["notes-ap"]
    assert ctl.list_access_points(AccountId=ACCOUNT, Bucket="other")["AccessPointList"] == []

    arn = out["ObjectLambdaAccessPointArn"]
    assert arn == f"arn:aws:s3-object-lambda:us-east-1:{ACCOUNT}:accesspoint/notes-olap"
    assert out["Alias"]["Status"] == "READY"
    g = ctl.get_access_point_for_object_lambda(AccountId=ACCOUNT, Name="notes-olap")
    assert g["Name"] == "notes-olap" and g["Alias"]["Value"] == out["Alias"]["Value"]
    cfg = ctl.get_access_point_configuration_for_object_lambda(AccountId=ACCOUNT, Name="notes-olap")
    assert cfg["Configuration"]["SupportingAccessPoint"] == ap["AccessPointArn"]
    lst = ctl.list_access_points_for_object_lambda(AccountId=ACCOUNT)["ObjectLambdaAccessPointList"]
    assert [p["ObjectLambdaAccessPointArn"] for p in lst] == [arn]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        ctl.create_access_point(AccountId=ACCOUNT, Name="notes-ap", Bucket="notes")
    assert e.value.response["Error"]["Code"] == "AccessPointAlreadyOwnedByYou"
    ctl.delete_access_point_for_object_lambda(AccountId=ACCOUNT, Name="notes-olap")
    ctl.delete_access_point(AccountId=ACCOUNT, Name="notes-ap")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ctl.get_access_point(AccountId=ACCOUNT, Name="notes-ap")
    assert e.value.response["Error"]["Code"] == "NoSuchAccessPoint"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_object_through_object_lambda_runs_the_function(aloft, olap):
    _, _, out = olap
    s3 = local_client(aloft, "s3")
    r = s3.get_object(Bucket=out["ObjectLambdaAccessPointArn"], Key="memo.txt")
    assert r["Body"].read() == b"HELLO OBJECT LAMBDA"
    assert r["ContentType"] == "text/plain"
    # The original is untouched.
    assert aloft.client("s3").get_object(Bucket="notes", Key="memo.txt")["Body"].read() == b"hello object lambda"


def test_unknown_token_and_access_point(aloft, olap):
    s3 = local_client(aloft, "s3")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=f"arn:aws:s3-object-lambda:us-east-1:{ACCOUNT}:accesspoint/nope", Key="k")
    assert e.value.response["Error"]["Code"] == "NoSuchAccessPoint"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.write_get_object_response(RequestRoute="io-x", RequestToken="bad", Body=b"x")
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
