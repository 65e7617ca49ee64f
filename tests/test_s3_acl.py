"""S3 ACLs as grants: canned ACLs expanded to AWS's grant lists, x-amz-grant-* headers on every
write, AccessControlPolicy documents (owner, grantee types, e-mail grantees), S3's errors for bad
grants, ACLs disabled under BucketOwnerEnforced, and grants judged under --enforce-iam."""

import boto3
import botocore
import botocore.config
import pytest
from botocore.exceptions import ClientError

ALL = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG = "http://acs.amazonaws.com/groups/s3/LogDelivery"
OTHER_ID = "a" * 64


def err(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def grants(acl):
    out = []
    for g in acl["Grants"]:
        ge = g["Grantee"]
        out.append((ge["Type"], ge.get("URI") or ge.get("ID"), g["Permission"]))
    return sorted(out)


@pytest.fixture
def s3(aloft):
    c = aloft.client("s3")
    c.create_bucket(Bucket="acl", ObjectOwnership="ObjectWriter")
    return c


def owner(s3):
    return s3.get_bucket_acl(Bucket="acl")["Owner"]["ID"]


def test_canned_acls_expand_to_aws_grants(s3):
    me = owner(s3)
    assert grants(s3.get_bucket_acl(Bucket="acl")) == [("CanonicalUser", me, "FULL_CONTROL")]
    s3.put_object(Bucket="acl", Key="pr", Body=b"x", ACL="public-read")
    assert grants(s3.get_object_acl(Bucket="acl", Key="pr")) == sorted([
        ("CanonicalUser", me, "FULL_CONTROL"), ("Group", ALL, "READ")])
    s3.put_object(Bucket="acl", Key="ar", Body=b"x", ACL="authenticated-read")
    assert grants(s3.get_object_acl(Bucket="acl", Key="ar")) == sorted([
        ("CanonicalUser", me, "FULL_CONTROL"), ("Group", AUTH, "READ")])
    s3.put_bucket_acl(Bucket="acl", ACL="log-delivery-write")
    assert grants(s3.get_bucket_acl(Bucket="acl")) == sorted([
        ("CanonicalUser", me, "FULL_CONTROL"), ("Group", LOG, "WRITE"), ("Group", LOG, "READ_ACP")])
    s3.put_bucket_acl(Bucket="acl", ACL="public-read-write")
    assert grants(s3.get_bucket_acl(Bucket="acl")) == sorted([
        ("CanonicalUser", me, "FULL_CONTROL"), ("Group", ALL, "READ"), ("Group", ALL, "WRITE")])


def test_grant_headers_on_every_write(s3):
    me = owner(s3)
    s3.put_object(Bucket="acl", Key="put", Body=b"x", GrantRead=f'uri="{ALL}"',
                  GrantFullControl=f'id="{me}"', GrantWriteACP=f'id="{OTHER_ID}"')
    expected = sorted([("Group", ALL, "READ"), ("CanonicalUser", me, "FULL_CONTROL"),
                       ("CanonicalUser", OTHER_ID, "WRITE_ACP")])
    acl = s3.get_object_acl(Bucket="acl", Key="put")
    assert grants(acl) == expected and acl["Owner"]["ID"] == me
    s3.copy_object(Bucket="acl", Key="copied", CopySource={"Bucket": "acl", "Key": "put"},
                   GrantReadACP=f'uri="{AUTH}", id="{OTHER_ID}"')
    assert grants(s3.get_object_acl(Bucket="acl", Key="copied")) == sorted([
        ("Group", AUTH, "READ_ACP"), ("CanonicalUser", OTHER_ID, "READ_ACP")])
    up = s3.create_multipart_upload(Bucket="acl", Key="mpu", GrantRead=f'uri="{ALL}"')["UploadId"]
    etag = s3.upload_part(Bucket="acl", Key="mpu", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
    s3.complete_multipart_upload(Bucket="acl", Key="mpu", UploadId=up,
                                 MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})
    assert grants(s3.get_object_acl(Bucket="acl", Key="mpu")) == [("Group", ALL, "READ")]
    s3.put_bucket_acl(Bucket="acl", GrantRead=f'uri="{ALL}"', GrantWrite=f'uri="{LOG}"')
    assert grants(s3.get_bucket_acl(Bucket="acl")) == sorted([("Group", ALL, "READ"), ("Group", LOG, "WRITE")])
    s3.create_bucket(Bucket="acl2", ObjectOwnership="BucketOwnerPreferred", GrantRead=f'uri="{AUTH}"')
    assert grants(s3.get_bucket_acl(Bucket="acl2")) == [("Group", AUTH, "READ")]


def test_access_control_policy_documents(s3):
    me = owner(s3)
    s3.put_object(Bucket="acl", Key="doc", Body=b"x")
    s3.put_object_acl(Bucket="acl", Key="doc", AccessControlPolicy={
        "Owner": {"ID": me},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": me}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": OTHER_ID}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": ALL}, "Permission": "READ_ACP"},
            {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "Ops@Example.com"}, "Permission": "WRITE_ACP"},
        ]})
    acl = s3.get_object_acl(Bucket="acl", Key="doc")
    got = grants(acl)
    assert ("CanonicalUser", OTHER_ID, "READ") in got and ("Group", ALL, "READ_ACP") in got
    # E-mail grantees come back as the canonical user they resolve to.
    by_email = [g for g in acl["Grants"] if g["Permission"] == "WRITE_ACP"][0]["Grantee"]
    assert by_email["Type"] == "CanonicalUser" and len(by_email["ID"]) == 64 and "EmailAddress" not in by_email
    # Put back exactly what was read: S3 round-trips its own documents.
    s3.put_bucket_acl(Bucket="acl", AccessControlPolicy={"Owner": acl["Owner"], "Grants": acl["Grants"]})
    assert grants(s3.get_bucket_acl(Bucket="acl")) == got


@pytest.mark.parametrize("policy, code", [
    ({"Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "READ"}]}, ("InvalidArgument", 400)),
    ({"Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/Nobody"},
                  "Permission": "READ"}]}, ("InvalidArgument", 400)),
    ({"Grants": [{"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "not-an-address"},
                  "Permission": "READ"}]}, ("UnresolvableGrantByEmailAddress", 400)),
    ({"Grants": [{"Grantee": {"Type": "Robot", "ID": OTHER_ID}, "Permission": "READ"}]}, ("MalformedACLError", 400)),
    ({"Grants": [{"Grantee": {"Type": "Group", "URI": ALL}, "Permission": "EVERYTHING"}]}, ("MalformedACLError", 400)),
])
def test_bad_grants_get_s3s_errors(s3, policy, code):
    s3.put_object(Bucket="acl", Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket="acl", Key="k", AccessControlPolicy={"Owner": {"ID": owner(s3)}, **policy})
    assert err(e) == code


def test_bad_owners_and_headers(s3):
    s3.put_object(Bucket="acl", Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket="acl", Key="k", AccessControlPolicy={"Grants": []})
    assert err(e) == ("MalformedACLError", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket="acl", Key="k", AccessControlPolicy={"Owner": {"ID": OTHER_ID}, "Grants": []})
    assert err(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="acl", Key="k2", Body=b"x", ACL="public-read", GrantRead=f'uri="{ALL}"')
    assert err(e) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="acl", Key="k2", Body=b"x", GrantRead='id="short"')
    assert err(e) == ("InvalidArgument", 400)
    assert e.value.response["Error"]["ArgumentName"] == "CanonicalUser/ID"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="acl", Key="k2", Body=b"x", GrantRead='emailAddress="nobody"')
    assert err(e) == ("UnresolvableGrantByEmailAddress", 400)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket="acl", GrantRead='name="x"')
    assert err(e) == ("InvalidArgument", 400)


def test_acls_are_disabled_under_bucket_owner_enforced(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="enforced")
    assert s3.get_bucket_ownership_controls(Bucket="enforced")["OwnershipControls"]["Rules"][0][
        "ObjectOwnership"] == "BucketOwnerEnforced"
    for call in [
        lambda: s3.put_object(Bucket="enforced", Key="k", Body=b"x", ACL="public-read"),
        lambda: s3.put_object(Bucket="enforced", Key="k", Body=b"x", GrantRead=f'uri="{ALL}"'),
        lambda: s3.put_bucket_acl(Bucket="enforced", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket="enforced", ACL="private"),
        lambda: s3.create_multipart_upload(Bucket="enforced", Key="m", ACL="public-read"),
    ]:
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("AccessControlListNotSupported", 400)
        assert e.value.response["Error"]["Message"] == "The bucket does not allow ACLs"
    # Bucket-owner-full-control (canned or as a document) is still accepted; reads still work.
    s3.put_object(Bucket="enforced", Key="k", Body=b"x", ACL="bucket-owner-full-control")
    me = s3.get_bucket_acl(Bucket="enforced")["Owner"]["ID"]
    s3.put_object_acl(Bucket="enforced", Key="k", AccessControlPolicy={
        "Owner": {"ID": me}, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": me}, "Permission": "FULL_CONTROL"}]})
    assert grants(s3.get_object_acl(Bucket="enforced", Key="k")) == [("CanonicalUser", me, "FULL_CONTROL")]
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="public-enforced", ACL="public-read")
    assert err(e) == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.create_bucket(Bucket="private-enforced", ACL="private")
    # Switching to ObjectWriter turns ACLs back on.
    s3.put_bucket_ownership_controls(Bucket="enforced", OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object_acl(Bucket="enforced", Key="k", ACL="public-read")


def test_cli_grants(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="cli-acl", ObjectOwnership="BucketOwnerPreferred")
    s3.put_object(Bucket="cli-acl", Key="k", Body=b"x")
    aloft.cli("s3api", "put-object-acl", "--bucket", "cli-acl", "--key", "k", "--grant-read", f"uri={ALL}",
              "--grant-full-control", f"id={OTHER_ID}")
    acl = aloft.cli_json("s3api", "get-object-acl", "--bucket", "cli-acl", "--key", "k")
    assert grants(acl) == sorted([("Group", ALL, "READ"), ("CanonicalUser", OTHER_ID, "FULL_CONTROL")])


def client(aloft, key="test", **cfg):
    return boto3.client("s3", endpoint_url=aloft.url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key="test", config=botocore.config.Config(retries={"max_attempts": 1}, **cfg))


def test_grants_are_judged_under_enforce_iam(aloft_factory):
    a = aloft_factory(args=["--enforce-iam"])
    s3 = client(a)
    other = client(a, "111122223333")
    anon = client(a, signature_version=botocore.UNSIGNED)
    other_id = other.list_buckets()["Owner"]["ID"]
    s3.create_bucket(Bucket="granted", ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket="granted", Key="k", Body=b"secret")
    with pytest.raises(ClientError):
        other.get_object(Bucket="granted", Key="k")
    # A grant to the other account's canonical user lets that account read, and only read.
    s3.put_object_acl(Bucket="granted", Key="k", GrantRead=f'id="{other_id}"')
    assert other.get_object(Bucket="granted", Key="k")["Body"].read() == b"secret"
    with pytest.raises(ClientError):
        other.get_object_acl(Bucket="granted", Key="k")
    with pytest.raises(ClientError):
        anon.get_object(Bucket="granted", Key="k")
    s3.put_object_acl(Bucket="granted", Key="k", GrantReadACP=f'id="{other_id}"')
    assert grants(other.get_object_acl(Bucket="granted", Key="k")) == [("CanonicalUser", other_id, "READ_ACP")]
    with pytest.raises(ClientError):
        other.get_object(Bucket="granted", Key="k")
    # AuthenticatedUsers grants reach signed callers, never anonymous ones.
    s3.put_object(Bucket="granted", Key="auth", Body=b"a", GrantRead=f'uri="{AUTH}"')
    assert other.get_object(Bucket="granted", Key="auth")["Body"].read() == b"a"
    with pytest.raises(ClientError):
        anon.get_object(Bucket="granted", Key="auth")
    # A bucket WRITE grant to the other account lets it write objects.
    s3.put_bucket_acl(Bucket="granted", GrantWrite=f'id="{other_id}"', GrantFullControl=f'id="{owner_id(s3)}"')
    other.put_object(Bucket="granted", Key="from-other", Body=b"o")
    # Under ObjectWriter the writing account owns what it writes; bucket-owner-full-control also
    # grants the bucket owner.
    theirs = other.get_object_acl(Bucket="granted", Key="from-other")
    assert theirs["Owner"]["ID"] == other_id
    assert grants(theirs) == [("CanonicalUser", other_id, "FULL_CONTROL")]
    other.put_object(Bucket="granted", Key="shared", Body=b"s", ACL="bucket-owner-full-control")
    assert grants(other.get_object_acl(Bucket="granted", Key="shared")) == sorted([
        ("CanonicalUser", other_id, "FULL_CONTROL"), ("CanonicalUser", owner_id(s3), "FULL_CONTROL")])
    # BlockPublicAcls refuses public grants, in headers and in documents.
    s3.put_public_access_block(Bucket="granted", PublicAccessBlockConfiguration={"BlockPublicAcls": True})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="granted", Key="p", Body=b"p", GrantRead=f'uri="{ALL}"')
    assert err(e) == ("AccessDenied", 403)
    me = owner_id(s3)
    with pytest.raises(ClientError) as e:
        s3.put_object_acl(Bucket="granted", Key="k", AccessControlPolicy={
            "Owner": {"ID": me}, "Grants": [{"Grantee": {"Type": "Group", "URI": ALL}, "Permission": "READ"}]})
    assert err(e) == ("AccessDenied", 403)


def owner_id(s3):
    return s3.list_buckets()["Owner"]["ID"]


def test_bucket_owner_enforced_disables_existing_grants(aloft_factory):
    a = aloft_factory(args=["--enforce-iam"])
    s3 = client(a)
    anon = client(a, signature_version=botocore.UNSIGNED)
    s3.create_bucket(Bucket="was-open", ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket="was-open", Key="k", Body=b"pub", ACL="public-read")
    s3.put_bucket_acl(Bucket="was-open", ACL="public-read")
    assert anon.get_object(Bucket="was-open", Key="k")["Body"].read() == b"pub"
    # The bucket ACL must grant nothing beyond the owner before ACLs can be disabled.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_ownership_controls(Bucket="was-open", OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert err(e) == ("InvalidBucketAclWithObjectOwnership", 400)
    s3.put_bucket_acl(Bucket="was-open", ACL="private")
    s3.put_bucket_ownership_controls(Bucket="was-open", OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    # The object's public-read grant is still stored and readable, but no longer grants anything.
    assert ("Group", ALL, "READ") in grants(s3.get_object_acl(Bucket="was-open", Key="k"))
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket="was-open", Key="k")
    assert err(e) == ("AccessDenied", 403)
