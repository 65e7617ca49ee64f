"""S3 read by other services through its target: a Lambda function's code from a bucket
(`Code.S3Bucket`/`S3Key`, which Lambda names as an object ARN), by version too."""

import io
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/r"


def code_zip(body):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", body)
    return buf.getvalue()


def test_lambda_code_from_a_bucket_by_key_and_version(aloft):
    s3, lam = aloft.client("s3"), aloft.client("lambda")
    s3.create_bucket(Bucket="code-bucket")
    s3.put_bucket_versioning(Bucket="code-bucket", VersioningConfiguration={"Status": "Enabled"})
    first = code_zip("def handler(e, c):\n    return 1\n")
    v1 = s3.put_object(Bucket="code-bucket", Key="fn/code.zip", Body=first)["VersionId"]
    s3.put_object(Bucket="code-bucket", Key="fn/code.zip", Body=code_zip("# later\n"))
    r = lam.create_function(FunctionName="from-s3", Runtime="python3.12", Role=ROLE,
                            Handler="index.handler",
                            Code={"S3Bucket": "code-bucket", "S3Key": "fn/code.zip",
                                  "S3ObjectVersion": v1})
    assert r["CodeSize"] == len(first)
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName="from-s3-missing", Runtime="python3.12", Role=ROLE,
                            Handler="index.handler",
                            Code={"S3Bucket": "code-bucket", "S3Key": "nope.zip"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "S3 Error Code: NoSuchKey" in e.value.response["Error"]["Message"]
