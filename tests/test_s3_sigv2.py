"""SigV2 (`Authorization: AWS key:signature`, and AWSAccessKeyId/Signature/Expires URLs) under
--verify-signatures and --enforce-iam: verified with HMAC-SHA1 over AWS's string to sign,
S3's SignatureDoesNotMatch fields on a wrong signature, InvalidAccessKeyId for unknown keys,
RequestTimeTooSkewed by Aloft's clock, the key's account and principal (not anonymous)."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET

import boto3
import botocore.config
import pytest
import requests
from botocore.exceptions import ClientError


def v2_client(aloft, key="test", secret="test", **cfg):
    """A boto3 client that signs with botocore's HmacV1Auth (SigV2)."""
    return boto3.client("s3", endpoint_url=aloft.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(signature_version="s3",
                                                      retries={"max_attempts": 1}, **cfg))


def err(e):
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def fields(resp):
    root = ET.fromstring(resp.content)
    return {child.tag: child.text for child in root}


def sign(secret, sts):
    return base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()


def http_date(aloft):
    """Now as an HTTP date (Aloft's clock is real time until a test moves it)."""
    return email.utils.formatdate(usegmt=True)


@pytest.fixture
def verifying(aloft_factory):
    return aloft_factory(args=["--verify-signatures"])


def test_botocore_sigv2_requests_are_verified_and_served(verifying):
    s3 = v2_client(verifying)
    # ObjectWriter: the ?acl sub-resource below is signed too, and default buckets refuse ACLs.
    s3.create_bucket(Bucket="old-sdk", ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket="old-sdk", Key="dir/a b+c.txt", Body=b"hello", ContentType="text/plain",
                  Metadata={"Reviewed-By": "joe"})
    got = s3.get_object(Bucket="old-sdk", Key="dir/a b+c.txt")
    assert got["Body"].read() == b"hello" and got["Metadata"] == {"reviewed-by": "joe"}
    assert [o["Key"] for o in s3.list_objects(Bucket="old-sdk", Prefix="dir/")["Contents"]] == ["dir/a b+c.txt"]
    # Sub-resources are part of the canonicalized resource.
    s3.put_object_acl(Bucket="old-sdk", Key="dir/a b+c.txt", ACL="public-read")
    assert s3.get_object_acl(Bucket="old-sdk", Key="dir/a b+c.txt")["Grants"]
    s3.put_bucket_versioning(Bucket="old-sdk", VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket="old-sdk", Key="v.txt", Body=b"1")["VersionId"]
    assert s3.get_object(Bucket="old-sdk", Key="v.txt", VersionId=v)["Body"].read() == b"1"
    up = s3.create_multipart_upload(Bucket="old-sdk", Key="big")["UploadId"]
    etag = s3.upload_part(Bucket="old-sdk", Key="big", UploadId=up, PartNumber=1, Body=b"x" * 10)["ETag"]
    s3.complete_multipart_upload(Bucket="old-sdk", Key="big", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    r = s3.delete_objects(Bucket="old-sdk", Delete={"Objects": [{"Key": "big"}]})
    assert [d["Key"] for d in r["Deleted"]] == ["big"]
    # The same bucket read back over SigV4: same account.
    sigv4 = verifying.client("s3")
    assert sigv4.get_object(Bucket="old-sdk", Key="dir/a b+c.txt")["Body"].read() == b"hello"


def test_a_wrong_secret_gets_signature_does_not_match_with_s3s_fields(verifying):
    verifying.client("s3").create_bucket(Bucket="bkt-two")
    with pytest.raises(ClientError) as e:
        v2_client(verifying, secret="wrong").put_object(Bucket="bkt-two", Key="k", Body=b"x")
    assert err(e) == ("SignatureDoesNotMatch", 403)
    # Nothing was written.
    with pytest.raises(ClientError) as e:
        verifying.client("s3").head_object(Bucket="bkt-two", Key="k")
    assert err(e) == ("404", 404)


def test_a_hand_signed_request_and_a_tampered_signature(verifying):
    verifying.client("s3").create_bucket(Bucket="hand")
    date = http_date(verifying)
    sts = f"PUT\n\ntext/plain\n{date}\nx-amz-meta-a:1\n/hand/doc.txt"
    headers = {"Date": date, "Content-Type": "text/plain", "x-amz-meta-a": "1"}
    ok = requests.put(f"{verifying.url}/hand/doc.txt", data=b"doc",
                      headers={**headers, "Authorization": f"AWS test:{sign('test', sts)}"})
    assert ok.status_code == 200, ok.text
    bad_sig = sign("test", sts + "x")
    r = requests.put(f"{verifying.url}/hand/doc.txt", data=b"doc",
                     headers={**headers, "Authorization": f"AWS test:{bad_sig}"})
    assert r.status_code == 403
    f = fields(r)
    assert f["Code"] == "SignatureDoesNotMatch"
    assert f["Message"] == ("The request signature we calculated does not match the signature you provided. "
                            "Check your key and signing method.")
    assert f["AWSAccessKeyId"] == "test"
    assert f["StringToSign"] == sts
    assert f["SignatureProvided"] == bad_sig
    assert f["StringToSignBytes"] == " ".join(f"{b:02x}" for b in sts.encode())
    assert "CanonicalRequest" not in f
    # Virtual-hosted: the bucket from the Host starts the canonicalized resource.
    sts = f"GET\n\n\n{date}\n/hand/doc.txt"
    r = requests.get(f"{verifying.url}/doc.txt", headers={
        "Host": f"hand.s3.localhost:{verifying.port}", "Date": date,
        "Authorization": f"AWS test:{sign('test', sts)}"})
    assert (r.status_code, r.content) == (200, b"doc")
    # The documented x-amz-date form: an empty Date line, x-amz-date among the signed headers.
    sts = f"GET\n\n\n\nx-amz-date:{date}\n/hand/doc.txt?acl"
    r = requests.get(f"{verifying.url}/hand/doc.txt?acl", headers={
        "x-amz-date": date, "Authorization": f"AWS test:{sign('test', sts)}"})
    assert r.status_code == 200, r.text


def test_unknown_keys_and_skewed_dates(verifying):
    verifying.client("s3").create_bucket(Bucket="bkt-three")
    with pytest.raises(ClientError) as e:
        v2_client(verifying, key="AKIANOTAKEY000000000").list_objects(Bucket="bkt-three")
    assert err(e) == ("InvalidAccessKeyId", 403)
    assert e.value.response["Error"]["Message"] == "The AWS Access Key Id you provided does not exist in our records."
    date = http_date(verifying)
    sts = f"GET\n\n\n{date}\n/bkt-three"
    r = requests.get(f"{verifying.url}/bkt-three", headers={"Date": date, "Authorization": f"AWS test:{sign('test', sts)}"})
    assert r.status_code == 200
    verifying.advance(3600)
    r = requests.get(f"{verifying.url}/bkt-three", headers={"Date": date, "Authorization": f"AWS test:{sign('test', sts)}"})
    assert (r.status_code, fields(r)["Code"]) == (403, "RequestTimeTooSkewed")
    r = requests.get(f"{verifying.url}/bkt-three", headers={"Authorization": f"AWS test:{sign('test', sts)}"})
    assert (r.status_code, fields(r)["Code"]) == (403, "AccessDenied")


def test_presigned_sigv2_urls_expire_on_aloft_clock(verifying):
    s3 = verifying.client("s3")
    s3.create_bucket(Bucket="pre2")
    s3.put_object(Bucket="pre2", Key="k", Body=b"v")
    url = v2_client(verifying).generate_presigned_url("get_object", Params={"Bucket": "pre2", "Key": "k"},
                                                      ExpiresIn=60)
    assert requests.get(url).content == b"v"
    bad = url.replace("Signature=", "Signature=A")
    r = requests.get(bad)
    assert (r.status_code, fields(r)["Code"]) == (403, "SignatureDoesNotMatch")
    assert fields(r)["StringToSign"].startswith("GET\n\n\n")
    verifying.advance(120)
    r = requests.get(url)
    assert r.status_code == 403
    assert (fields(r)["Code"], fields(r)["Message"]) == ("AccessDenied", "Request has expired")


def test_the_account_comes_from_the_key(verifying):
    other = v2_client(verifying, key="111122223333")
    other.create_bucket(Bucket="acct-b")
    assert "acct-b" in [b["Name"] for b in other.list_buckets()["Buckets"]]
    sigv4_other = boto3.client("s3", endpoint_url=verifying.url, region_name="us-east-1",
                               aws_access_key_id="111122223333", aws_secret_access_key="test")
    assert "acct-b" in [b["Name"] for b in sigv4_other.list_buckets()["Buckets"]]
    assert "acct-b" not in [b["Name"] for b in verifying.client("s3").list_buckets()["Buckets"]]


def test_sigv2_callers_are_their_principal_under_enforce_iam(aloft_factory):
    a = aloft_factory(args=["--enforce-iam", "--verify-signatures"])
    a.client("s3").create_bucket(Bucket="guarded")
    a.client("s3").put_object(Bucket="guarded", Key="r.txt", Body=b"read me")
    iam = a.client("iam")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::guarded/*"}]}))
    k = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = v2_client(a, key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    assert reader.get_object(Bucket="guarded", Key="r.txt")["Body"].read() == b"read me"
    with pytest.raises(ClientError) as e:
        reader.put_object(Bucket="guarded", Key="w.txt", Body=b"no")
    assert err(e) == ("AccessDenied", 403)
    assert e.value.response["Error"]["Message"].startswith(
        "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: s3:PutObject")
    # A wrong secret for that user's key is still a signature error, not an anonymous call.
    with pytest.raises(ClientError) as e:
        v2_client(a, key=k["AccessKeyId"], secret="nope").get_object(Bucket="guarded", Key="r.txt")
    assert err(e) == ("SignatureDoesNotMatch", 403)


def test_temporary_credentials_sign_sigv2_with_their_session_token(verifying):
    verifying.client("s3").create_bucket(Bucket="temp-v2")
    tok = verifying.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    s3 = boto3.client("s3", endpoint_url=verifying.url, region_name="us-east-1",
                      aws_access_key_id=tok["AccessKeyId"], aws_secret_access_key=tok["SecretAccessKey"],
                      aws_session_token=tok["SessionToken"],
                      config=botocore.config.Config(signature_version="s3", retries={"max_attempts": 1}))
    s3.put_object(Bucket="temp-v2", Key="k", Body=b"t")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "temp-v2", "Key": "k"}, ExpiresIn=60)
    assert "x-amz-security-token=" in url
    assert requests.get(url).content == b"t"
    # The same key without its token.
    with pytest.raises(ClientError) as e:
        v2_client(verifying, key=tok["AccessKeyId"], secret=tok["SecretAccessKey"]).get_object(Bucket="temp-v2", Key="k")
    assert err(e) == ("InvalidToken", 400)
    verifying.advance(1000)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="temp-v2", Key="k")
    assert err(e) == ("ExpiredToken", 400)
