"""Presigned URLs (expiry by the one clock), browser POST uploads, CORS rules and preflight,
website hosting, bucket configuration documents, lifecycle expiry and notifications."""

import json

import pytest
import requests
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(aloft):
    c = aloft.client("s3")
    c.create_bucket(Bucket="feat")
    return c


@pytest.mark.parametrize("sig", ["s3", "s3v4"])
def test_presigned_get_and_put_expire_with_the_clock(aloft, s3, sig):
    s3 = aloft.client("s3", signature_version=sig)
    s3.put_object(Bucket="feat", Key="doc.txt", Body=b"presigned!")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "feat", "Key": "doc.txt"}, ExpiresIn=600)
    r = requests.get(url)
    assert (r.status_code, r.content) == (200, b"presigned!")
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "feat", "Key": "up.txt"}, ExpiresIn=600)
    assert requests.put(put, data=b"via url").status_code == 200
    assert s3.get_object(Bucket="feat", Key="up.txt")["Body"].read() == b"via url"
    aloft.advance(601)
    r = requests.get(url)
    assert r.status_code == 403
    assert b"<Code>AccessDenied</Code>" in r.content and b"Request has expired" in r.content


def test_presigned_expiry_over_a_week_is_refused(aloft, s3):
    s3 = aloft.client("s3", signature_version="s3v4")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "feat", "Key": "k"}, ExpiresIn=604801)
    r = requests.get(url)
    assert r.status_code == 400 and b"AuthorizationQueryParametersError" in r.content


@pytest.mark.parametrize("sig", ["s3", "s3v4"])
def test_post_upload_with_policy(aloft, s3, sig):
    s3 = aloft.client("s3", signature_version=sig)
    post = s3.generate_presigned_post(
        "feat", "uploads/${filename}",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 100]],
        ExpiresIn=300,
    )
    r = requests.post(post["url"], data=post["fields"], files={"file": ("photo.txt", b"posted bytes")})
    assert r.status_code == 201, r.content
    assert b"<Key>uploads/photo.txt</Key>" in r.content
    assert s3.get_object(Bucket="feat", Key="uploads/photo.txt")["Body"].read() == b"posted bytes"
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.txt", b"x" * 101)})
    assert r.status_code == 400 and b"EntityTooLarge" in r.content
    aloft.advance(301)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("late.txt", b"late")})
    assert r.status_code == 403 and b"Policy expired" in r.content


def test_cors_configuration_and_preflight(aloft, s3):
    url = f"{aloft.url}/feat/obj"
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    r = requests.options(url, headers=pre)
    assert r.status_code == 403 and b"CORSResponse" in r.content
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket="feat")
    assert err(e) == ("NoSuchCORSConfiguration", 404)
    rules = {"CORSRules": [{
        "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300,
    }]}
    s3.put_bucket_cors(Bucket="feat", CORSConfiguration=rules)
    assert s3.get_bucket_cors(Bucket="feat")["CORSRules"] == rules["CORSRules"]
    r = requests.options(url, headers={**pre, "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Max-Age"] == "300"
    assert "PUT" in r.headers["Access-Control-Allow-Methods"]
    r = requests.options(url, headers={"Origin": "https://evil.com", "Access-Control-Request-Method": "PUT"})
    assert r.status_code == 403
    r = requests.options(url, headers={**pre, "Access-Control-Request-Method": "DELETE"})
    assert r.status_code == 403
    s3.put_object(Bucket="feat", Key="obj", Body=b"x")
    r = requests.get(url, headers={"Origin": "https://app.example.com"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket="feat", CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
    assert err(e) == ("InvalidRequest", 400)
    s3.delete_bucket_cors(Bucket="feat")
    assert requests.options(url, headers=pre).status_code == 403


def website_get(aloft, bucket, path):
    return requests.get(f"{aloft.url}{path}", headers={"Host": f"{bucket}.s3-website.localhost:{aloft.port}"}, allow_redirects=False)


def test_website_hosting(aloft, s3):
    r = website_get(aloft, "feat", "/")
    assert r.status_code == 404 and b"NoSuchWebsiteConfiguration" in r.content
    s3.put_bucket_website(Bucket="feat", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "new/"}}],
    })
    assert s3.get_bucket_website(Bucket="feat")["IndexDocument"] == {"Suffix": "index.html"}
    s3.put_object(Bucket="feat", Key="index.html", Body=b"<h1>home</h1>", ContentType="text/html")
    s3.put_object(Bucket="feat", Key="docs/index.html", Body=b"docs home", ContentType="text/html")
    s3.put_object(Bucket="feat", Key="error.html", Body=b"oops", ContentType="text/html")
    s3.put_object(Bucket="feat", Key="moved", Body=b"", WebsiteRedirectLocation="/index.html")
    r = website_get(aloft, "feat", "/")
    assert (r.status_code, r.content, r.headers["Content-Type"]) == (200, b"<h1>home</h1>", "text/html")
    assert website_get(aloft, "feat", "/docs/").content == b"docs home"
    r = website_get(aloft, "feat", "/docs")
    assert (r.status_code, r.headers["Location"]) == (302, "/docs/")
    r = website_get(aloft, "feat", "/missing.html")
    assert (r.status_code, r.content) == (404, b"oops")
    r = website_get(aloft, "feat", "/old/page.html")
    assert r.status_code == 301 and r.headers["Location"].endswith("/new/page.html")
    r = website_get(aloft, "feat", "/moved")
    assert (r.status_code, r.headers["Location"]) == (301, "/index.html")
    r = website_get(aloft, "nobucket", "/")
    assert r.status_code == 404 and b"NoSuchBucket" in r.content
    s3.delete_bucket_website(Bucket="feat")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket="feat")
    assert err(e) == ("NoSuchWebsiteConfiguration", 404)


def test_bucket_documents_round_trip(s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket="feat")
    assert err(e) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket="feat", Tagging={"TagSet": [{"Key": "team", "Value": "core"}]})
    assert s3.get_bucket_tagging(Bucket="feat")["TagSet"] == [{"Key": "team", "Value": "core"}]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::feat/*"}]}
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket="feat")
    assert err(e) == ("NoSuchBucketPolicy", 404)
    s3.put_bucket_policy(Bucket="feat", Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket="feat")["Policy"]) == policy
    assert s3.get_bucket_policy_status(Bucket="feat")["PolicyStatus"]["IsPublic"] is True
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket="feat", Policy="not json")
    assert err(e) == ("MalformedPolicy", 400)
    pab = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket="feat")
    assert err(e) == ("NoSuchPublicAccessBlockConfiguration", 404)
    s3.put_public_access_block(Bucket="feat", PublicAccessBlockConfiguration=pab)
    assert s3.get_public_access_block(Bucket="feat")["PublicAccessBlockConfiguration"] == pab
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket="feat", ACL="public-read")
    assert err(e) == ("AccessControlListNotSupported", 400)
    s3.create_bucket(Bucket="feat-acl", ObjectOwnership="BucketOwnerPreferred")
    s3.put_bucket_acl(Bucket="feat-acl", ACL="public-read")
    grants = s3.get_bucket_acl(Bucket="feat-acl")["Grants"]
    assert {g["Permission"] for g in grants} == {"FULL_CONTROL", "READ"}
    enc = s3.get_bucket_encryption(Bucket="feat")["ServerSideEncryptionConfiguration"]
    assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    s3.put_bucket_encryption(Bucket="feat", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/mine"}}]})
    r = s3.put_object(Bucket="feat", Key="enc", Body=b"x")
    assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", "alias/mine")
    assert s3.get_bucket_ownership_controls(Bucket="feat")["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"


def test_lifecycle_expiration_sweeps_with_the_clock(aloft, s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket="feat")
    assert err(e) == ("NoSuchLifecycleConfiguration", 404)
    s3.put_bucket_lifecycle_configuration(Bucket="feat", LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "mpu", "Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    ]})
    rules = s3.get_bucket_lifecycle_configuration(Bucket="feat")["Rules"]
    assert [r["ID"] for r in rules] == ["tmp", "mpu"]
    s3.put_object(Bucket="feat", Key="tmp/a", Body=b"x")
    s3.put_object(Bucket="feat", Key="keep/a", Body=b"x")
    s3.create_multipart_upload(Bucket="feat", Key="pending")
    assert aloft.internal("POST", "s3/lifecycle/sweep")["expired"] == 0
    aloft.advance(2 * 86400)
    aloft.internal("POST", "s3/lifecycle/sweep")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="feat")["Contents"]] == ["keep/a"]
    aloft.advance(86400)
    aloft.internal("POST", "s3/lifecycle/sweep")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="feat")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket="feat", LifecycleConfiguration={"Rules": [{"ID": "x", "Status": "Enabled", "Filter": {}}]})
    assert err(e) == ("InvalidRequest", 400)


def test_notification_configuration_and_events(aloft, s3):
    assert s3.get_bucket_notification_configuration(Bucket="feat").get("QueueConfigurations") is None
    queue = "arn:aws:sqs:us-east-1:000000000000:uploads"
    s3.put_bucket_notification_configuration(Bucket="feat", NotificationConfiguration={
        "QueueConfigurations": [{"Id": "q", "QueueArn": queue, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}}],
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
                                          "Events": ["s3:ObjectRemoved:*"]}],
        "EventBridgeConfiguration": {},
    })
    cfg = s3.get_bucket_notification_configuration(Bucket="feat")
    assert cfg["QueueConfigurations"][0]["QueueArn"] == queue
    assert cfg["LambdaFunctionConfigurations"][0]["Id"]
    assert "EventBridgeConfiguration" in cfg
    s3.put_object(Bucket="feat", Key="my photo.jpg", Body=b"jpeg")
    s3.put_object(Bucket="feat", Key="notes.txt", Body=b"txt")
    s3.delete_object(Bucket="feat", Key="my photo.jpg")
    sent = aloft.internal("GET", "s3/notifications")["notifications"]
    to_queue = [n["payload"] for n in sent if n["target"] == queue]
    assert len(to_queue) == 1
    rec = to_queue[0]["Records"][0]
    assert rec["eventVersion"] == "2.1" and rec["eventSource"] == "aws:s3"
    assert rec["eventName"] == "ObjectCreated:Put"
    assert rec["s3"]["object"]["key"] == "my+photo.jpg"
    assert rec["s3"]["object"]["size"] == 4
    assert rec["s3"]["bucket"]["arn"] == "arn:aws:s3:::feat"
    assert rec["s3"]["configurationId"] == "q"
    removed = [n["payload"] for n in sent if n["target"].startswith("arn:aws:lambda")]
    assert removed[0]["Records"][0]["eventName"] == "ObjectRemoved:Delete"
    bus = [n["payload"] for n in sent if n["target"].startswith("arn:aws:events")]
    assert [b["detail-type"] for b in bus] == ["Object Created", "Object Created", "Object Deleted"]
    assert bus[0]["detail"]["object"]["key"] == "my photo.jpg"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket="feat", NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:Nope"]}]})
    assert err(e) == ("InvalidArgument", 400)


def test_post_upload_streams_large_files_and_ignores_fields_after_the_file(aloft, s3):
    import hashlib
    import io
    data = bytes(range(256)) * (80 * 1024)  # 20 MiB
    post = s3.generate_presigned_post("feat", "big/${filename}", Fields={"Content-Type": "application/zip"},
                                      Conditions=[{"Content-Type": "application/zip"}])
    # requests puts `files` after `data`, as browsers must: S3 reads fields up to the file.
    r = requests.post(post["url"], data=post["fields"], files={"file": ("archive.zip", io.BytesIO(data))})
    assert r.status_code == 204, r.content
    got = s3.get_object(Bucket="feat", Key="big/archive.zip")
    assert got["ContentType"] == "application/zip"
    assert hashlib.md5(got["Body"].read()).hexdigest() == hashlib.md5(data).hexdigest()
    r = requests.post(post["url"], data=post["fields"])
    assert r.status_code == 412 and b"multipart/form-data" in r.content
    r = requests.post(post["url"], files={k: (None, v) for k, v in post["fields"].items()})
    assert r.status_code == 400 and b"exactly one file" in r.content
