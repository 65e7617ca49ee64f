"""Listing (v1, v2, paginators, delimiters, url encoding) and versioning (ids, delete
markers, null versions, ListObjectVersions)."""

import pytest
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(aloft):
    c = aloft.client("s3")
    c.create_bucket(Bucket="lst")
    return c


def test_v2_paging_prefix_delimiter(s3):
    keys = [f"logs/2026/{i:03}.txt" for i in range(25)] + ["logs/readme", "photos/a.jpg", "top.txt"]
    for k in keys:
        s3.put_object(Bucket="lst", Key=k, Body=b"x")
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="lst", PaginationConfig={"PageSize": 10}))
    assert len(pages) == 3
    assert [o["Key"] for p in pages for o in p["Contents"]] == sorted(keys)
    r = s3.list_objects_v2(Bucket="lst", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["logs/", "photos/"]
    assert [o["Key"] for o in r["Contents"]] == ["top.txt"]
    assert r["KeyCount"] == 3
    r = s3.list_objects_v2(Bucket="lst", Prefix="logs/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["logs/2026/"]
    assert [o["Key"] for o in r["Contents"]] == ["logs/readme"]
    r = s3.list_objects_v2(Bucket="lst", StartAfter="photos/a.jpg")
    assert [o["Key"] for o in r["Contents"]] == ["top.txt"]
    r = s3.list_objects_v2(Bucket="lst", MaxKeys=0)
    assert r["KeyCount"] == 0
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="lst", ContinuationToken="!!!")
    assert err(e) == ("InvalidArgument", 400)


def test_v1_paginator_and_markers(s3):
    for i in range(7):
        s3.put_object(Bucket="lst", Key=f"k{i}", Body=b"x")
    pages = list(s3.get_paginator("list_objects").paginate(Bucket="lst", PaginationConfig={"PageSize": 3}))
    assert [len(p["Contents"]) for p in pages] == [3, 3, 1]
    r = s3.list_objects(Bucket="lst", Marker="k4")
    assert [o["Key"] for o in r["Contents"]] == ["k5", "k6"]
    assert r["Contents"][0]["Owner"]["ID"]


def test_encoding_type_url(s3):
    s3.put_object(Bucket="lst", Key="a b/c+d&e.txt", Body=b"x")
    # boto3 asks for url encoding and decodes it again: the keys must round-trip.
    r = s3.list_objects_v2(Bucket="lst")
    assert r["Contents"][0]["Key"] == "a b/c+d&e.txt"
    raw = s3.list_objects_v2(Bucket="lst", EncodingType="url")
    # Asked for explicitly, the encoding is left for the caller to undo.
    assert raw["Contents"][0]["Key"] == "a+b/c%2Bd%26e.txt"


def test_versioning_lifecycle(s3):
    assert "Status" not in s3.get_bucket_versioning(Bucket="lst")
    s3.put_object(Bucket="lst", Key="doc", Body=b"unversioned")
    s3.put_bucket_versioning(Bucket="lst", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="lst")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="lst", Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="lst", Key="doc", Body=b"two")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    assert s3.get_object(Bucket="lst", Key="doc")["Body"].read() == b"two"
    assert s3.get_object(Bucket="lst", Key="doc", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket="lst", Key="doc", VersionId="null")["Body"].read() == b"unversioned"
    d = s3.delete_object(Bucket="lst", Key="doc")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="lst", Key="doc")
    assert err(e) == ("NoSuchKey", 404)
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="lst", Key="doc", VersionId=marker)
    assert err(e) == ("MethodNotAllowed", 405)
    assert s3.list_objects_v2(Bucket="lst")["KeyCount"] == 0
    vs = s3.list_object_versions(Bucket="lst")
    assert [v["VersionId"] for v in vs["Versions"]] == [v2, v1, "null"]
    assert vs["DeleteMarkers"][0]["VersionId"] == marker and vs["DeleteMarkers"][0]["IsLatest"]
    # Removing the marker restores the object.
    s3.delete_object(Bucket="lst", Key="doc", VersionId=marker)
    assert s3.get_object(Bucket="lst", Key="doc")["Body"].read() == b"two"
    s3.delete_object(Bucket="lst", Key="doc", VersionId=v2)
    assert s3.get_object(Bucket="lst", Key="doc")["Body"].read() == b"one"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="lst", Key="doc", VersionId="A" * 32)
    assert err(e) == ("NoSuchVersion", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="lst", Key="doc", VersionId="bad id!")
    assert err(e) == ("InvalidArgument", 400)


def test_suspended_versioning_writes_null(s3):
    s3.put_bucket_versioning(Bucket="lst", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="lst", Key="k", Body=b"1")["VersionId"]
    s3.put_bucket_versioning(Bucket="lst", VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket="lst", Key="k", Body=b"2").get("VersionId") == "null"
    assert s3.put_object(Bucket="lst", Key="k", Body=b"3").get("VersionId") == "null"
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket="lst")["Versions"]]
    assert ids == ["null", v1]
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket="lst", VersioningConfiguration={})
    assert e.value.response["Error"]["Code"] in ("IllegalVersioningConfigurationException", "MalformedXML")


def test_list_versions_paging(s3):
    s3.put_bucket_versioning(Bucket="lst", VersioningConfiguration={"Status": "Enabled"})
    for k in ["a", "b"]:
        for _ in range(3):
            s3.put_object(Bucket="lst", Key=k, Body=b"x")
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket="lst", PaginationConfig={"PageSize": 4}))
    versions = [(v["Key"], v["VersionId"]) for p in pages for v in p.get("Versions", [])]
    assert len(versions) == 6 and len(set(versions)) == 6
    assert len(pages) == 2


def test_delete_objects_with_versions(s3):
    s3.put_bucket_versioning(Bucket="lst", VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket="lst", Key="x", Body=b"x")["VersionId"]
    r = s3.delete_objects(Bucket="lst", Delete={"Objects": [{"Key": "x"}]})
    assert r["Deleted"][0]["DeleteMarker"] is True
    r = s3.delete_objects(Bucket="lst", Delete={"Objects": [{"Key": "x", "VersionId": v}]})
    assert r["Deleted"][0]["VersionId"] == v
    vs = s3.list_object_versions(Bucket="lst")
    assert "Versions" not in vs and len(vs["DeleteMarkers"]) == 1
