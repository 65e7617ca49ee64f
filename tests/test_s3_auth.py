"""S3 under opt-in enforcement: presigned URLs (SigV4 and SigV2), aws-chunked chunk signatures and
POST form signatures under --verify-signatures; bucket policies, ACLs, the public access block,
anonymous callers, the website endpoint and other accounts' roots under --enforce-iam; seed 004's
S3 lab under --enforce-iam."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import urllib.parse

import boto3
import botocore
import botocore.config
import pytest
import requests
from botocore.exceptions import ClientError

import test_s3_cli_lab


def client(aloft, key="test", secret="test", **cfg):
    return boto3.client("s3", endpoint_url=aloft.url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}, **cfg))


def anonymous(aloft):
    return client(aloft, signature_version=botocore.UNSIGNED)


def error(exc):
    r = exc.value.response
    return r["Error"]["Code"], r["Error"].get("Message"), r["ResponseMetadata"]["HTTPStatusCode"]


def xml_code(r):
    return r.text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in r.text else None


def make_user(aloft, name, policy=None):
    iam = aloft.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


PUBLIC_READ = lambda b: json.dumps({"Version": "2012-10-17", "Statement": [  # noqa: E731
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": f"arn:aws:s3:::{b}/*"}]})


@pytest.fixture
def verifying(aloft_factory):
    return aloft_factory(args=["--verify-signatures"])


@pytest.fixture
def enforcing(aloft_factory):
    return aloft_factory(args=["--enforce-iam", "--verify-signatures"])


# --- --verify-signatures ---------------------------------------------------------------------

def test_sigv4_presigned_urls_are_verified(verifying):
    s3 = client(verifying)
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="k", Body=b"hello")
    good = s3.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=60)
    assert requests.get(good).content == b"hello"
    bad = client(verifying, secret="wrong").generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": "k"}, ExpiresIn=60)
    r = requests.get(bad)
    assert (r.status_code, xml_code(r)) == (403, "SignatureDoesNotMatch")
    # The signature covers the key: another key with the same signature fails.
    r = requests.get(good.replace("/bkt/k?", "/bkt/other?"))
    assert (r.status_code, xml_code(r)) == (403, "SignatureDoesNotMatch")


def test_sigv2_presigned_urls_are_verified(verifying):
    s3 = client(verifying)
    s3.create_bucket(Bucket="bkt2")
    s3.put_object(Bucket="bkt2", Key="dir/k.txt", Body=b"v2")
    v2 = client(verifying, signature_version="s3")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": "bkt2", "Key": "dir/k.txt"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in url and "X-Amz-" not in url
    assert requests.get(url).content == b"v2"
    # Response overrides are part of SigV2's canonical resource.
    url = v2.generate_presigned_url("get_object", ExpiresIn=60, Params={
        "Bucket": "bkt2", "Key": "dir/k.txt", "ResponseContentType": "text/plain"})
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain"
    bad = client(verifying, secret="nope", signature_version="s3").generate_presigned_url(
        "get_object", Params={"Bucket": "bkt2", "Key": "dir/k.txt"}, ExpiresIn=60)
    r = requests.get(bad)
    assert (r.status_code, xml_code(r)) == (403, "SignatureDoesNotMatch")
    assert "<StringToSign>GET\n\n\n" in r.text
    unknown = client(verifying, key="AKIANOTAKEY000000000", signature_version="s3").generate_presigned_url(
        "get_object", Params={"Bucket": "bkt2", "Key": "dir/k.txt"}, ExpiresIn=60)
    r = requests.get(unknown)
    assert (r.status_code, xml_code(r)) == (403, "InvalidAccessKeyId")


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _signed_chunked_put(aloft, path, chunks, secret="test", tamper=None):
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD framing, signed as the SDKs sign it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = urllib.parse.urlparse(aloft.url).netloc
    scope = f"{day}/us-east-1/s3/aws4_request"
    decoded = sum(len(c) for c in chunks)
    payload_marker = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    headers = {"content-encoding": "aws-chunked", "host": host, "x-amz-content-sha256": payload_marker,
               "x-amz-date": amz_date, "x-amz-decoded-content-length": str(decoded)}
    signed = sorted(headers)
    canonical = "\n".join(["PUT", path, "", *[f"{h}:{headers[h]}" for h in signed], "",
                           ";".join(signed), payload_marker])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _sign(_sign(_sign(_sign(("AWS4" + secret).encode(), day), "us-east-1"), "s3"), "aws4_request")
    seed = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    body, prev = b"", seed
    empty = hashlib.sha256(b"").hexdigest()
    for data in [*chunks, b""]:
        csts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, empty,
                          hashlib.sha256(data).hexdigest()])
        prev = hmac.new(k, csts.encode(), hashlib.sha256).hexdigest()
        sent = tamper(data) if tamper and data else data
        body += f"{len(sent):x};chunk-signature={prev}\r\n".encode() + sent + b"\r\n"
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential=test/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={seed}")
    headers["content-length"] = str(len(body))
    return requests.put(aloft.url + path, data=body, headers=headers)


def test_aws_chunked_chunk_signatures_are_verified(verifying):
    s3 = client(verifying)
    s3.create_bucket(Bucket="chunky")
    chunks = [b"a" * 65536, b"b" * 100]
    r = _signed_chunked_put(verifying, "/chunky/ok", chunks)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket="chunky", Key="ok")["Body"].read() == b"".join(chunks)
    # One flipped byte in a chunk: its signature no longer matches.
    r = _signed_chunked_put(verifying, "/chunky/bad", chunks, tamper=lambda d: b"X" + d[1:])
    assert (r.status_code, xml_code(r)) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="chunky", Key="bad")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_post_form_signatures_are_verified(verifying):
    s3 = client(verifying)
    s3.create_bucket(Bucket="posts")
    post = s3.generate_presigned_post("posts", "up/${filename}", ExpiresIn=60)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a.txt", b"form body")})
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket="posts", Key="up/a.txt")["Body"].read() == b"form body"
    forged = client(verifying, secret="wrong").generate_presigned_post("posts", "x", ExpiresIn=60)
    r = requests.post(forged["url"], data=forged["fields"], files={"file": ("x", b"no")})
    assert (r.status_code, xml_code(r)) == (403, "SignatureDoesNotMatch")


def test_without_flags_bad_signatures_pass(aloft):
    s3 = client(aloft)
    s3.create_bucket(Bucket="lax")
    s3.put_object(Bucket="lax", Key="k", Body=b"x")
    url = client(aloft, secret="wrong", signature_version="s3").generate_presigned_url(
        "get_object", Params={"Bucket": "lax", "Key": "k"}, ExpiresIn=60)
    assert requests.get(url).content == b"x"
    assert anonymous(aloft).get_object(Bucket="lax", Key="k")["Body"].read() == b"x"


# --- --enforce-iam ---------------------------------------------------------------------------

def test_anonymous_access_needs_a_public_policy_or_acl(enforcing):
    s3 = client(enforcing)
    anon = anonymous(enforcing)
    s3.create_bucket(Bucket="pub")
    s3.put_object(Bucket="pub", Key="k", Body=b"data")
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket="pub", Key="k")
    assert error(e) == ("AccessDenied", "Access Denied", 403)
    with pytest.raises(ClientError) as e:
        anon.list_buckets()
    assert error(e)[0] == "AccessDenied"
    # A public-read policy opens reads, not writes or listing.
    s3.put_bucket_policy(Bucket="pub", Policy=PUBLIC_READ("pub"))
    assert anon.get_object(Bucket="pub", Key="k")["Body"].read() == b"data"
    with pytest.raises(ClientError) as e:
        anon.put_object(Bucket="pub", Key="k2", Body=b"no")
    assert error(e)[0] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        anon.list_objects_v2(Bucket="pub")
    assert error(e)[0] == "AccessDenied"
    # RestrictPublicBuckets: the public policy no longer lets anyone outside the account in.
    s3.put_public_access_block(Bucket="pub", PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    with pytest.raises(ClientError) as e:
        anon.get_object(Bucket="pub", Key="k")
    assert error(e)[0] == "AccessDenied"


def test_canned_acls_and_ignore_public_acls(enforcing):
    s3 = client(enforcing)
    anon = anonymous(enforcing)
    # ACLs are off by default (BucketOwnerEnforced); this bucket turns them on.
    s3.create_bucket(Bucket="acls", ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket="acls", Key="open", Body=b"o", ACL="public-read")
    s3.put_object(Bucket="acls", Key="closed", Body=b"c")
    assert anon.get_object(Bucket="acls", Key="open")["Body"].read() == b"o"
    with pytest.raises(ClientError):
        anon.get_object(Bucket="acls", Key="closed")
    s3.put_object_acl(Bucket="acls", Key="closed", ACL="public-read")
    assert anon.get_object(Bucket="acls", Key="closed")["Body"].read() == b"c"
    # A public-read-write bucket ACL lets anyone list and write.
    s3.put_bucket_acl(Bucket="acls", ACL="public-read-write")
    anon.put_object(Bucket="acls", Key="by-anyone", Body=b"w")
    assert "by-anyone" in [o["Key"] for o in anon.list_objects_v2(Bucket="acls")["Contents"]]
    s3.put_public_access_block(Bucket="acls", PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    with pytest.raises(ClientError):
        anon.get_object(Bucket="acls", Key="open")
    with pytest.raises(ClientError):
        anon.list_objects_v2(Bucket="acls")


def test_public_access_block_refuses_public_policies_and_acls(enforcing):
    s3 = client(enforcing)
    s3.create_bucket(Bucket="blocked")
    s3.put_public_access_block(Bucket="blocked", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket="blocked", Policy=PUBLIC_READ("blocked"))
    code, msg, status = error(e)
    assert (code, status) == ("AccessDenied", 403)
    assert msg == ('User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutBucketPolicy '
                   'on resource: "arn:aws:s3:::blocked" because public policies are blocked by the '
                   'BlockPublicPolicy block public access setting.')
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="blocked", Key="k", Body=b"x", ACL="public-read")
    assert error(e)[0] == "AccessDenied"
    # A non-public policy is fine.
    s3.put_bucket_policy(Bucket="blocked", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::blocked/*"}]}))


def test_bucket_policies_are_resource_policies_for_iam_users(enforcing):
    s3 = client(enforcing)
    s3.create_bucket(Bucket="team")
    s3.put_object(Bucket="team", Key="doc", Body=b"d")
    key, secret = make_user(enforcing, "alice")
    alice = client(enforcing, key, secret)
    with pytest.raises(ClientError) as e:
        alice.get_object(Bucket="team", Key="doc")
    code, msg, status = error(e)
    assert (code, status) == ("AccessDenied", 403)
    assert msg == ('User: arn:aws:iam::000000000000:user/alice is not authorized to perform: s3:GetObject on '
                   'resource: "arn:aws:s3:::team/doc" because no identity-based policy allows the s3:GetObject action')
    s3.put_bucket_policy(Bucket="team", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"},
         "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::team", "arn:aws:s3:::team/*"]},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::team/secret*"}]}))
    assert alice.get_object(Bucket="team", Key="doc")["Body"].read() == b"d"
    assert [o["Key"] for o in alice.list_objects_v2(Bucket="team")["Contents"]] == ["doc"]
    s3.put_object(Bucket="team", Key="secret.txt", Body=b"s")
    with pytest.raises(ClientError) as e:
        alice.get_object(Bucket="team", Key="secret.txt")
    assert error(e)[1].endswith("with an explicit deny in a resource-based policy")
    with pytest.raises(ClientError) as e:
        alice.put_object(Bucket="team", Key="new", Body=b"n")
    assert "s3:PutObject" in error(e)[1]


def test_website_serves_only_public_objects(enforcing):
    s3 = client(enforcing)
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="index.html", Body=b"<p>home</p>", ContentType="text/html")
    s3.put_bucket_website(Bucket="site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    host = {"Host": f"site.s3-website.localhost:{enforcing.port}"}
    r = requests.get(f"{enforcing.url}/", headers=host)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "<li>Code: AccessDenied</li>" in r.text and "<li>Message: Access Denied</li>" in r.text
    s3.put_bucket_policy(Bucket="site", Policy=PUBLIC_READ("site"))
    r = requests.get(f"{enforcing.url}/", headers=host)
    assert (r.status_code, r.text) == (200, "<p>home</p>")


def test_another_accounts_root_needs_the_bucket_policy(enforcing):
    s3 = client(enforcing)
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="k", Body=b"x")
    other = client(enforcing, "111122223333", "test")
    with pytest.raises(ClientError) as e:
        other.get_object(Bucket="shared", Key="k")
    code, msg, _ = error(e)
    assert code == "AccessDenied"
    assert msg.startswith("User: arn:aws:iam::111122223333:root is not authorized to perform: s3:GetObject")
    s3.put_bucket_policy(Bucket="shared", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::shared/*"}]}))
    assert other.get_object(Bucket="shared", Key="k")["Body"].read() == b"x"
    with pytest.raises(ClientError):
        other.put_object(Bucket="shared", Key="k", Body=b"overwrite")
    # The owner's root is never held back by its own bucket's missing grants.
    assert s3.get_object(Bucket="shared", Key="k")["Body"].read() == b"x"


def test_sigv2_urls_are_judged_like_their_signer(enforcing):
    s3 = client(enforcing)
    s3.create_bucket(Bucket="v2auth")
    s3.put_object(Bucket="v2auth", Key="k", Body=b"x")
    key, secret = make_user(enforcing, "bob")
    url = client(enforcing, key, secret, signature_version="s3").generate_presigned_url(
        "get_object", Params={"Bucket": "v2auth", "Key": "k"}, ExpiresIn=60)
    r = requests.get(url)
    assert (r.status_code, xml_code(r)) == (403, "AccessDenied")
    assert "user/bob" in r.text
    enforcing.client("iam").put_user_policy(UserName="bob", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert requests.get(url).content == b"x"


def test_anonymous_post_uploads_need_a_public_write_grant(enforcing):
    s3 = client(enforcing)
    s3.create_bucket(Bucket="drop", ObjectOwnership="ObjectWriter")
    form = {"key": "anon.txt"}
    r = requests.post(f"{enforcing.url}/drop", data=form, files={"file": ("f", b"x")})
    assert (r.status_code, xml_code(r)) == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket="drop", ACL="public-read-write")
    r = requests.post(f"{enforcing.url}/drop", data=form, files={"file": ("f", b"x")})
    assert r.status_code == 204, r.text


def test_seed_004_s3_lab_under_enforcement(aloft_factory, tmp_path):
    test_s3_cli_lab.test_seed_004_s3_lab(aloft_factory(args=["--enforce-iam", "--verify-signatures"]), tmp_path)


def test_copies_need_read_access_to_their_source(enforcing):
    s3 = client(enforcing)
    anon = anonymous(enforcing)
    s3.create_bucket(Bucket="src-private", ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket="src-private", Key="k", Body=b"private")
    s3.create_bucket(Bucket="dst-open", ObjectOwnership="ObjectWriter")
    s3.put_bucket_acl(Bucket="dst-open", ACL="public-read-write")
    with pytest.raises(ClientError) as e:
        anon.copy_object(Bucket="dst-open", Key="stolen", CopySource={"Bucket": "src-private", "Key": "k"})
    assert error(e)[0] == "AccessDenied"
    key, secret = make_user(enforcing, "copier", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]})
    copier = client(enforcing, key, secret)
    with pytest.raises(ClientError) as e:
        copier.copy_object(Bucket="dst-open", Key="stolen", CopySource={"Bucket": "src-private", "Key": "k"})
    assert 's3:GetObject on resource: "arn:aws:s3:::src-private/k"' in error(e)[1]
    s3.put_object_acl(Bucket="src-private", Key="k", ACL="public-read")
    anon.copy_object(Bucket="dst-open", Key="copied", CopySource={"Bucket": "src-private", "Key": "k"})
    assert s3.get_object(Bucket="dst-open", Key="copied")["Body"].read() == b"private"


def test_another_accounts_users_need_both_their_policy_and_the_bucket_policy(enforcing):
    s3 = client(enforcing)
    s3.create_bucket(Bucket="partner")
    s3.put_object(Bucket="partner", Key="k", Body=b"p")
    other_iam = boto3.client("iam", endpoint_url=enforcing.url, region_name="us-east-1",
                             aws_access_key_id="111122223333", aws_secret_access_key="test")
    other_iam.create_user(UserName="eve")
    k = other_iam.create_access_key(UserName="eve")["AccessKey"]
    eve = client(enforcing, k["AccessKeyId"], k["SecretAccessKey"])
    s3.put_bucket_policy(Bucket="partner", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/eve"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::partner/*"}]}))
    # The bucket policy names eve, but her own account has not allowed her.
    with pytest.raises(ClientError) as e:
        eve.get_object(Bucket="partner", Key="k")
    assert "because no identity-based policy allows the s3:GetObject action" in error(e)[1]
    other_iam.put_user_policy(UserName="eve", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    assert eve.get_object(Bucket="partner", Key="k")["Body"].read() == b"p"
    # Her identity policy alone does not open buckets whose policy does not name her.
    s3.create_bucket(Bucket="closed-to-eve")
    s3.put_object(Bucket="closed-to-eve", Key="k", Body=b"c")
    with pytest.raises(ClientError) as e:
        eve.get_object(Bucket="closed-to-eve", Key="k")
    assert "because no resource-based policy allows the s3:GetObject action" in error(e)[1]
