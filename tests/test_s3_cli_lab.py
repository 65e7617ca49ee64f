"""The AWS CLI against S3 (`aws s3 cp/sync/ls/rm/website`, `aws s3api`), seed 004's S3 lab
end to end, and persistence across `kill -9` with a data directory."""

import io
import json
import os

import pytest
import requests


def test_cli_high_level_commands(aloft, tmp_path):
    aloft.cli("s3", "mb", "s3://cli-bucket")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("beta")
    big = src / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # above the CLI's multipart threshold
    aloft.cli("s3", "sync", str(src), "s3://cli-bucket/data")
    listing = aloft.cli("s3", "ls", "--recursive", "s3://cli-bucket").stdout
    for k in ["data/a.txt", "data/sub/b.txt", "data/big.bin"]:
        assert k in listing
    top = aloft.cli("s3", "ls", "s3://cli-bucket/data/").stdout
    assert "PRE sub/" in top
    out = tmp_path / "out"
    aloft.cli("s3", "cp", "--recursive", "s3://cli-bucket/data", str(out))
    assert (out / "sub" / "b.txt").read_text() == "beta"
    assert (out / "big.bin").read_bytes() == big.read_bytes()
    # A second sync has nothing to do.
    again = aloft.cli("s3", "sync", str(src), "s3://cli-bucket/data").stdout
    assert "upload:" not in again
    aloft.cli("s3", "rm", "s3://cli-bucket/data/a.txt")
    assert "a.txt" not in aloft.cli("s3", "ls", "--recursive", "s3://cli-bucket").stdout
    aloft.cli("s3", "rb", "--force", "s3://cli-bucket")
    assert "cli-bucket" not in aloft.cli("s3", "ls").stdout


def test_cli_s3api(aloft, tmp_path):
    aloft.cli("s3api", "create-bucket", "--bucket", "api-bucket")
    f = tmp_path / "f.json"
    f.write_text('{"x": 1}')
    put = aloft.cli_json("s3api", "put-object", "--bucket", "api-bucket", "--key", "f.json", "--body", str(f), "--content-type", "application/json")
    head = aloft.cli_json("s3api", "head-object", "--bucket", "api-bucket", "--key", "f.json")
    assert head["ETag"] == put["ETag"] and head["ContentType"] == "application/json"
    aloft.cli("s3api", "copy-object", "--bucket", "api-bucket", "--key", "g.json", "--copy-source", "api-bucket/f.json")
    keys = [o["Key"] for o in aloft.cli_json("s3api", "list-objects-v2", "--bucket", "api-bucket")["Contents"]]
    assert keys == ["f.json", "g.json"]
    p = aloft.cli("s3api", "get-object", "--bucket", "api-bucket", "--key", "missing", str(tmp_path / "x"), check=False)
    assert p.returncode != 0 and "NoSuchKey" in p.stderr
    url = aloft.cli("s3", "presign", "s3://api-bucket/f.json", "--expires-in", "60").stdout.strip()
    assert requests.get(url).json() == {"x": 1}
    aloft.advance(61)
    assert requests.get(url).status_code == 403


def test_seed_004_s3_lab(aloft, tmp_path):
    """Lab 2 of seed 004: create and check a bucket, upload, download, list, presign, website."""
    s3 = aloft.client("s3")
    bucket = "notes-lab-bucket"
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    s3.get_waiter("bucket_exists").wait(Bucket=bucket)
    s3.head_bucket(Bucket=bucket)
    notes = tmp_path / "notes.csv"
    notes.write_text("id,note\n1,hello\n")
    s3.upload_file(str(notes), bucket, "notes.csv")
    buf = io.BytesIO()
    s3.download_fileobj(bucket, "notes.csv", buf)
    assert buf.getvalue() == notes.read_bytes()
    s3.put_object(Bucket=bucket, Key="notes.json", Body=json.dumps([{"id": 1}]).encode(), ContentType="application/json")
    keys = [o["Key"] for page in s3.get_paginator("list_objects").paginate(Bucket=bucket) for o in page.get("Contents", [])]
    assert keys == ["notes.csv", "notes.json"]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "notes.csv"}, ExpiresIn=3600)
    assert requests.get(url).content == notes.read_bytes()
    # Website: public access block relaxed, a policy, sync of an html folder, website config.
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
              "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    (tmp_path / "website.json").write_text(json.dumps({"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}}))
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("<html><body>Notes app</body></html>")
    (html / "error.html").write_text("<html><body>Not here</body></html>")
    aloft.cli("s3api", "put-public-access-block", "--bucket", bucket,
              "--public-access-block-configuration", "BlockPublicPolicy=false,RestrictPublicBuckets=false")
    aloft.cli("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", f"file://{tmp_path / 'policy.json'}")
    aloft.cli("s3", "sync", f"{html}/.", f"s3://{bucket}/")
    aloft.cli("s3api", "put-bucket-website", "--bucket", bucket, "--website-configuration", f"file://{tmp_path / 'website.json'}")
    host = {"Host": f"{bucket}.s3-website.localhost:{aloft.port}"}
    r = requests.get(f"{aloft.url}/", headers=host)
    assert (r.status_code, r.headers["Content-Type"]) == (200, "text/html")
    assert "Notes app" in r.text
    r = requests.get(f"{aloft.url}/nothing-here.html", headers=host)
    assert r.status_code == 404 and "Not here" in r.text
    # The high-level `aws s3 website` command configures the same thing.
    aloft.cli("s3", "website", f"s3://{bucket}/", "--index-document", "index.html", "--error-document", "error.html")
    assert s3.get_bucket_website(Bucket=bucket)["ErrorDocument"] == {"Key": "error.html"}


def test_persistence_across_kill_9(aloft_factory, tmp_path):
    data = tmp_path / "data"
    a = aloft_factory(data_dir=data)
    s3 = a.client("s3")
    s3.create_bucket(Bucket="keep")
    s3.put_bucket_versioning(Bucket="keep", VersioningConfiguration={"Status": "Enabled"})
    small = s3.put_object(Bucket="keep", Key="small.txt", Body=b"tiny", Metadata={"m": "1"})
    big_body = os.urandom(3 * 1024 * 1024)
    s3.put_object(Bucket="keep", Key="dir/big.bin", Body=big_body)
    s3.upload_fileobj(io.BytesIO(b"p" * (11 * 1024 * 1024)), "keep", "multi.bin")
    uid = s3.create_multipart_upload(Bucket="keep", Key="open")["UploadId"]
    s3.upload_part(Bucket="keep", Key="open", UploadId=uid, PartNumber=1, Body=b"part one")
    s3.put_bucket_tagging(Bucket="keep", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object(Bucket="keep", Key="small.txt")
    # ACL grants, lifecycle transitions, storage classes and restores.
    all_users = "http://acs.amazonaws.com/groups/global/AllUsers"
    s3.create_bucket(Bucket="keep-acl", ObjectOwnership="ObjectWriter")
    s3.put_bucket_acl(Bucket="keep-acl", GrantRead=f'uri="{all_users}"', GrantWriteACP=f'id="{"b" * 64}"')
    s3.put_object(Bucket="keep-acl", Key="granted", Body=b"g", GrantReadACP=f'id="{"c" * 64}"')
    bucket_acl = s3.get_bucket_acl(Bucket="keep-acl")
    object_acl = s3.get_object_acl(Bucket="keep-acl", Key="granted")
    s3.put_bucket_lifecycle_configuration(Bucket="keep-acl", TransitionDefaultMinimumObjectSize="varies_by_storage_class",
                                          LifecycleConfiguration={"Rules": [{"ID": "cold", "Status": "Enabled",
                                                                             "Filter": {"Prefix": "cold/"},
                                                                             "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}]})
    s3.put_object(Bucket="keep-acl", Key="cold/a", Body=b"c")
    a.advance(2 * 86400)
    a.internal("POST", "s3/lifecycle/sweep")
    s3.put_object(Bucket="keep-acl", Key="archived", Body=b"a", StorageClass="DEEP_ARCHIVE")
    s3.restore_object(Bucket="keep-acl", Key="archived", RestoreRequest={"Days": 1})
    a.kill()
    b = aloft_factory(data_dir=data)
    s3 = b.client("s3")
    assert s3.get_bucket_versioning(Bucket="keep")["Status"] == "Enabled"
    assert s3.get_object(Bucket="keep", Key="dir/big.bin")["Body"].read() == big_body
    assert s3.get_object(Bucket="keep", Key="multi.bin")["Body"].read() == b"p" * (11 * 1024 * 1024)
    old = s3.get_object(Bucket="keep", Key="small.txt", VersionId=small["VersionId"])
    assert (old["Body"].read(), old["Metadata"]) == (b"tiny", {"m": "1"})
    with pytest.raises(Exception):
        s3.get_object(Bucket="keep", Key="small.txt")
    assert [p["PartNumber"] for p in s3.list_parts(Bucket="keep", Key="open", UploadId=uid)["Parts"]] == [1]
    assert s3.get_bucket_tagging(Bucket="keep")["TagSet"] == [{"Key": "a", "Value": "b"}]
    assert s3.get_bucket_acl(Bucket="keep-acl")["Grants"] == bucket_acl["Grants"]
    assert s3.get_object_acl(Bucket="keep-acl", Key="granted")["Grants"] == object_acl["Grants"]
    life = s3.get_bucket_lifecycle_configuration(Bucket="keep-acl")
    assert life["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert s3.head_object(Bucket="keep-acl", Key="cold/a")["StorageClass"] == "GLACIER"
    archived = s3.head_object(Bucket="keep-acl", Key="archived")
    assert (archived["StorageClass"], archived["Restore"]) == ("DEEP_ARCHIVE", 'ongoing-request="true"')
    with pytest.raises(Exception):
        s3.restore_object(Bucket="keep-acl", Key="archived", RestoreRequest={"Days": 1})
    # Blobs live under the data dir, named by id: no key becomes a path.
    blob_dir = data / "blobs" / "s3"
    assert blob_dir.is_dir()
    assert not any("big" in p.name for p in blob_dir.iterdir())
