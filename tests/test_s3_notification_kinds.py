"""The S3 event kinds beyond created/removed, observed where users see them: tagging and ACL
records on an SQS queue, restore records with their `glacierEventData`, and every EventBridge
detail type (restore, storage class change, lifecycle deletion, tags, ACL) through a rule to an
SQS queue; the principal of SigV2 callers; archived objects on the website endpoint."""

import json

import boto3
import botocore.config
import pytest
import requests
from botocore.exceptions import ClientError

DAY = 86400


def receive_all(sqs, url, want):
    got = []
    for _ in range(10):
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= want:
            break
    return got


def queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def bus_to_queue(aloft, name, bucket):
    """An EventBridge rule for every S3 event of `bucket`, targeting a new queue."""
    sqs, events = aloft.client("sqs"), aloft.client("events")
    url, arn = queue(sqs, name)
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["aws.s3"], "detail": {"bucket": {"name": [bucket]}}}))
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    return url


def records(msgs):
    return [r for m in msgs for r in m.get("Records", [])]


def sweep(aloft, seconds):
    aloft.advance(seconds)
    aloft.internal("POST", "s3/lifecycle/sweep")


def test_tagging_and_acl_events_reach_a_queue_with_their_filters(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    url, arn = queue(sqs, "tag-events")
    s3.create_bucket(Bucket="tagged", ObjectOwnership="ObjectWriter")
    s3.put_bucket_notification_configuration(Bucket="tagged", NotificationConfiguration={"QueueConfigurations": [
        {"Id": "tags", "QueueArn": arn, "Events": ["s3:ObjectTagging:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "docs/"}]}}},
        {"Id": "acl", "QueueArn": arn, "Events": ["s3:ObjectAcl:Put"]}]})
    assert receive_all(sqs, url, 1)[0]["Event"] == "s3:TestEvent"
    s3.put_object(Bucket="tagged", Key="docs/a.txt", Body=b"a")
    s3.put_object(Bucket="tagged", Key="other.txt", Body=b"o")
    s3.put_object_tagging(Bucket="tagged", Key="docs/a.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_object_tagging(Bucket="tagged", Key="other.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.delete_object_tagging(Bucket="tagged", Key="docs/a.txt")
    s3.put_object_acl(Bucket="tagged", Key="other.txt", ACL="bucket-owner-read")
    got = records(receive_all(sqs, url, 3))
    assert [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["configurationId"]) for r in got] == [
        ("ObjectTagging:Put", "docs/a.txt", "tags"),
        ("ObjectTagging:Delete", "docs/a.txt", "tags"),
        ("ObjectAcl:Put", "other.txt", "acl"),
    ]
    # S3 writes these with eventVersion 2.3, from the caller that made the change.
    assert {r["eventVersion"] for r in got} == {"2.3"}
    assert {r["userIdentity"]["principalId"] for r in got} == {"AWS:test"}
    assert got[0]["s3"]["object"]["eTag"] == s3.head_object(Bucket="tagged", Key="docs/a.txt")["ETag"].strip('"')
    # A request that failed sends nothing.
    sent = len(aloft.internal("GET", "s3/notifications")["notifications"])
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket="tagged", Key="docs/missing", Tagging={"TagSet": []})
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    assert len(aloft.internal("GET", "s3/notifications")["notifications"]) == sent


def test_tag_and_acl_changes_on_eventbridge(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    url = bus_to_queue(aloft, "eb-tags", "ebtags")
    s3.create_bucket(Bucket="ebtags", ObjectOwnership="ObjectWriter")
    s3.put_bucket_versioning(Bucket="ebtags", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket="ebtags", NotificationConfiguration={"EventBridgeConfiguration": {}})
    vid = s3.put_object(Bucket="ebtags", Key="k", Body=b"hello")["VersionId"]
    s3.put_object_tagging(Bucket="ebtags", Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object_tagging(Bucket="ebtags", Key="k")
    s3.put_object_acl(Bucket="ebtags", Key="k", ACL="private")
    msgs = receive_all(sqs, url, 4)
    assert [m["detail-type"] for m in msgs] == ["Object Created", "Object Tags Added", "Object Tags Deleted",
                                                "Object ACL Updated"]
    for m in msgs[1:]:
        d = m["detail"]
        assert d["object"] == {"key": "k", "etag": "5d41402abc4b2a76b9719d911017c592", "version-id": vid}
        assert d["requester"] == m["account"] == "000000000000"
        assert d["source-ip-address"] and d["request-id"] and "reason" not in d
        assert m["resources"] == ["arn:aws:s3:::ebtags"]
        assert m["time"].endswith("Z") and "." not in m["time"]


def test_restore_events_on_a_queue_and_on_eventbridge(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    url, arn = queue(sqs, "restore-records")
    eb = bus_to_queue(aloft, "eb-restores", "cold")
    s3.create_bucket(Bucket="cold")
    s3.put_bucket_notification_configuration(Bucket="cold", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectRestore:*"]}],
        "EventBridgeConfiguration": {}})
    receive_all(sqs, url, 1)  # the test event
    s3.put_object(Bucket="cold", Key="arch", Body=b"archived", StorageClass="DEEP_ARCHIVE")
    s3.restore_object(Bucket="cold", Key="arch", RestoreRequest={"Days": 2})
    sweep(aloft, 13 * 3600)  # a Standard Deep Archive restore takes up to 12 hours
    expiry = s3.head_object(Bucket="cold", Key="arch")["Restore"]
    assert 'ongoing-request="false"' in expiry
    sweep(aloft, 3 * DAY)

    got = records(receive_all(sqs, url, 3))
    assert [r["eventName"] for r in got] == ["ObjectRestore:Post", "ObjectRestore:Completed", "ObjectRestore:Delete"]
    assert [r["eventVersion"] for r in got] == ["2.1", "2.1", "2.3"]
    assert "glacierEventData" not in got[0] and "glacierEventData" not in got[2]
    data = got[1]["glacierEventData"]["restoreEventData"]
    assert data["lifecycleRestoreStorageClass"] == "DEEP_ARCHIVE"
    assert data["lifecycleRestorationExpiryTime"].endswith("T00:00:00.000Z")
    assert got[1]["userIdentity"]["principalId"] == "s3.amazonaws.com"

    msgs = [m for m in receive_all(sqs, eb, 4) if m["detail-type"] != "Object Created"]
    assert [m["detail-type"] for m in msgs] == ["Object Restore Initiated", "Object Restore Completed",
                                                "Object Restore Expired"]
    initiated, completed, expired = (m["detail"] for m in msgs)
    assert initiated["source-storage-class"] == "DEEP_ARCHIVE"
    assert initiated["requester"] == "000000000000" and initiated["source-ip-address"]
    assert initiated["object"]["size"] == 8
    assert completed["source-storage-class"] == "DEEP_ARCHIVE"
    assert completed["requester"] == "s3.amazonaws.com" and "source-ip-address" not in completed
    assert completed["restore-expiry-time"] == data["lifecycleRestorationExpiryTime"].replace(".000Z", "Z")
    assert expired["object"] == {"key": "arch"} and expired["requester"] == "s3.amazonaws.com"


def test_a_restore_that_completed_and_expired_in_one_clock_jump_announces_both(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    url, arn = queue(sqs, "jump-records")
    s3.create_bucket(Bucket="jump")
    s3.put_bucket_notification_configuration(Bucket="jump", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete"]}]})
    receive_all(sqs, url, 1)  # the test event
    s3.put_object(Bucket="jump", Key="j", Body=b"j", StorageClass="GLACIER")
    s3.restore_object(Bucket="jump", Key="j", RestoreRequest={"Days": 1})
    sweep(aloft, 5 * DAY)
    got = records(receive_all(sqs, url, 2))
    assert [r["eventName"] for r in got] == ["ObjectRestore:Completed", "ObjectRestore:Delete"]
    assert got[0]["glacierEventData"]["restoreEventData"]["lifecycleRestoreStorageClass"] == "GLACIER"
    assert "Restore" not in s3.head_object(Bucket="jump", Key="j")


def test_lifecycle_transitions_and_expirations_on_eventbridge(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    url, arn = queue(sqs, "life-records")
    eb = bus_to_queue(aloft, "eb-life", "aging")
    s3.create_bucket(Bucket="aging")
    s3.put_bucket_lifecycle_configuration(Bucket="aging", LifecycleConfiguration={"Rules": [
        {"ID": "cold", "Status": "Enabled", "Filter": {"Prefix": "cold/"},
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]})
    s3.put_bucket_notification_configuration(Bucket="aging", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:LifecycleTransition", "s3:LifecycleExpiration:*"]}],
        "EventBridgeConfiguration": {}})
    receive_all(sqs, url, 1)  # the test event
    s3.put_object(Bucket="aging", Key="cold/big", Body=b"c" * (130 * 1024))
    s3.put_object(Bucket="aging", Key="tmp/scratch", Body=b"t")
    sweep(aloft, 2 * DAY)

    got = sorted(records(receive_all(sqs, url, 2)), key=lambda r: r["eventName"])
    assert [r["eventName"] for r in got] == ["LifecycleExpiration:Delete", "LifecycleTransition"]
    assert {r["eventVersion"] for r in got} == {"2.3"}
    assert got[1]["lifecycleEventData"] == {"transitionEventData": {"destinationStorageClass": "GLACIER"}}

    msgs = {m["detail-type"]: m["detail"] for m in receive_all(sqs, eb, 4)}
    assert set(msgs) == {"Object Created", "Object Storage Class Changed", "Object Deleted"}
    changed = msgs["Object Storage Class Changed"]
    assert changed["destination-storage-class"] == "GLACIER"
    assert changed["object"]["key"] == "cold/big" and changed["object"]["size"] == 130 * 1024
    assert changed["requester"] == "s3.amazonaws.com"
    deleted = msgs["Object Deleted"]
    assert deleted["reason"] == "Lifecycle Expiration"
    assert deleted["deletion-type"] == "Permanently Deleted"
    assert deleted["object"]["key"] == "tmp/scratch" and "size" not in deleted["object"]
    assert deleted["requester"] == "s3.amazonaws.com" and "source-ip-address" not in deleted


def test_lifecycle_delete_markers_are_object_deleted_with_their_deletion_type(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    eb = bus_to_queue(aloft, "eb-markers", "marked")
    s3.create_bucket(Bucket="marked")
    s3.put_bucket_versioning(Bucket="marked", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket="marked", LifecycleConfiguration={"Rules": [
        {"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}]})
    s3.put_bucket_notification_configuration(Bucket="marked", NotificationConfiguration={"EventBridgeConfiguration": {}})
    s3.put_object(Bucket="marked", Key="v", Body=b"v")
    sweep(aloft, 2 * DAY)
    deleted = [m["detail"] for m in receive_all(sqs, eb, 2) if m["detail-type"] == "Object Deleted"]
    assert len(deleted) == 1
    assert deleted[0]["deletion-type"] == "Delete Marker Created"
    assert deleted[0]["reason"] == "Lifecycle Expiration"
    assert deleted[0]["object"]["version-id"]


def test_sigv2_callers_are_the_principal_of_their_events(aloft):
    sqs = aloft.client("sqs")
    url, arn = queue(sqs, "v2-events")
    v2 = boto3.client("s3", endpoint_url=aloft.url, region_name="us-east-1",
                      aws_access_key_id="AKIDV2CALLER", aws_secret_access_key="test",
                      config=botocore.config.Config(signature_version="s3", retries={"max_attempts": 1}))
    s4 = aloft.client("s3")
    s4.create_bucket(Bucket="v2evt")
    s4.put_bucket_notification_configuration(Bucket="v2evt", NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:ObjectTagging:*"]}]})
    receive_all(sqs, url, 1)  # the test event
    v2.put_object(Bucket="v2evt", Key="k", Body=b"x")
    v2.put_object_tagging(Bucket="v2evt", Key="k", Tagging={"TagSet": []})
    v2.delete_object(Bucket="v2evt", Key="k")
    got = records(receive_all(sqs, url, 3))
    assert [r["eventName"] for r in got] == ["ObjectCreated:Put", "ObjectTagging:Put", "ObjectRemoved:Delete"]
    assert {r["userIdentity"]["principalId"] for r in got} == {"AWS:AKIDV2CALLER"}
    # A SigV2 presigned URL names its key in the query.
    url_put = v2.generate_presigned_url("put_object", Params={"Bucket": "v2evt", "Key": "p"})
    assert "AWSAccessKeyId=AKIDV2CALLER" in url_put
    assert requests.put(url_put, data=b"p").status_code == 200
    got = records(receive_all(sqs, url, 1))
    assert [(r["eventName"], r["userIdentity"]["principalId"]) for r in got] == [("ObjectCreated:Put", "AWS:AKIDV2CALLER")]
    # A browser POST form names its signer in its fields (SigV2 and SigV4 policies alike).
    v4 = boto3.client("s3", endpoint_url=aloft.url, region_name="us-east-1",
                      aws_access_key_id="AKIDV4FORM", aws_secret_access_key="test")
    for client, key in ((v2, "AKIDV2CALLER"), (v4, "AKIDV4FORM")):
        post = client.generate_presigned_post("v2evt", "form/${filename}")
        r = requests.post(post["url"], data=post["fields"], files={"file": ("f.txt", b"f")})
        assert r.status_code == 204
        got = records(receive_all(sqs, url, 1))
        assert [(r["eventName"], r["userIdentity"]["principalId"]) for r in got] == [("ObjectCreated:Post", f"AWS:{key}")]


def website_get(aloft, bucket, path):
    return requests.get(f"{aloft.url}{path}", headers={"Host": f"{bucket}.s3-website.localhost:{aloft.port}"},
                        allow_redirects=False)


def test_archived_objects_on_the_website_endpoint(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="site")
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_object(Bucket="site", Key="index.html", Body=b"<h1>home</h1>", ContentType="text/html")
    s3.put_object(Bucket="site", Key="old.html", Body=b"old", StorageClass="GLACIER")
    s3.put_object(Bucket="site", Key="ir.html", Body=b"instant", StorageClass="GLACIER_IR")
    r = website_get(aloft, "site", "/old.html")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    assert "<li>Code: InvalidObjectState</li>" in r.text
    assert "<li>StorageClass: GLACIER</li>" in r.text
    # Glacier Instant Retrieval is read like any other class.
    assert website_get(aloft, "site", "/ir.html").content == b"instant"
    # With an error document, that document is served, keeping the 403.
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    s3.put_object(Bucket="site", Key="error.html", Body=b"<p>oops</p>", ContentType="text/html")
    r = website_get(aloft, "site", "/old.html")
    assert (r.status_code, r.content) == (403, b"<p>oops</p>")
    # Restored, the object is served; once the copy expires it is refused again.
    s3.restore_object(Bucket="site", Key="old.html", RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert website_get(aloft, "site", "/old.html").status_code == 403
    aloft.advance(600)
    r = website_get(aloft, "site", "/old.html")
    assert (r.status_code, r.content) == (200, b"old")
    aloft.advance(3 * DAY)
    assert website_get(aloft, "site", "/old.html").status_code == 403
