"""Bad input gets S3's error code and status, never a 500."""

import base64
import hashlib

import pytest
import requests
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(aloft):
    c = aloft.client("s3")
    c.create_bucket(Bucket="bad")
    c.put_object(Bucket="bad", Key="obj", Body=b"0123456789")
    return c


def raw(aloft, method, path, **kw):
    r = requests.request(method, f"{aloft.url}{path}", **kw)
    assert r.status_code < 500, (r.status_code, r.content)
    return r


def code(r):
    return r.content.split(b"<Code>")[1].split(b"</Code>")[0].decode(), r.status_code


def test_checksum_headers(aloft, s3):
    assert code(raw(aloft, "PUT", "/bad/k", data=b"x", headers={"x-amz-checksum-crc32": "zz"})) == ("InvalidRequest", 400)
    assert code(raw(aloft, "PUT", "/bad/k", data=b"x", headers={"x-amz-sdk-checksum-algorithm": "MD4"})) == ("InvalidRequest", 400)
    r = raw(aloft, "PUT", "/bad/k", data=b"abc", headers={"x-amz-checksum-sha1": base64.b64encode(hashlib.sha1(b"abd").digest()).decode()})
    assert code(r) == ("BadDigest", 400)


def test_writes_to_missing_buckets(aloft, s3):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x" * (2 * 1024 * 1024))
    assert err(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket="no-such-bucket", Key="k")
    assert err(e) == ("NoSuchBucket", 404)


def test_copy_source_forms(aloft, s3):
    assert code(raw(aloft, "PUT", "/bad/dst", headers={"x-amz-copy-source": "justabucket"})) == ("InvalidArgument", 400)
    assert code(raw(aloft, "PUT", "/bad/dst", headers={"x-amz-copy-source": "/bad/obj", "x-amz-metadata-directive": "MERGE"})) == ("InvalidArgument", 400)
    assert code(raw(aloft, "PUT", "/bad/dst", headers={"x-amz-copy-source": "/nobucket/obj"})) == ("NoSuchBucket", 404)
    assert raw(aloft, "PUT", "/bad/dst", headers={"x-amz-copy-source": "/bad/obj"}).status_code == 200


def test_delete_objects_needs_a_digest(aloft, s3):
    body = b"<Delete><Object><Key>obj</Key></Object></Delete>"
    assert code(raw(aloft, "POST", "/bad?delete", data=body)) == ("InvalidRequest", 400)
    md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    assert code(raw(aloft, "POST", "/bad?delete", data=body, headers={"Content-MD5": md5})) == ("BadDigest", 400)
    many = b"<Delete>" + b"".join(b"<Object><Key>k%d</Key></Object>" % i for i in range(1001)) + b"</Delete>"
    md5 = base64.b64encode(hashlib.md5(many).digest()).decode()
    assert code(raw(aloft, "POST", "/bad?delete", data=many, headers={"Content-MD5": md5})) == ("MalformedXML", 400)


def test_part_numbers_and_listing_parameters(aloft, s3):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bad", Key="obj", PartNumber=2)
    assert err(e) == ("InvalidPartNumber", 416)
    assert s3.get_object(Bucket="bad", Key="obj", PartNumber=1)["Body"].read() == b"0123456789"
    assert code(raw(aloft, "GET", "/bad/obj?partNumber=0")) == ("InvalidArgument", 400)
    assert code(raw(aloft, "GET", "/bad?list-type=2&max-keys=-1")) == ("InvalidArgument", 400)
    assert code(raw(aloft, "GET", "/bad?list-type=2&max-keys=ten")) == ("InvalidArgument", 400)
    assert code(raw(aloft, "GET", "/bad?list-type=2&encoding-type=base64")) == ("InvalidArgument", 400)
    assert code(raw(aloft, "GET", "/bad?versions&version-id-marker=x")) == ("InvalidArgument", 400)
    assert code(raw(aloft, "GET", "/bad?uploads&max-uploads=x")) == ("InvalidArgument", 400)


def test_invalid_configuration_documents(aloft, s3):
    assert code(raw(aloft, "PUT", "/bad?website", data=b"<WebsiteConfiguration></WebsiteConfiguration>"))[1] == 400
    assert code(raw(aloft, "PUT", "/bad?versioning", data=b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>")) == ("MalformedXML", 400)
    assert code(raw(aloft, "PUT", "/bad?lifecycle", data=b"<LifecycleConfiguration><Rule><Status>Maybe</Status></Rule></LifecycleConfiguration>")) == ("MalformedXML", 400)
    assert code(raw(aloft, "PUT", "/bad?cors", data=b"<CORSConfiguration/>")) == ("MalformedXML", 400)
    assert code(raw(aloft, "PUT", "/bad?encryption", data=b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>ROT13</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>")) == ("MalformedXML", 400)
    assert code(raw(aloft, "PUT", "/bad?tagging", data=b"<Tagging><TagSet><Tag><Key>aws:x</Key><Value>1</Value></Tag></TagSet></Tagging>")) == ("InvalidTag", 400)
    assert code(raw(aloft, "PUT", "/bad", data=b"<CreateBucketConfiguration><LocationConstraint>")) == ("MalformedXML", 400)


def test_sse_c_key_checks(aloft, s3):
    key = base64.b64encode(b"k" * 32).decode()
    headers = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
               "x-amz-server-side-encryption-customer-key": key,
               "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(b"z").digest()).decode()}
    assert code(raw(aloft, "PUT", "/bad/c", data=b"x", headers=headers)) == ("InvalidArgument", 400)
    headers["x-amz-server-side-encryption-customer-key"] = base64.b64encode(b"short").decode()
    assert code(raw(aloft, "PUT", "/bad/c", data=b"x", headers=headers)) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bad", Key="obj", SSECustomerAlgorithm="AES256", SSECustomerKey=b"k" * 32)
    assert err(e) == ("InvalidRequest", 400)


def test_garbage_requests_never_500(aloft, s3):
    for method, path in [("GET", "/bad/%FF%FE"), ("PUT", "/bad?acl"), ("POST", "/bad/obj"), ("POST", "/bad"),
                         ("GET", "/bad/obj?versionId="), ("DELETE", "/bad/obj?uploadId="), ("PUT", "/bad/obj?partNumber=1&uploadId=zz"),
                         ("OPTIONS", "/bad/obj"), ("GET", "/bad?list-type=2&continuation-token=%%%")]:
        raw(aloft, method, path, data=b"<x")
