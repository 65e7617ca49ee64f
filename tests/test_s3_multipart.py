"""Multipart uploads: the full flow, ETags, checksums, UploadPartCopy, listing, and the part
order, size and identity rules."""

import base64
import hashlib
import io
import zlib

import pytest
from botocore.exceptions import ClientError

MB = 1024 * 1024


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(aloft):
    c = aloft.client("s3")
    c.create_bucket(Bucket="mpu")
    return c


def test_multipart_flow_and_etag(s3):
    up = s3.create_multipart_upload(Bucket="mpu", Key="big", ContentType="video/mp4", Metadata={"a": "b"})
    uid = up["UploadId"]
    p1 = b"a" * (5 * MB)
    p2 = b"b" * 1000
    e1 = s3.upload_part(Bucket="mpu", Key="big", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket="mpu", Key="big", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    parts = s3.list_parts(Bucket="mpu", Key="big", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MB), (2, 1000)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="mpu")["Uploads"]] == [uid]
    r = s3.complete_multipart_upload(
        Bucket="mpu", Key="big", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    expected = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
    assert r["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket="mpu", Key="big")
    assert got["ContentType"] == "video/mp4" and got["Metadata"] == {"a": "b"}
    assert got["Body"].read() == p1 + p2
    assert s3.get_object(Bucket="mpu", Key="big", Range=f"bytes={5 * MB - 2}-{5 * MB + 1}")["Body"].read() == b"aabb"
    part2 = s3.get_object(Bucket="mpu", Key="big", PartNumber=2)
    assert part2["PartsCount"] == 2 and part2["Body"].read() == p2
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="mpu")
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket="mpu", Key="big", UploadId=uid)
    assert err(e) == ("NoSuchUpload", 404)


def test_part_rules(s3):
    uid = s3.create_multipart_upload(Bucket="mpu", Key="k")["UploadId"]
    e1 = s3.upload_part(Bucket="mpu", Key="k", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
    e2 = s3.upload_part(Bucket="mpu", Key="k", UploadId=uid, PartNumber=2, Body=b"small")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert err(e) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})
    assert err(e) == ("InvalidPartOrder", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]})
    assert err(e) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=uid,
                                     MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": e1}]})
    assert err(e) == ("InvalidPart", 400)
    for bad in [0, 10001]:
        with pytest.raises(ClientError) as e:
            s3.upload_part(Bucket="mpu", Key="k", UploadId=uid, PartNumber=bad, Body=b"x")
        assert err(e) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket="mpu", Key="k", UploadId="nope", PartNumber=1, Body=b"x")
    assert err(e) == ("NoSuchUpload", 404)
    # A single small part is a valid upload (the last part may be small).
    s3.complete_multipart_upload(Bucket="mpu", Key="k", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert s3.get_object(Bucket="mpu", Key="k")["Body"].read() == b"small"


def test_abort(s3):
    uid = s3.create_multipart_upload(Bucket="mpu", Key="k")["UploadId"]
    s3.upload_part(Bucket="mpu", Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket="mpu", Key="k", UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket="mpu", Key="k", UploadId=uid)
    assert err(e) == ("NoSuchUpload", 404)


def test_upload_part_copy(s3):
    src = bytes(range(256)) * (24 * 1024)  # 6 MiB
    s3.put_object(Bucket="mpu", Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket="mpu", Key="dst")["UploadId"]
    c1 = s3.upload_part_copy(Bucket="mpu", Key="dst", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": "mpu", "Key": "src"}, CopySourceRange=f"bytes=0-{5 * MB - 1}")
    c2 = s3.upload_part_copy(Bucket="mpu", Key="dst", UploadId=uid, PartNumber=2,
                             CopySource="mpu/src", CopySourceRange=f"bytes={5 * MB}-{len(src) - 1}")
    s3.complete_multipart_upload(Bucket="mpu", Key="dst", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": c1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": c2["CopyPartResult"]["ETag"]},
    ]})
    assert s3.get_object(Bucket="mpu", Key="dst")["Body"].read() == src
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket="mpu", Key="dst2", UploadId=uid, PartNumber=1, CopySource="mpu/src")
    assert err(e) == ("NoSuchUpload", 404)


def test_composite_checksum(s3):
    uid = s3.create_multipart_upload(Bucket="mpu", Key="ck", ChecksumAlgorithm="CRC32")["UploadId"]
    p1, p2 = b"x" * (5 * MB), b"tail"
    r1 = s3.upload_part(Bucket="mpu", Key="ck", UploadId=uid, PartNumber=1, Body=p1, ChecksumAlgorithm="CRC32")
    r2 = s3.upload_part(Bucket="mpu", Key="ck", UploadId=uid, PartNumber=2, Body=p2, ChecksumAlgorithm="CRC32")
    crc = lambda b: zlib.crc32(b).to_bytes(4, "big")
    assert r1["ChecksumCRC32"] == base64.b64encode(crc(p1)).decode()
    done = s3.complete_multipart_upload(Bucket="mpu", Key="ck", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["ETag"], "ChecksumCRC32": r1["ChecksumCRC32"]},
        {"PartNumber": 2, "ETag": r2["ETag"], "ChecksumCRC32": r2["ChecksumCRC32"]},
    ]})
    composite = base64.b64encode(zlib.crc32(crc(p1) + crc(p2)).to_bytes(4, "big")).decode() + "-2"
    assert done["ChecksumCRC32"] == composite
    head = s3.head_object(Bucket="mpu", Key="ck", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == composite


def test_upload_fileobj_uses_multipart(s3):
    data = io.BytesIO(b"z" * (17 * MB))
    s3.upload_fileobj(data, "mpu", "auto")
    head = s3.head_object(Bucket="mpu", Key="auto")
    assert head["ContentLength"] == 17 * MB
    assert head["ETag"].endswith('-3"')
    out = io.BytesIO()
    s3.download_fileobj("mpu", "auto", out)
    assert out.getvalue() == b"z" * (17 * MB)
