"""S3 lifecycle transitions on the one clock (storage classes, filters, noncurrent versions, the
128 KiB default minimum), PutBucketLifecycleConfiguration's validation, archived objects and
RestoreObject (tiers, 202/409/200, x-amz-restore, expiry, notifications)."""

import json

import pytest
from botocore.exceptions import ClientError

DAY = 86400
BIG = b"b" * (130 * 1024)


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def message(excinfo):
    return excinfo.value.response["Error"]["Message"]


@pytest.fixture
def s3(aloft):
    c = aloft.client("s3")
    c.create_bucket(Bucket="life")
    return c


def sweep(aloft, days):
    aloft.advance(days * DAY)
    aloft.internal("POST", "s3/lifecycle/sweep")


def classes(s3, bucket="life"):
    return {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def put_rules(s3, *rules, bucket="life", **kw):
    return s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)}, **kw)


def test_transitions_move_objects_down_the_waterfall(aloft, s3):
    r = put_rules(s3, {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Transitions": [
        {"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}]})
    assert r["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket="life")
    assert got["Rules"][0]["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"},
                                              {"Days": 90, "StorageClass": "GLACIER"}]
    s3.put_object(Bucket="life", Key="logs/big", Body=BIG)
    s3.put_object(Bucket="life", Key="logs/small", Body=b"tiny")
    s3.put_object(Bucket="life", Key="other/big", Body=BIG)
    sweep(aloft, 20)
    assert classes(s3) == {"logs/big": "STANDARD", "logs/small": "STANDARD", "other/big": "STANDARD"}
    sweep(aloft, 12)
    # Objects under 128 KiB stay: S3's default minimum transition size.
    assert classes(s3) == {"logs/big": "STANDARD_IA", "logs/small": "STANDARD", "other/big": "STANDARD"}
    assert s3.head_object(Bucket="life", Key="logs/big")["StorageClass"] == "STANDARD_IA"
    assert s3.get_object(Bucket="life", Key="logs/big")["Body"].read() == BIG
    sweep(aloft, 60)
    assert classes(s3)["logs/big"] == "GLACIER"
    head = s3.head_object(Bucket="life", Key="logs/big")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="life", Key="logs/big")
    assert err(e) == ("InvalidObjectState", 403)
    assert message(e) == "The operation is not valid for the object's storage class"
    assert e.value.response["Error"]["StorageClass"] == "GLACIER"
    v1 = s3.list_objects(Bucket="life")["Contents"]
    assert {o["Key"]: o["StorageClass"] for o in v1}["logs/big"] == "GLACIER"


def test_tag_and_size_filters_choose_what_transitions(aloft, s3):
    put_rules(
        s3,
        {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "tier", "Value": "cold"}},
         "Transitions": [{"Days": 1, "StorageClass": "DEEP_ARCHIVE"}]},
        # A size filter of its own overrides the 128 KiB default.
        {"ID": "sized", "Status": "Enabled", "Filter": {"And": {"Prefix": "s/", "ObjectSizeGreaterThan": 2,
                                                                  "ObjectSizeLessThan": 100}},
         "Transitions": [{"Days": 0, "StorageClass": "GLACIER_IR"}]},
        {"ID": "off", "Status": "Disabled", "Filter": {}, "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]},
    )
    s3.put_object(Bucket="life", Key="t/cold", Body=BIG, Tagging="tier=cold")
    s3.put_object(Bucket="life", Key="t/warm", Body=BIG, Tagging="tier=warm")
    s3.put_object(Bucket="life", Key="s/mid", Body=b"x" * 50)
    s3.put_object(Bucket="life", Key="s/tiny", Body=b"x")
    s3.put_object(Bucket="life", Key="s/large", Body=b"x" * 200)
    sweep(aloft, 2)
    assert classes(s3) == {"t/cold": "DEEP_ARCHIVE", "t/warm": "STANDARD", "s/mid": "GLACIER_IR",
                           "s/tiny": "STANDARD", "s/large": "STANDARD"}
    # GLACIER_IR stays readable; DEEP_ARCHIVE does not.
    assert s3.get_object(Bucket="life", Key="s/mid")["Body"].read() == b"x" * 50
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="life", Key="t/cold")
    assert err(e) == ("InvalidObjectState", 403)


def test_varies_by_storage_class_lets_small_objects_reach_glacier(aloft, s3):
    r = put_rules(s3, {"ID": "g", "Status": "Enabled", "Filter": {}, "Transitions": [
        {"Days": 1, "StorageClass": "GLACIER"}]}, TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    assert r["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket="life")
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    s3.put_object(Bucket="life", Key="small", Body=b"s")
    sweep(aloft, 2)
    assert classes(s3) == {"small": "GLACIER"}


def test_noncurrent_versions_transition(aloft, s3):
    s3.put_bucket_versioning(Bucket="life", VersioningConfiguration={"Status": "Enabled"})
    put_rules(s3, {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionTransitions": [
        {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}, {"NoncurrentDays": 60, "StorageClass": "GLACIER"}]})
    v1 = s3.put_object(Bucket="life", Key="doc", Body=BIG)["VersionId"]
    v2 = s3.put_object(Bucket="life", Key="doc", Body=BIG + b"2")["VersionId"]

    def by_version():
        return {v["VersionId"]: v["StorageClass"] for v in s3.list_object_versions(Bucket="life")["Versions"]}

    sweep(aloft, 31)
    assert by_version() == {v1: "STANDARD_IA", v2: "STANDARD"}
    sweep(aloft, 30)
    assert by_version() == {v1: "GLACIER", v2: "STANDARD"}
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="life", Key="doc", VersionId=v1)
    assert err(e) == ("InvalidObjectState", 403)
    assert s3.get_object(Bucket="life", Key="doc")["Body"].read() == BIG + b"2"
    # A noncurrent version is restored by its version id.
    r = s3.restore_object(Bucket="life", Key="doc", VersionId=v1, RestoreRequest={"Days": 1})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    listed = s3.list_object_versions(Bucket="life", OptionalObjectAttributes=["RestoreStatus"])["Versions"]
    assert {v["VersionId"]: v.get("RestoreStatus") for v in listed} == {v1: {"IsRestoreInProgress": True}, v2: None}
    aloft.advance(5 * 3600)
    assert s3.get_object(Bucket="life", Key="doc", VersionId=v1)["Body"].read() == BIG


def test_expiration_wins_over_transition_on_the_same_day(aloft, s3):
    put_rules(s3, {"ID": "both", "Status": "Enabled", "Filter": {}, "Transitions": [
        {"Days": 1, "StorageClass": "GLACIER"}], "Expiration": {"Days": 2}})
    s3.put_object(Bucket="life", Key="k", Body=BIG)
    aloft.advance(10 * DAY)
    aloft.internal("POST", "s3/lifecycle/sweep")
    assert classes(s3) == {}


@pytest.mark.parametrize("rule, code, text", [
    ({"Transitions": [{"Days": 7, "StorageClass": "STANDARD_IA"}]}, "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"),
    ({"Transitions": [{"Days": 29, "StorageClass": "ONEZONE_IA"}]}, "InvalidArgument",
     "'Days' in Transition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'"),
    ({"NoncurrentVersionTransitions": [{"NoncurrentDays": 5, "StorageClass": "STANDARD_IA"}]}, "InvalidArgument",
     "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"),
    ({"Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"}, {"Days": 60, "StorageClass": "GLACIER"}]},
     "InvalidArgument",
     "'Days' in the Transition action for StorageClass 'GLACIER' for filter '(prefix=p/)' must be greater than "
     "'Days' in the Transition action for StorageClass 'STANDARD_IA' for filter '(prefix=p/)'"),
    ({"Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 45, "StorageClass": "GLACIER"}]},
     "InvalidArgument", None),
    ({"Transitions": [{"Days": 60, "StorageClass": "GLACIER"}], "Expiration": {"Days": 30}}, "InvalidArgument",
     "'Days' in the Expiration action for filter '(prefix=p/)' must be greater than 'Days' in the Transition "
     "action for StorageClass 'GLACIER' for filter '(prefix=p/)'"),
    ({"Transitions": [{"Days": 1, "StorageClass": "GLACIER"}, {"Days": 100, "StorageClass": "GLACIER"}]},
     "InvalidArgument", None),
    ({"Transitions": [{"Days": 1, "StorageClass": "STANDARD"}]}, "MalformedXML", None),
    ({"Transitions": [{"Date": "2031-01-01T05:00:00Z", "StorageClass": "GLACIER"}]}, "InvalidArgument",
     "'Date' must be at midnight GMT"),
    ({"Transitions": [{"Date": "2031-01-01T00:00:00Z", "StorageClass": "GLACIER"}], "Expiration": {"Days": 400}},
     "InvalidRequest", None),
])
def test_put_lifecycle_refuses_what_s3_refuses(s3, rule, code, text):
    with pytest.raises(ClientError) as e:
        put_rules(s3, {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "p/"}, **rule})
    assert err(e) == (code, 400)
    if text:
        assert message(e) == text


def test_duplicate_rule_ids_and_bad_minimum_size_are_refused(aloft, s3):
    rule = {"ID": "same", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}}
    with pytest.raises(ClientError) as e:
        put_rules(s3, rule, rule)
    assert err(e) == ("InvalidArgument", 400)
    p = aloft.cli("s3api", "put-bucket-lifecycle-configuration", "--bucket", "life",
                  "--lifecycle-configuration", json.dumps({"Rules": [
                      {"ID": "d", "Status": "Enabled", "Filter": {},
                       "Transitions": [{"Date": "2031-01-01T00:00:00Z", "StorageClass": "DEEP_ARCHIVE"}]}]}))
    assert p.returncode == 0
    got = aloft.cli_json("s3api", "get-bucket-lifecycle-configuration", "--bucket", "life")
    assert got["Rules"][0]["Transitions"][0]["StorageClass"] == "DEEP_ARCHIVE"


def test_dated_transitions_apply_on_their_date(aloft, s3):
    import datetime
    now = datetime.datetime.fromtimestamp(aloft.internal("GET", "clock")["now_ms"] / 1000, datetime.timezone.utc)
    date = (now + datetime.timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    put_rules(s3, {"ID": "d", "Status": "Enabled", "Filter": {}, "Transitions": [
        {"Date": date, "StorageClass": "GLACIER"}]})
    s3.put_object(Bucket="life", Key="k", Body=BIG)
    sweep(aloft, 1)
    assert classes(s3) == {"k": "STANDARD"}
    sweep(aloft, 3)
    assert classes(s3) == {"k": "GLACIER"}


def test_restore_object_on_the_clock(aloft, s3):
    s3.put_object(Bucket="life", Key="arch", Body=b"cold data", StorageClass="GLACIER")
    head = s3.head_object(Bucket="life", Key="arch")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="life", Key="arch")
    assert err(e) == ("InvalidObjectState", 403)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="life", Key="copy", CopySource={"Bucket": "life", "Key": "arch"})
    assert err(e) == ("InvalidObjectState", 403)
    r = s3.restore_object(Bucket="life", Key="arch",
                          RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket="life", Key="arch")["Restore"] == 'ongoing-request="true"'

    def listed_status():
        listed = s3.list_objects_v2(Bucket="life", OptionalObjectAttributes=["RestoreStatus"])["Contents"]
        return {o["Key"]: o.get("RestoreStatus") for o in listed}["arch"]

    assert listed_status() == {"IsRestoreInProgress": True}
    assert "RestoreStatus" not in s3.list_objects_v2(Bucket="life")["Contents"][0]
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket="life", Key="arch", RestoreRequest={"Days": 2})
    assert err(e) == ("RestoreAlreadyInProgress", 409)
    assert message(e) == "Object restore is already in progress"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="life", Key="arch")
    assert err(e) == ("InvalidObjectState", 403)
    # Expedited restores take up to 5 minutes.
    aloft.advance(4 * 60)
    assert s3.head_object(Bucket="life", Key="arch")["Restore"] == 'ongoing-request="true"'
    aloft.advance(61)
    restore = s3.head_object(Bucket="life", Key="arch")["Restore"]
    assert restore.startswith('ongoing-request="false", expiry-date="') and restore.endswith(' 00:00:00 GMT"')
    got = s3.get_object(Bucket="life", Key="arch")
    assert got["Body"].read() == b"cold data" and got["StorageClass"] == "GLACIER"
    status = listed_status()
    assert status["IsRestoreInProgress"] is False and status["RestoreExpiryDate"].hour == 0
    s3.copy_object(Bucket="life", Key="copy", CopySource={"Bucket": "life", "Key": "arch"})
    assert s3.head_object(Bucket="life", Key="copy").get("StorageClass", "STANDARD") == "STANDARD"
    # A restored copy's expiry is extended with 200.
    r = s3.restore_object(Bucket="life", Key="arch", RestoreRequest={"Days": 5})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_object(Bucket="life", Key="arch")["Restore"] != restore
    aloft.advance(4 * DAY)
    assert s3.get_object(Bucket="life", Key="arch")["Body"].read() == b"cold data"
    aloft.advance(3 * DAY)
    assert "Restore" not in s3.head_object(Bucket="life", Key="arch")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="life", Key="arch")
    assert err(e) == ("InvalidObjectState", 403)
    # An expired copy can be restored again.
    r = s3.restore_object(Bucket="life", Key="arch", RestoreRequest={"Days": 1})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202


def test_restore_tiers_and_errors(aloft, s3):
    s3.put_object(Bucket="life", Key="deep", Body=b"d", StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket="life", Key="hot", Body=b"h")
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket="life", Key="hot", RestoreRequest={"Days": 1})
    assert err(e) == ("InvalidObjectState", 403)
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket="life", Key="missing", RestoreRequest={"Days": 1})
    assert err(e) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as e:
        s3.restore_object(Bucket="life", Key="deep",
                          RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert err(e) == ("InvalidArgument", 400)
    # Through the CLI: Deep Archive Bulk restores take up to 48 hours.
    aloft.cli("s3api", "restore-object", "--bucket", "life", "--key", "deep", "--restore-request",
              json.dumps({"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}}))
    aloft.advance(47 * 3600)
    assert aloft.cli_json("s3api", "head-object", "--bucket", "life", "--key", "deep")["Restore"] == \
        'ongoing-request="true"'
    aloft.advance(3600)
    assert s3.get_object(Bucket="life", Key="deep")["Body"].read() == b"d"


def test_restore_notifications(aloft, s3):
    sqs = aloft.client("sqs")
    q = sqs.create_queue(QueueName="restores")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket="life", NotificationConfiguration={"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectRestore:*", "s3:LifecycleTransition"]}],
        "EventBridgeConfiguration": {}})
    s3.put_object(Bucket="life", Key="a", Body=b"a", StorageClass="GLACIER")
    s3.restore_object(Bucket="life", Key="a", RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})
    sweep(aloft, 0.01)
    sweep(aloft, 3)

    def names():
        sent = aloft.internal("GET", "s3/notifications")["notifications"]
        return [r["eventName"] for n in sent if n["target"] == arn for r in n["payload"].get("Records", [])]

    assert names() == ["ObjectRestore:Post", "ObjectRestore:Completed", "ObjectRestore:Delete"]
    # EventBridge gets restores as their own detail types, never as an "Object Deleted".
    sent = aloft.internal("GET", "s3/notifications")["notifications"]
    assert [n["payload"]["detail-type"] for n in sent if "event-bus" in n["target"]] == [
        "Object Created", "Object Restore Initiated", "Object Restore Completed", "Object Restore Expired"]
