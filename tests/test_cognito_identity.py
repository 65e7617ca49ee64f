"""Cognito identity pools against the real binary: pools, roles and role mappings, identities,
and the seed-003 flow (sign in to a user pool → exchange the ID token → temporary credentials →
calls accepted; with --enforce-iam a call outside the role is denied)."""

from __future__ import annotations

import base64
import json
import urllib.request

import boto3
import botocore.config
import jwt
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

PASSWORD = "Corr3ct-Horse!"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]})
TABLE = {"AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}


def err(exc):
    e = exc.value.response["Error"]
    return e["Code"], e["Message"]


def unsigned(aloft, service):
    return boto3.client(service, endpoint_url=aloft.url, region_name="us-east-1",
                        config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def with_creds(aloft, service, c):
    return boto3.client(service, endpoint_url=aloft.url, region_name="us-east-1",
                        aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretKey"],
                        aws_session_token=c["SessionToken"], config=botocore.config.Config(retries={"max_attempts": 1}))


def user_pool_login(aloft, username="alice", groups=()):
    """A user pool with a client and a confirmed user; returns (pool id, client id, id token)."""
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="app")["UserPool"]["Id"]
    cid = idp.create_user_pool_client(UserPoolId=pool, ClientName="web",
                                      ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD, Permanent=True)
    for g, role in groups:
        idp.create_group(UserPoolId=pool, GroupName=g, RoleArn=role, Precedence=1)
        idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=g)
    auth = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD})["AuthenticationResult"]
    return pool, cid, auth["IdToken"]


def provider(pool):
    return f"cognito-idp.us-east-1.amazonaws.com/{pool}"


def make_identity_pool(aloft, pool, cid, unauth=False, **kw):
    ci = aloft.client("cognito-identity")
    return ci.create_identity_pool(
        IdentityPoolName="app_identities", AllowUnauthenticatedIdentities=unauth,
        CognitoIdentityProviders=[{"ProviderName": provider(pool), "ClientId": cid}], **kw)


def roles(aloft):
    iam = aloft.client("iam")
    auth = iam.create_role(RoleName="authed", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    unauth = iam.create_role(RoleName="guest", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    return auth, unauth


def test_identity_pool_lifecycle(aloft):
    ci = aloft.client("cognito-identity")
    created = ci.create_identity_pool(IdentityPoolName="p1", AllowUnauthenticatedIdentities=True,
                                      SupportedLoginProviders={"accounts.google.com": "client.apps"},
                                      DeveloperProviderName="login.example")
    pid = created["IdentityPoolId"]
    assert pid.startswith("us-east-1:")
    d = ci.describe_identity_pool(IdentityPoolId=pid)
    assert d["IdentityPoolName"] == "p1" and d["AllowUnauthenticatedIdentities"] is True
    assert d["SupportedLoginProviders"] == {"accounts.google.com": "client.apps"}
    ci.update_identity_pool(IdentityPoolId=pid, IdentityPoolName="p2", AllowUnauthenticatedIdentities=False)
    assert ci.describe_identity_pool(IdentityPoolId=pid)["IdentityPoolName"] == "p2"
    second = ci.create_identity_pool(IdentityPoolName="p3", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
    page = ci.list_identity_pools(MaxResults=1)
    assert len(page["IdentityPools"]) == 1 and "NextToken" in page
    rest = ci.list_identity_pools(MaxResults=10, NextToken=page["NextToken"])["IdentityPools"]
    assert {p["IdentityPoolId"] for p in page["IdentityPools"] + rest} == {pid, second}
    ci.delete_identity_pool(IdentityPoolId=pid)
    with pytest.raises(ClientError) as e:
        ci.describe_identity_pool(IdentityPoolId=pid)
    assert err(e) == ("ResourceNotFoundException", f"IdentityPool '{pid}' not found.")
    # The CLI speaks the same API.
    out = aloft.cli_json("cognito-identity", "list-identity-pools", "--max-results", "5")
    assert [p["IdentityPoolId"] for p in out["IdentityPools"]] == [second]


def test_roles_and_mappings_round_trip(aloft):
    ci = aloft.client("cognito-identity")
    pid = ci.create_identity_pool(IdentityPoolName="p", AllowUnauthenticatedIdentities=True)["IdentityPoolId"]
    mappings = {"cognito-idp.us-east-1.amazonaws.com/us-east-1_x:client": {
        "Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole",
        "RulesConfiguration": {"Rules": [{"Claim": "custom:tier", "MatchType": "Equals", "Value": "gold",
                                          "RoleARN": "arn:aws:iam::000000000000:role/gold"}]}}}
    ci.set_identity_pool_roles(IdentityPoolId=pid, Roles={"authenticated": "arn:aws:iam::000000000000:role/a"},
                               RoleMappings=mappings)
    got = ci.get_identity_pool_roles(IdentityPoolId=pid)
    assert got["Roles"] == {"authenticated": "arn:aws:iam::000000000000:role/a"}
    assert got["RoleMappings"] == mappings
    with pytest.raises(ClientError) as e:
        ci.set_identity_pool_roles(IdentityPoolId=pid, Roles={"admins": "arn:aws:iam::000000000000:role/a"})
    assert err(e)[0] == "InvalidParameterException"


def test_unauthenticated_identities(aloft):
    auth, guest = roles(aloft)
    ci = aloft.client("cognito-identity")
    closed = ci.create_identity_pool(IdentityPoolName="closed", AllowUnauthenticatedIdentities=False)["IdentityPoolId"]
    anon = unsigned(aloft, "cognito-identity")
    with pytest.raises(ClientError) as e:
        anon.get_id(IdentityPoolId=closed)
    assert err(e) == ("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")

    pid = ci.create_identity_pool(IdentityPoolName="open", AllowUnauthenticatedIdentities=True)["IdentityPoolId"]
    iid = anon.get_id(IdentityPoolId=pid)["IdentityId"]
    with pytest.raises(ClientError) as e:
        anon.get_credentials_for_identity(IdentityId=iid)
    assert err(e)[0] == "InvalidIdentityPoolConfigurationException"
    ci.set_identity_pool_roles(IdentityPoolId=pid, Roles={"unauthenticated": guest, "authenticated": auth})
    creds = anon.get_credentials_for_identity(IdentityId=iid)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    who = with_creds(aloft, "sts", creds).get_caller_identity()
    assert who["Arn"] == "arn:aws:sts::000000000000:assumed-role/guest/CognitoIdentityCredentials"
    with pytest.raises(ClientError) as e:
        anon.get_credentials_for_identity(IdentityId="us-east-1:00000000-0000-0000-0000-000000000000")
    assert err(e)[0] == "ResourceNotFoundException"


def test_user_pool_login_gives_authenticated_credentials(aloft):
    auth, guest = roles(aloft)
    pool, cid, id_token = user_pool_login(aloft)
    pid = make_identity_pool(aloft, pool, cid)["IdentityPoolId"]
    aloft.client("cognito-identity").set_identity_pool_roles(IdentityPoolId=pid, Roles={"authenticated": auth})
    anon = unsigned(aloft, "cognito-identity")
    logins = {provider(pool): id_token}
    iid = anon.get_id(IdentityPoolId=pid, Logins=logins)["IdentityId"]
    # The same subject always gets the same identity.
    assert anon.get_id(IdentityPoolId=pid, Logins=logins)["IdentityId"] == iid
    creds = anon.get_credentials_for_identity(IdentityId=iid, Logins=logins)["Credentials"]
    assert with_creds(aloft, "sts", creds).get_caller_identity()["Arn"].endswith(":assumed-role/authed/CognitoIdentityCredentials")
    # An authenticated identity needs its login.
    with pytest.raises(ClientError) as e:
        anon.get_credentials_for_identity(IdentityId=iid)
    assert err(e)[0] == "NotAuthorizedException"
    desc = aloft.client("cognito-identity").describe_identity(IdentityId=iid)
    assert desc["Logins"] == [provider(pool)]

    # OpenID tokens for the identity verify against the published keys.
    token = anon.get_open_id_token(IdentityId=iid, Logins=logins)["Token"]
    with urllib.request.urlopen(f"{aloft.url}/_aloft/cognito-identity/jwks.json") as r:
        key = json.load(r)["keys"][0]
    claims = jwt.decode(token, jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key)), algorithms=["RS256"], audience=pid)
    assert claims["sub"] == iid and "authenticated" in claims["amr"]


def test_bad_tokens_are_refused(aloft):
    auth, _ = roles(aloft)
    pool, cid, id_token = user_pool_login(aloft)
    pid = make_identity_pool(aloft, pool, cid)["IdentityPoolId"]
    anon = unsigned(aloft, "cognito-identity")
    head, body, sig = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(ClientError) as e:
        anon.get_id(IdentityPoolId=pid, Logins={provider(pool): f"{head}.{forged}.{sig}"})
    assert err(e)[0] == "NotAuthorizedException"
    # A token of a client the identity pool does not list.
    other_cid = aloft.client("cognito-idp").create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    other = aloft.client("cognito-idp").initiate_auth(
        ClientId=other_cid, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})["AuthenticationResult"]["IdToken"]
    with pytest.raises(ClientError) as e:
        anon.get_id(IdentityPoolId=pid, Logins={provider(pool): other})
    assert err(e)[0] == "NotAuthorizedException"
    # Expired: ID tokens live an hour.
    aloft.advance(3601)
    with pytest.raises(ClientError) as e:
        anon.get_id(IdentityPoolId=pid, Logins={provider(pool): id_token})
    assert err(e)[0] == "NotAuthorizedException"


def test_token_role_mapping_uses_the_groups_role(aloft):
    auth, _ = roles(aloft)
    admin = aloft.client("iam").create_role(RoleName="admins", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    pool, cid, id_token = user_pool_login(aloft, groups=[("admins", admin)])
    pid = make_identity_pool(aloft, pool, cid)["IdentityPoolId"]
    aloft.client("cognito-identity").set_identity_pool_roles(
        IdentityPoolId=pid, Roles={"authenticated": auth},
        RoleMappings={f"{provider(pool)}:{cid}": {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}})
    anon = unsigned(aloft, "cognito-identity")
    logins = {provider(pool): id_token}
    iid = anon.get_id(IdentityPoolId=pid, Logins=logins)["IdentityId"]
    creds = anon.get_credentials_for_identity(IdentityId=iid, Logins=logins)["Credentials"]
    assert with_creds(aloft, "sts", creds).get_caller_identity()["Arn"].endswith(":assumed-role/admins/CognitoIdentityCredentials")


def test_developer_authenticated_identities(aloft):
    auth, _ = roles(aloft)
    ci = aloft.client("cognito-identity")
    pid = ci.create_identity_pool(IdentityPoolName="dev", AllowUnauthenticatedIdentities=False,
                                  DeveloperProviderName="login.example")["IdentityPoolId"]
    ci.set_identity_pool_roles(IdentityPoolId=pid, Roles={"authenticated": auth})
    out = ci.get_open_id_token_for_developer_identity(IdentityPoolId=pid, Logins={"login.example": "user-42"})
    again = ci.get_open_id_token_for_developer_identity(IdentityPoolId=pid, Logins={"login.example": "user-42"})
    assert again["IdentityId"] == out["IdentityId"]
    creds = unsigned(aloft, "cognito-identity").get_credentials_for_identity(
        IdentityId=out["IdentityId"], Logins={"cognito-identity.amazonaws.com": out["Token"]})["Credentials"]
    assert creds["SecretKey"]
    with pytest.raises(ClientError) as e:
        ci.get_open_id_token_for_developer_identity(IdentityPoolId=pid, Logins={"other": "x"})
    assert err(e)[0] == "NotAuthorizedException"


def test_seed_003_flow_with_enforcement(aloft_factory):
    aloft = aloft_factory(args=["--enforce-iam", "--verify-signatures"])
    auth, _ = roles(aloft)
    aloft.client("iam").put_role_policy(RoleName="authed", PolicyName="notes", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"],
                                                 "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/notes"}]}))
    ddb = aloft.client("dynamodb")
    ddb.create_table(TableName="notes", **TABLE)
    ddb.create_table(TableName="secrets", **TABLE)
    pool, cid, id_token = user_pool_login(aloft)
    pid = make_identity_pool(aloft, pool, cid)["IdentityPoolId"]
    aloft.client("cognito-identity").set_identity_pool_roles(IdentityPoolId=pid, Roles={"authenticated": auth})
    anon = unsigned(aloft, "cognito-identity")
    logins = {provider(pool): id_token}
    iid = anon.get_id(IdentityPoolId=pid, Logins=logins)["IdentityId"]
    creds = anon.get_credentials_for_identity(IdentityId=iid, Logins=logins)["Credentials"]
    user_ddb = with_creds(aloft, "dynamodb", creds)
    user_ddb.put_item(TableName="notes", Item={"k": {"S": iid}})
    assert user_ddb.get_item(TableName="notes", Key={"k": {"S": iid}})["Item"]["k"]["S"] == iid
    with pytest.raises(ClientError) as e:
        user_ddb.get_item(TableName="secrets", Key={"k": {"S": "x"}})
    code, msg = err(e)
    assert code == "AccessDeniedException"
    assert msg == ("User: arn:aws:sts::000000000000:assumed-role/authed/CognitoIdentityCredentials is not authorized "
                   "to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/secrets "
                   "because no identity-based policy allows the dynamodb:GetItem action")
