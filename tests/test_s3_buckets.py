"""S3 buckets: create (LocationConstraint rules), head, list, location, delete, and addressing
by path, virtual host and website host."""

import pytest
import requests
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_create_head_list_delete(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="alpha")
    s3.get_waiter("bucket_exists").wait(Bucket="alpha")
    head = s3.head_bucket(Bucket="alpha")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["alpha"]
    assert s3.get_bucket_location(Bucket="alpha")["LocationConstraint"] is None
    s3.delete_bucket(Bucket="alpha")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="alpha")
    assert err(e) == ("404", 404)
    assert s3.list_buckets()["Buckets"] == []


def test_location_constraint_rules(aloft):
    eu = aloft.client("s3", region="eu-west-1")
    eu.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert eu.get_bucket_location(Bucket="eu-bucket")["LocationConstraint"] == "eu-west-1"
    with pytest.raises(ClientError) as e:
        eu.create_bucket(Bucket="eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert err(e) == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(ClientError) as e:
        eu.create_bucket(Bucket="eu-two")
    assert err(e) == ("IllegalLocationConstraintException", 400)
    us = aloft.client("s3")
    with pytest.raises(ClientError) as e:
        us.create_bucket(Bucket="us-one", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert err(e) == ("InvalidLocationConstraint", 400)
    # us-east-1 answers a repeated create by the owner with 200 (legacy behaviour).
    us.create_bucket(Bucket="us-one")
    us.create_bucket(Bucket="us-one")


def test_other_account_cannot_take_a_name(aloft):
    aloft.client("s3").create_bucket(Bucket="taken")
    import boto3
    other = boto3.client(
        "s3", endpoint_url=aloft.url, region_name="us-east-1",
        aws_access_key_id="111122223333", aws_secret_access_key="x",
    )
    with pytest.raises(ClientError) as e:
        other.create_bucket(Bucket="taken")
    assert err(e) == ("BucketAlreadyExists", 409)
    assert other.list_buckets()["Buckets"] == []


@pytest.mark.parametrize("name", ["ab", "UPPER", "under_score", "a..b", "192.168.1.1", "-dash", "x" * 64])
def test_invalid_bucket_names(aloft, name):
    with pytest.raises(ClientError) as e:
        aloft.client("s3").create_bucket(Bucket=name)
    assert err(e) == ("InvalidBucketName", 400)


def test_bucket_not_empty_and_no_such_bucket(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="full")
    s3.put_object(Bucket="full", Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="full")
    assert err(e) == ("BucketNotEmpty", 409)
    assert e.value.response["Error"]["BucketName"] == "full"
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="missing")
    assert err(e) == ("NoSuchBucket", 404)
    assert e.value.response["Error"]["BucketName"] == "missing"


def test_virtual_host_addressing(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="vhost")
    s3.put_object(Bucket="vhost", Key="dir/file.txt", Body=b"via host")
    for host in ["vhost.s3.localhost", "vhost.localhost", "vhost.s3.us-east-1.localhost.localstack.cloud"]:
        r = requests.get(f"{aloft.url}/dir/file.txt", headers={"Host": f"{host}:{aloft.port}"})
        assert r.status_code == 200, host
        assert r.content == b"via host"
    r = requests.get(f"{aloft.url}/?list-type=2", headers={"Host": f"vhost.s3.localhost:{aloft.port}"})
    assert b"<Key>dir/file.txt</Key>" in r.content


def test_unconfigured_features_read_as_absent(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="plain")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_replication(Bucket="plain")
    assert err(e) == ("ReplicationConfigurationNotFoundError", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket="plain")
    assert err(e) == ("ObjectLockConfigurationNotFoundError", 404)
    assert s3.list_bucket_analytics_configurations(Bucket="plain")["IsTruncated"] is False
    assert "InventoryConfigurationList" not in s3.list_bucket_inventory_configurations(Bucket="plain")
    with pytest.raises(ClientError) as e:
        s3.get_bucket_metrics_configuration(Bucket="plain", Id="m")
    assert err(e) == ("NoSuchConfiguration", 404)
    assert s3.get_bucket_logging(Bucket="plain").get("LoggingEnabled") is None
    assert s3.get_bucket_request_payment(Bucket="plain")["Payer"] == "BucketOwner"


def test_unknown_operation_and_method(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="ops")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_replication(Bucket="ops", ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/r",
            "Rules": [{"Status": "Enabled", "Prefix": "", "Destination": {"Bucket": "arn:aws:s3:::x"}}]})
    assert err(e) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as e:
        s3.select_object_content(Bucket="ops", Key="k", Expression="select * from s3object", ExpressionType="SQL",
                                 InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}})
    assert err(e) == ("NotImplemented", 501)
    r = requests.request("PATCH", f"{aloft.url}/ops/key")
    assert r.status_code == 405
    assert b"<Code>MethodNotAllowed</Code>" in r.content


def test_list_buckets_pages(aloft):
    s3 = aloft.client("s3")
    for n in ["pg-a", "pg-b", "pg-c"]:
        s3.create_bucket(Bucket=n)
    first = s3.list_buckets(MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == ["pg-a", "pg-b"]
    rest = s3.list_buckets(MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["pg-c"]
    assert "ContinuationToken" not in rest
    assert [b["Name"] for b in s3.list_buckets(Prefix="pg-b")["Buckets"]] == ["pg-b"]
