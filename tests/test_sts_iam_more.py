"""STS AssumeRoleWithSAML and DecodeAuthorizationMessage; IAM instance profiles (boto3)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/saml-role"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/MyIdP"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def err(exc):
    e = exc.value.response["Error"]
    return e["Code"], e["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def unsigned_sts(aloft):
    return boto3.client("sts", endpoint_url=aloft.url, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def saml_response(roles, session="alice@example.com", expires_in=300, name_id="alice-id",
                  fmt="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"):
    """A minimal, unsigned SAML 2.0 response as an IdP would POST it (base64)."""
    later = iso(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in))
    values = "".join(f"<saml:AttributeValue>{r}</saml:AttributeValue>" for r in roles)
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0">
  <saml:Issuer>https://idp.example.com/saml</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="_a1" Version="2.0">
    <saml:Issuer>https://idp.example.com/saml</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="{fmt}">{name_id}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{later}" Recipient="https://signin.aws.amazon.com/saml"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotOnOrAfter="{later}">
      <saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">{values}</saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>{session}</saml:AttributeValue></saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""
    return base64.b64encode(xml.encode()).decode()


def test_assume_role_with_saml(aloft):
    aloft.client("iam").create_role(RoleName="saml-role", AssumeRolePolicyDocument=TRUST)
    sts = unsigned_sts(aloft)
    out = sts.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=PROVIDER,
                                    SAMLAssertion=saml_response([f"{ROLE},{PROVIDER}"]))
    assert out["Subject"] == "alice-id"
    assert out["SubjectType"] == "persistent"
    assert out["Issuer"] == "https://idp.example.com/saml"
    assert out["Audience"] == "https://signin.aws.amazon.com/saml"
    expected = base64.b64encode(hashlib.sha1(f"https://idp.example.com/saml{ACCOUNT}/MyIdP".encode()).digest()).decode()
    assert out["NameQualifier"] == expected
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/saml-role/alice@example.com"
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    me = boto3.client("sts", endpoint_url=aloft.url, region_name="us-east-1",
                      aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["SessionToken"]).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]

    # Provider-first pairs are accepted too; transient subjects say so.
    out = sts.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=PROVIDER, SAMLAssertion=saml_response(
        [f"{PROVIDER},{ROLE}"], fmt="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"))
    assert out["SubjectType"] == "transient"


def test_saml_rejections(aloft):
    aloft.client("iam").create_role(RoleName="saml-role", AssumeRolePolicyDocument=TRUST)
    sts = unsigned_sts(aloft)
    other = f"arn:aws:iam::{ACCOUNT}:role/other"
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=PROVIDER, SAMLAssertion=saml_response([f"{other},{PROVIDER}"]))
    assert err(e)[0] == "InvalidIdentityToken" and err(e)[2] == 400
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=PROVIDER, SAMLAssertion="bm90IHhtbA==")
    assert err(e)[0] == "InvalidIdentityToken"
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=PROVIDER, SAMLAssertion="%%%%%")
    assert err(e)[0] == "InvalidIdentityToken"
    token = saml_response([f"{ROLE},{PROVIDER}"], expires_in=300)
    aloft.advance(600)
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_saml(RoleArn=ROLE, PrincipalArn=PROVIDER, SAMLAssertion=token)
    assert err(e)[0] == "ExpiredTokenException"


def test_decode_authorization_message(aloft):
    sts = aloft.client("sts")
    doc = {"allowed": False, "explicitDeny": False, "matchedStatements": {"items": []}, "failures": {"items": []},
           "context": {"principal": {"arn": f"arn:aws:iam::{ACCOUNT}:user/u"}, "action": "s3:GetObject",
                       "resource": "arn:aws:s3:::b/k", "conditions": {"items": []}}}
    enc = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    out = sts.decode_authorization_message(EncodedMessage=enc)
    assert json.loads(out["DecodedMessage"]) == doc
    for bad in ["garbage!", base64.urlsafe_b64encode(b"not json").decode(), base64.urlsafe_b64encode(b"{}").decode()]:
        with pytest.raises(ClientError) as e:
            sts.decode_authorization_message(EncodedMessage=bad)
        assert err(e)[0] == "InvalidAuthorizationMessageException" and err(e)[2] == 400


def test_instance_profiles(aloft):
    iam = aloft.client("iam")
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="r2", AssumeRolePolicyDocument=TRUST)
    ip = iam.create_instance_profile(InstanceProfileName="web", Path="/app/", Tags=[{"Key": "env", "Value": "dev"}])["InstanceProfile"]
    assert ip["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/app/web"
    assert ip["InstanceProfileId"].startswith("AIPA") and ip["Roles"] == []
    with pytest.raises(ClientError) as e:
        iam.create_instance_profile(InstanceProfileName="WEB")
    assert err(e)[0] == "EntityAlreadyExists" and err(e)[2] == 409
    with pytest.raises(ClientError) as e:
        iam.get_instance_profile(InstanceProfileName="nope")
    assert err(e) == ("NoSuchEntity", "Instance Profile nope cannot be found.", 404)

    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="r1")
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == ["r1"]
    assert got["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="r2")
    assert err(e)[0] == "LimitExceeded" and err(e)[2] == 409
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="ghost")
    assert err(e)[0] == "NoSuchEntity"
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="r1")["InstanceProfiles"]] == ["web"]
    assert iam.list_instance_profiles_for_role(RoleName="r2")["InstanceProfiles"] == []
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/app/")["InstanceProfiles"]] == ["web"]
    assert iam.list_instance_profiles(PathPrefix="/other/")["InstanceProfiles"] == []

    # A role held by a profile cannot be deleted, nor a profile holding a role.
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="r1")
    assert err(e)[0] == "DeleteConflict" and err(e)[2] == 409
    with pytest.raises(ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName="web")
    assert err(e)[0] == "DeleteConflict"

    iam.tag_instance_profile(InstanceProfileName="web", Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "prod"}])
    tags = iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "prod"), ("team", "a")]
    iam.untag_instance_profile(InstanceProfileName="web", TagKeys=["env"])
    assert iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"] == [{"Key": "team", "Value": "a"}]

    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="r1")
    with pytest.raises(ClientError) as e:
        iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="r1")
    assert err(e)[0] == "NoSuchEntity"
    iam.delete_role(RoleName="r1")
    iam.delete_instance_profile(InstanceProfileName="web")
    with pytest.raises(ClientError) as e:
        iam.delete_instance_profile(InstanceProfileName="web")
    assert err(e)[0] == "NoSuchEntity"
