"""S3 objects: put/get/head/delete, metadata and content headers, ranges, conditional
requests, copy, batch delete, checksums and digests, SSE, tagging and key safety."""

import base64
import datetime
import hashlib
import zlib

import pytest
import requests
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(aloft):
    c = aloft.client("s3")
    c.create_bucket(Bucket="objs")
    return c


def test_put_get_head_with_metadata(s3):
    put = s3.put_object(
        Bucket="objs", Key="docs/a b+c.txt", Body=b"hello world", ContentType="text/plain",
        Metadata={"Owner": "me"}, CacheControl="max-age=60", ContentDisposition="inline",
        ContentLanguage="en", Tagging="team=core&env=dev",
    )
    assert put["ETag"] == '"%s"' % hashlib.md5(b"hello world").hexdigest()
    assert put["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket="objs", Key="docs/a b+c.txt")
    assert got["Body"].read() == b"hello world"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "me"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "en"
    assert got["TagCount"] == 2
    assert got["ContentLength"] == 11
    head = s3.head_object(Bucket="objs", Key="docs/a b+c.txt")
    assert head["ETag"] == put["ETag"]
    assert head["ContentLength"] == 11
    assert s3.get_object(Bucket="objs", Key="docs/a b+c.txt", ResponseContentType="x/y")["ContentType"] == "x/y"


def test_default_content_type_and_empty_body(s3):
    s3.put_object(Bucket="objs", Key="empty")
    got = s3.get_object(Bucket="objs", Key="empty")
    assert got["ContentType"] == "binary/octet-stream"
    assert got["Body"].read() == b""
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_missing_keys(s3):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="nope/x")
    assert err(e) == ("NoSuchKey", 404)
    assert e.value.response["Error"]["Key"] == "nope/x"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="objs", Key="nope")
    assert err(e) == ("404", 404)
    # Deleting what is not there succeeds, as on S3.
    assert s3.delete_object(Bucket="objs", Key="nope")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_ranges(s3):
    s3.put_object(Bucket="objs", Key="r", Body=b"0123456789")
    got = s3.get_object(Bucket="objs", Key="r", Range="bytes=2-5")
    assert got["Body"].read() == b"2345"
    assert got["ContentRange"] == "bytes 2-5/10"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket="objs", Key="r", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket="objs", Key="r", Range="bytes=7-")["Body"].read() == b"789"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="r", Range="bytes=10-20")
    assert err(e) == ("InvalidRange", 416)
    assert e.value.response["Error"]["ActualObjectSize"] == "10"


def test_conditional_requests(s3):
    etag = s3.put_object(Bucket="objs", Key="c", Body=b"data")["ETag"]
    assert s3.get_object(Bucket="objs", Key="c", IfMatch=etag)["Body"].read() == b"data"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="c", IfMatch='"other"')
    assert err(e) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="c", IfNoneMatch=etag)
    assert err(e) == ("304", 304)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="c", IfModifiedSince=future)
    assert err(e) == ("304", 304)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="c", IfUnmodifiedSince=past)
    assert err(e) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket="objs", Key="c", IfModifiedSince=past)["Body"].read() == b"data"
    # Conditional writes.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="objs", Key="c", Body=b"new", IfNoneMatch="*")
    assert err(e) == ("PreconditionFailed", 412)
    s3.put_object(Bucket="objs", Key="fresh", Body=b"new", IfNoneMatch="*")
    assert s3.get_object(Bucket="objs", Key="c")["Body"].read() == b"data"


def test_copy_object_with_metadata_directive(s3):
    s3.put_object(Bucket="objs", Key="src", Body=b"copy me", ContentType="text/a", Metadata={"k": "v"})
    r = s3.copy_object(Bucket="objs", Key="dst", CopySource={"Bucket": "objs", "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"copy me").hexdigest()
    got = s3.get_object(Bucket="objs", Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"copy me", "text/a", {"k": "v"})
    s3.copy_object(Bucket="objs", Key="dst2", CopySource="objs/src", MetadataDirective="REPLACE",
                   ContentType="text/b", Metadata={"n": "1"})
    got = s3.head_object(Bucket="objs", Key="dst2")
    assert (got["ContentType"], got["Metadata"]) == ("text/b", {"n": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="objs", Key="src", CopySource="objs/src")
    assert err(e) == ("InvalidRequest", 400)
    s3.copy_object(Bucket="objs", Key="src", CopySource="objs/src", MetadataDirective="REPLACE", Metadata={"z": "1"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="objs", Key="x", CopySource="objs/none")
    assert err(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="objs", Key="x", CopySource="objs/src", CopySourceIfMatch='"nope"')
    assert err(e) == ("PreconditionFailed", 412)


def test_delete_objects(s3):
    for k in ["a", "b", "c"]:
        s3.put_object(Bucket="objs", Key=k, Body=b"x")
    r = s3.delete_objects(Bucket="objs", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b", "zz"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="objs")["Contents"]] == ["c"]
    r = s3.delete_objects(Bucket="objs", Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in r
    assert s3.list_objects_v2(Bucket="objs")["KeyCount"] == 0


def test_flexible_checksums(s3):
    body = b"checksummed body"
    r = s3.put_object(Bucket="objs", Key="ck", Body=body, ChecksumAlgorithm="CRC32")
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert r["ChecksumCRC32"] == crc
    got = s3.get_object(Bucket="objs", Key="ck", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc
    assert got["Body"].read() == body
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    s3.put_object(Bucket="objs", Key="sha", Body=body, ChecksumSHA256=sha)
    assert s3.head_object(Bucket="objs", Key="sha", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="objs", Key="bad", Body=body, ChecksumCRC32="AAAAAA==")
    assert err(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="objs", Key="bad")
    assert err(e) == ("404", 404)


def test_content_md5(s3, aloft):
    body = b"md5 body"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket="objs", Key="m", Body=body, ContentMD5=good)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="objs", Key="m2", Body=body, ContentMD5=base64.b64encode(hashlib.md5(b"x").digest()).decode())
    assert err(e) == ("BadDigest", 400)
    r = requests.put(f"{aloft.url}/objs/m3", data=body, headers={"Content-MD5": "not-base64!"})
    assert r.status_code == 400 and b"<Code>InvalidDigest</Code>" in r.content


def test_content_sha256_mismatch(aloft, s3):
    r = requests.put(f"{aloft.url}/objs/sha", data=b"abc", headers={"x-amz-content-sha256": "0" * 64})
    assert r.status_code == 400
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in r.content


def test_aws_chunked_upload_with_trailer(aloft, s3):
    payload = b"hello chunked world"
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    body = b"%x\r\n" % len(payload) + payload + b"\r\n0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n"
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(payload)),
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    r = requests.put(f"{aloft.url}/objs/chunked", data=body, headers=headers)
    assert r.status_code == 200, r.content
    got = s3.get_object(Bucket="objs", Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload
    assert got["ChecksumCRC32"] == crc
    assert got.get("ContentEncoding") is None
    bad = body.replace(crc.encode(), b"AAAAAA==")
    r = requests.put(f"{aloft.url}/objs/chunked2", data=bad, headers=headers)
    assert r.status_code == 400 and b"<Code>BadDigest</Code>" in r.content


def test_key_rules_and_traversal(aloft, s3):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="objs", Key="k" * 1025, Body=b"x")
    assert err(e) == ("KeyTooLongError", 400)
    s3.put_object(Bucket="objs", Key="k" * 1024, Body=b"x")
    s3.put_object(Bucket="objs", Key="../../etc/passwd", Body=b"not a password file")
    assert s3.get_object(Bucket="objs", Key="../../etc/passwd")["Body"].read() == b"not a password file"
    assert open("/etc/passwd", "rb").read() != b"not a password file"
    r = requests.get(f"{aloft.url}/objs/..%2F..%2Fetc%2Fpasswd")
    assert r.content == b"not a password file"


def test_sse_headers_and_sse_c(s3):
    r = s3.put_object(Bucket="objs", Key="kms", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/k")
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", "alias/k")
    assert s3.head_object(Bucket="objs", Key="kms")["SSEKMSKeyId"] == "alias/k"
    key = b"k" * 32
    s3.put_object(Bucket="objs", Key="secret", Body=b"hidden", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    got = s3.get_object(Bucket="objs", Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == b"hidden"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="secret")
    assert err(e) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="objs", Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=b"j" * 32)
    assert err(e) == ("AccessDenied", 403)


def test_object_tagging(s3):
    s3.put_object(Bucket="objs", Key="t", Body=b"x")
    assert s3.get_object_tagging(Bucket="objs", Key="t")["TagSet"] == []
    s3.put_object_tagging(Bucket="objs", Key="t", Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    assert s3.get_object_tagging(Bucket="objs", Key="t")["TagSet"] == [{"Key": "a", "Value": "1"}]
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket="objs", Key="t", Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert err(e) == ("InvalidTag", 400)
    s3.delete_object_tagging(Bucket="objs", Key="t")
    assert s3.get_object_tagging(Bucket="objs", Key="t")["TagSet"] == []
    with pytest.raises(ClientError) as e:
        s3.get_object_tagging(Bucket="objs", Key="none")
    assert err(e) == ("NoSuchKey", 404)


def test_object_acl_and_attributes(s3):
    # ACLs are off by default (BucketOwnerEnforced): turn them on first.
    s3.put_bucket_ownership_controls(Bucket="objs", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object(Bucket="objs", Key="acl", Body=b"12345", ACL="public-read")
    grants = s3.get_object_acl(Bucket="objs", Key="acl")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ" for g in grants)
    attrs = s3.get_object_attributes(Bucket="objs", Key="acl", ObjectAttributes=["ETag", "ObjectSize", "StorageClass"])
    assert attrs["ObjectSize"] == 5
    assert attrs["StorageClass"] == "STANDARD"
    assert attrs["ETag"] == hashlib.md5(b"12345").hexdigest()


def test_malformed_xml(aloft, s3):
    r = requests.post(f"{aloft.url}/objs?delete", data=b"<Delete><Object>", headers={"Content-MD5": base64.b64encode(hashlib.md5(b"<Delete><Object>").digest()).decode()})
    assert r.status_code == 400 and b"<Code>MalformedXML</Code>" in r.content
    r = requests.put(f"{aloft.url}/objs?tagging", data=b"not xml")
    assert r.status_code == 400 and b"<Code>MalformedXML</Code>" in r.content


def test_storage_class(s3):
    s3.put_object(Bucket="objs", Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket="objs", Key="ia")["StorageClass"] == "STANDARD_IA"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="objs", Key="bad", Body=b"x", StorageClass="CHEAP")
    assert err(e) == ("InvalidStorageClass", 400)
