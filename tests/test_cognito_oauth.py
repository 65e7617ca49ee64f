"""OAuth 2.0 on a user pool domain (the hosted UI): the authorization-code flow with PKCE driven
by `requests` like a browser, client_credentials with resource-server scopes, refresh, userInfo,
revoke and logout; tokens verified with PyJWT against the JWKS the OpenID configuration names."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

CALLBACK = "http://localhost:3000/cb"
PASSWORD = "Passw0rd!x"


@pytest.fixture
def pool(aloft):
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="oauth")["UserPool"]["Id"]
    idp.create_user_pool_domain(Domain="myapp", UserPoolId=pool)
    idp.create_resource_server(UserPoolId=pool, Identifier="api", Name="Notes API", Scopes=[
        {"ScopeName": "read", "ScopeDescription": "read notes"},
        {"ScopeName": "write", "ScopeDescription": "write notes"}])
    web = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", AllowedOAuthFlows=["code"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email", "api/read"], CallbackURLs=[CALLBACK],
        LogoutURLs=["http://localhost:3000/bye"], SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "alice@example.com"}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)
    return {"idp": idp, "pool": pool, "web": web, "base": f"{aloft.url}/_aws/cognito/myapp"}


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(p, challenge, **extra):
    return {"response_type": "code", "client_id": p["web"], "redirect_uri": CALLBACK, "state": "st-1",
            "scope": "openid email api/read", "code_challenge": challenge, "code_challenge_method": "S256",
            "nonce": "n-42", **extra}


def sign_in(session, p, challenge, password=PASSWORD, **extra):
    url = f"{p['base']}/oauth2/authorize"
    page = session.get(url, params=authorize_params(p, challenge, **extra), allow_redirects=False)
    assert page.status_code == 200 and "<form" in page.text
    action = re.search(r'action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    origin = "{0.scheme}://{0.netloc}".format(urlparse(p["base"]))
    return session.post(origin + action, data={"username": "alice", "password": password}, allow_redirects=False)


def code_of(resp):
    assert resp.status_code == 302, resp.text
    loc = urlparse(resp.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == CALLBACK
    q = parse_qs(loc.query)
    assert q["state"] == ["st-1"]
    return q["code"][0]


def verify(aloft, p, token, **kw):
    conf = requests.get(f"{aloft.url}/{p['pool']}/.well-known/openid-configuration").json()
    key = jwt.PyJWKClient(conf["jwks_uri"]).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=f"{aloft.url}/{p['pool']}", **kw)


def test_authorization_code_with_pkce_end_to_end(aloft, pool):
    p = pool
    conf = requests.get(f"{aloft.url}/{p['pool']}/.well-known/openid-configuration").json()
    assert conf["token_endpoint"] == f"{p['base']}/oauth2/token"
    assert conf["authorization_endpoint"] == f"{p['base']}/oauth2/authorize"
    verifier, challenge = pkce()
    s = requests.Session()
    code = code_of(sign_in(s, p, challenge))
    form = {"grant_type": "authorization_code", "client_id": p["web"], "code": code, "redirect_uri": CALLBACK,
            "code_verifier": verifier}
    r = requests.post(conf["token_endpoint"], data=form)
    assert r.status_code == 200, r.text
    t = r.json()
    assert set(t) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert t["token_type"] == "Bearer" and t["expires_in"] == 3600
    idc = verify(aloft, p, t["id_token"], audience=p["web"])
    assert idc["email"] == "alice@example.com" and idc["cognito:username"] == "alice"
    assert idc["nonce"] == "n-42" and idc["token_use"] == "id"
    ac = verify(aloft, p, t["access_token"])
    assert ac["scope"] == "openid email api/read" and ac["client_id"] == p["web"] and ac["token_use"] == "access"
    # The code is single-use.
    again = requests.post(conf["token_endpoint"], data=form)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})
    # userInfo answers the user's attributes as strings.
    info = requests.get(conf["userinfo_endpoint"], headers={"Authorization": f"Bearer {t['access_token']}"})
    assert info.status_code == 200
    assert info.json()["email"] == "alice@example.com" and info.json()["email_verified"] == "true"
    assert info.json()["username"] == "alice" and info.json()["sub"] == idc["sub"]
    # The access token also works with the API.
    assert p["idp"].get_user(AccessToken=t["access_token"])["Username"] == "alice"
    # Refresh keeps the scopes and returns no new refresh token.
    r = requests.post(conf["token_endpoint"], data={"grant_type": "refresh_token", "client_id": p["web"],
                                                     "refresh_token": t["refresh_token"]})
    assert r.status_code == 200 and "refresh_token" not in r.json()
    assert verify(aloft, p, r.json()["access_token"])["scope"] == "openid email api/read"
    # The browser's cookie skips the login page next time.
    verifier2, challenge2 = pkce()
    again = s.get(f"{p['base']}/oauth2/authorize", params=authorize_params(p, challenge2), allow_redirects=False)
    assert code_of(again)
    # Revoking the refresh token ends it.
    assert requests.post(f"{p['base']}/oauth2/revoke", data={"token": t["refresh_token"], "client_id": p["web"]}).status_code == 200
    r = requests.post(conf["token_endpoint"], data={"grant_type": "refresh_token", "client_id": p["web"],
                                                     "refresh_token": t["refresh_token"]})
    assert r.json() == {"error": "invalid_grant"}
    # Logout clears the cookie and returns to a registered URL only.
    out = s.get(f"{p['base']}/logout", params={"client_id": p["web"], "logout_uri": "http://localhost:3000/bye"},
                allow_redirects=False)
    assert out.status_code == 302 and out.headers["Location"] == "http://localhost:3000/bye"
    page = s.get(f"{p['base']}/oauth2/authorize", params=authorize_params(p, challenge2), allow_redirects=False)
    assert page.status_code == 200 and "<form" in page.text
    bad = s.get(f"{p['base']}/logout", params={"client_id": p["web"], "logout_uri": "http://evil.example/"},
                allow_redirects=False)
    assert bad.status_code == 400


def test_pkce_verifier_and_redirect_must_match(aloft, pool):
    p = pool
    token_url = f"{p['base']}/oauth2/token"
    verifier, challenge = pkce()
    code = code_of(sign_in(requests.Session(), p, challenge))
    r = requests.post(token_url, data={"grant_type": "authorization_code", "client_id": p["web"], "code": code,
                                       "redirect_uri": CALLBACK, "code_verifier": "not-the-verifier-" + "x" * 30})
    assert (r.status_code, r.json()) == (400, {"error": "invalid_grant"})
    code = code_of(sign_in(requests.Session(), p, challenge))
    r = requests.post(token_url, data={"grant_type": "authorization_code", "client_id": p["web"], "code": code,
                                       "redirect_uri": "http://localhost:3000/other", "code_verifier": verifier})
    assert r.json() == {"error": "invalid_grant"}
    # Codes expire after five minutes.
    code = code_of(sign_in(requests.Session(), p, challenge))
    aloft.advance(301)
    r = requests.post(token_url, data={"grant_type": "authorization_code", "client_id": p["web"], "code": code,
                                       "redirect_uri": CALLBACK, "code_verifier": verifier})
    assert r.json() == {"error": "invalid_grant"}
    r = requests.post(token_url, data={"grant_type": "password", "client_id": p["web"]})
    assert r.json() == {"error": "unsupported_grant_type"}
    r = requests.post(token_url, data={"grant_type": "authorization_code", "client_id": "nope", "code": "x"})
    assert r.json() == {"error": "invalid_client"}


def test_authorize_refusals(aloft, pool):
    p = pool
    url = f"{p['base']}/oauth2/authorize"
    _, challenge = pkce()
    r = requests.get(url, params=authorize_params(p, challenge, redirect_uri="http://localhost:9999/x"), allow_redirects=False)
    assert r.status_code == 400 and "redirect_mismatch" in r.text
    r = requests.get(url, params=authorize_params(p, challenge, scope="openid api/write"), allow_redirects=False)
    assert r.status_code == 302
    assert parse_qs(urlparse(r.headers["Location"]).query) == {"error": ["invalid_scope"], "state": ["st-1"]}
    r = requests.get(url, params=authorize_params(p, challenge, response_type="token"), allow_redirects=False)
    assert parse_qs(urlparse(r.headers["Location"]).query)["error"] == ["unauthorized_client"]
    r = requests.get(url, params=authorize_params(p, challenge, code_challenge_method="plain"), allow_redirects=False)
    assert parse_qs(urlparse(r.headers["Location"]).query)["error"] == ["invalid_request"]
    wrong = sign_in(requests.Session(), p, challenge, password="wrong-password")
    assert wrong.status_code == 400 and "Incorrect username or password." in wrong.text
    assert requests.get(f"{aloft.url}/_aws/cognito/nodomain/oauth2/authorize").status_code == 404


def test_domain_by_host_name(aloft, pool):
    """`{domain}.auth.{region}.localhost` reaches the same endpoints; tokens keep the localhost issuer."""
    p = pool
    host = f"myapp.auth.us-east-1.localhost:{aloft.port}"
    verifier, challenge = pkce()
    page = requests.get(f"{aloft.url}/oauth2/authorize", params=authorize_params(p, challenge),
                        headers={"Host": host}, allow_redirects=False)
    assert page.status_code == 200 and "<form" in page.text
    r = requests.post(f"{aloft.url}/oauth2/authorize", params=authorize_params(p, challenge), headers={"Host": host},
                      data={"username": "alice", "password": PASSWORD}, allow_redirects=False)
    code = code_of(r)
    assert "Path=/;" in r.headers["Set-Cookie"]
    t = requests.post(f"{aloft.url}/oauth2/token", headers={"Host": host}, data={
        "grant_type": "authorization_code", "client_id": p["web"], "code": code, "redirect_uri": CALLBACK,
        "code_verifier": verifier}).json()
    assert jwt.decode(t["access_token"], options={"verify_signature": False})["iss"] == \
        f"http://localhost:{aloft.port}/{p['pool']}"


def test_client_credentials_with_resource_server_scopes(aloft, pool):
    p = pool
    idp = p["idp"]
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_client(UserPoolId=p["pool"], ClientName="m2m", AllowedOAuthFlows=["client_credentials"],
                                    AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["api/read"])
    assert e.value.response["Error"]["Code"] == "InvalidOAuthFlowException"
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_client(UserPoolId=p["pool"], ClientName="m2m", GenerateSecret=True,
                                    AllowedOAuthFlows=["client_credentials"], AllowedOAuthFlowsUserPoolClient=True,
                                    AllowedOAuthScopes=["api/admin"])
    assert e.value.response["Error"]["Code"] == "ScopeDoesNotExistException"
    c = idp.create_user_pool_client(UserPoolId=p["pool"], ClientName="m2m", GenerateSecret=True,
                                    AllowedOAuthFlows=["client_credentials"], AllowedOAuthFlowsUserPoolClient=True,
                                    AllowedOAuthScopes=["api/read", "api/write"])["UserPoolClient"]
    cid, secret = c["ClientId"], c["ClientSecret"]
    url = f"{p['base']}/oauth2/token"
    r = requests.post(url, auth=(cid, secret), data={"grant_type": "client_credentials", "scope": "api/read"})
    assert r.status_code == 200, r.text
    t = r.json()
    assert set(t) == {"access_token", "expires_in", "token_type"}
    claims = verify(aloft, p, t["access_token"])
    assert claims["scope"] == "api/read" and claims["client_id"] == cid and claims["sub"] == cid
    assert claims["token_use"] == "access"
    # Without a scope: every allowed scope; secret in the form works too.
    r = requests.post(url, data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret})
    assert verify(aloft, p, r.json()["access_token"])["scope"] == "api/read api/write"
    r = requests.post(url, auth=(cid, "wrong"), data={"grant_type": "client_credentials"})
    assert (r.status_code, r.json()) == (400, {"error": "invalid_client"})
    r = requests.post(url, auth=(cid, secret), data={"grant_type": "client_credentials", "scope": "openid"})
    assert r.json() == {"error": "invalid_scope"}
    r = requests.post(url, data={"grant_type": "client_credentials", "client_id": p["web"]})
    assert r.json() == {"error": "unauthorized_client"}
    # A client-credentials token names no user: userInfo refuses it.
    info = requests.get(f"{p['base']}/oauth2/userInfo", headers={"Authorization": f"Bearer {t['access_token']}"})
    assert info.status_code == 401 and info.json()["error"] == "invalid_token"
    assert "WWW-Authenticate" in info.headers


def test_resource_server_api(pool):
    idp, pool_id = pool["idp"], pool["pool"]
    rs = idp.describe_resource_server(UserPoolId=pool_id, Identifier="api")["ResourceServer"]
    assert rs == {"UserPoolId": pool_id, "Identifier": "api", "Name": "Notes API", "Scopes": [
        {"ScopeName": "read", "ScopeDescription": "read notes"}, {"ScopeName": "write", "ScopeDescription": "write notes"}]}
    idp.create_resource_server(UserPoolId=pool_id, Identifier="https://b.example.com", Name="B")
    listed = idp.list_resource_servers(UserPoolId=pool_id, MaxResults=1)
    assert len(listed["ResourceServers"]) == 1 and "NextToken" in listed
    rest = idp.list_resource_servers(UserPoolId=pool_id, MaxResults=10, NextToken=listed["NextToken"])
    assert len(rest["ResourceServers"]) == 1
    with pytest.raises(ClientError) as e:
        idp.create_resource_server(UserPoolId=pool_id, Identifier="api", Name="again")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    up = idp.update_resource_server(UserPoolId=pool_id, Identifier="api", Name="Notes",
                                    Scopes=[{"ScopeName": "read", "ScopeDescription": "r"}])["ResourceServer"]
    assert up["Name"] == "Notes" and len(up["Scopes"]) == 1
    idp.delete_resource_server(UserPoolId=pool_id, Identifier="https://b.example.com")
    with pytest.raises(ClientError) as e:
        idp.describe_resource_server(UserPoolId=pool_id, Identifier="https://b.example.com")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
