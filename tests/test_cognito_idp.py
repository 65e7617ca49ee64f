"""Cognito user pools against the real binary: boto3, the AWS CLI, PyJWT, pyotp, and SRP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.request

import jwt
import pyotp
import pytest
from botocore.exceptions import ClientError

from cognito_srp import SrpClient

PASSWORD = "Corr3ct-Horse!"


def err(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    e = exc.value.response["Error"]
    return e["Code"], e["Message"]


def codes(aloft, username=None):
    q = f"?username={username}" if username else ""
    return aloft.internal("GET", f"cognito-idp/codes{q}")["codes"]


@pytest.fixture
def idp(aloft):
    return aloft.client("cognito-idp")


def make_pool(idp, **kw):
    kw.setdefault("AutoVerifiedAttributes", ["email"])
    return idp.create_user_pool(PoolName="app", **kw)["UserPool"]["Id"]


def make_client(idp, pool, **kw):
    kw.setdefault("ExplicitAuthFlows", ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"])
    return idp.create_user_pool_client(UserPoolId=pool, ClientName="web", **kw)["UserPoolClient"]


def signed_up(aloft, idp, pool, client_id, username="alice", email="alice@example.com"):
    out = idp.sign_up(ClientId=client_id, Username=username, Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": email}])
    code = [c for c in codes(aloft) if c["purpose"] == "signup"][-1]["code"]
    idp.confirm_sign_up(ClientId=client_id, Username=username, ConfirmationCode=code)
    return out


def password_login(idp, client_id, username="alice", password=PASSWORD):
    return idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def jwks_verify(aloft, token, pool, audience=None):
    with urllib.request.urlopen(f"{aloft.url}/{pool}/.well-known/jwks.json") as r:
        keys = json.load(r)["keys"]
    header = jwt.get_unverified_header(token)
    key = next(k for k in keys if k["kid"] == header["kid"])
    public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key))
    return jwt.decode(token, public, algorithms=["RS256"], audience=audience,
                      issuer=f"{aloft.url}/{pool}", options={"verify_aud": audience is not None})


def test_pool_and_client_lifecycle(aloft, idp):
    pool = make_pool(idp, Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireNumbers": True}},
                     Schema=[{"Name": "tenant", "AttributeDataType": "String", "Mutable": True}])
    desc = idp.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert desc["Id"] == pool and pool.startswith("us-east-1_")
    assert desc["Arn"] == f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool}"
    assert desc["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert desc["MfaConfiguration"] == "OFF"
    names = [a["Name"] for a in desc["SchemaAttributes"]]
    assert "custom:tenant" in names and "email" in names
    assert [p["Id"] for p in idp.list_user_pools(MaxResults=10)["UserPools"]] == [pool]
    client = make_client(idp, pool, GenerateSecret=True)
    assert len(client["ClientSecret"]) > 40
    got = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"])["UserPoolClient"]
    assert got["ClientName"] == "web" and got["ClientSecret"] == client["ClientSecret"]
    assert idp.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"][0]["ClientId"] == client["ClientId"]
    idp.delete_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"])
    with pytest.raises(ClientError) as e:
        idp.describe_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"])
    assert err(e)[0] == "ResourceNotFoundException"
    idp.delete_user_pool(UserPoolId=pool)
    with pytest.raises(ClientError) as e:
        idp.describe_user_pool(UserPoolId=pool)
    assert err(e) == ("ResourceNotFoundException", f"User pool {pool} does not exist.")


def test_deletion_protection(idp):
    pool = make_pool(idp, DeletionProtection="ACTIVE")
    with pytest.raises(ClientError) as e:
        idp.delete_user_pool(UserPoolId=pool)
    assert err(e)[0] == "InvalidParameterException"


def test_sign_up_confirm_sign_in_and_tokens_verify_with_pyjwt(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool)["ClientId"]
    out = idp.sign_up(ClientId=cid, Username="alice", Password=PASSWORD,
                      UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    assert out["UserConfirmed"] is False
    assert out["CodeDeliveryDetails"] == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    with pytest.raises(ClientError) as e:
        password_login(idp, cid)
    assert err(e) == ("UserNotConfirmedException", "User is not confirmed.")
    code = codes(aloft, "alice")[-1]["code"]
    with pytest.raises(ClientError) as e:
        idp.confirm_sign_up(ClientId=cid, Username="alice", ConfirmationCode="000000" if code != "000000" else "111111")
    assert err(e)[0] == "CodeMismatchException"
    idp.confirm_sign_up(ClientId=cid, Username="alice", ConfirmationCode=code)
    with pytest.raises(ClientError) as e:
        idp.confirm_sign_up(ClientId=cid, Username="alice", ConfirmationCode=code)
    assert err(e) == ("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED")

    res = password_login(idp, cid)["AuthenticationResult"]
    assert res["TokenType"] == "Bearer" and res["ExpiresIn"] == 3600
    idc = jwks_verify(aloft, res["IdToken"], pool, audience=cid)
    assert idc["token_use"] == "id" and idc["cognito:username"] == "alice"
    assert idc["email"] == "alice@example.com" and idc["email_verified"] is True
    assert idc["sub"] == out["UserSub"]
    acc = jwks_verify(aloft, res["AccessToken"], pool)
    assert acc["token_use"] == "access" and acc["client_id"] == cid and acc["username"] == "alice"
    assert acc["scope"] == "aws.cognito.signin.user.admin" and acc["exp"] - acc["iat"] == 3600
    with urllib.request.urlopen(f"{aloft.url}/{pool}/.well-known/openid-configuration") as r:
        oidc = json.load(r)
    assert oidc["issuer"] == f"{aloft.url}/{pool}" and oidc["jwks_uri"].endswith("/.well-known/jwks.json")

    user = idp.get_user(AccessToken=res["AccessToken"])
    assert user["Username"] == "alice"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]


def test_srp_sign_in(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool)["ClientId"]
    signed_up(aloft, idp, pool, cid)
    srp = SrpClient(pool)
    ch = idp.initiate_auth(ClientId=cid, AuthFlow="USER_SRP_AUTH",
                           AuthParameters={"USERNAME": "alice", "SRP_A": srp.srp_a})
    assert ch["ChallengeName"] == "PASSWORD_VERIFIER"
    params = ch["ChallengeParameters"]
    assert params["USER_ID_FOR_SRP"] == "alice"
    res = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="PASSWORD_VERIFIER",
                                        ChallengeResponses=srp.claim(params, PASSWORD))
    jwks_verify(aloft, res["AuthenticationResult"]["IdToken"], pool, audience=cid)

    srp = SrpClient(pool)
    ch = idp.initiate_auth(ClientId=cid, AuthFlow="USER_SRP_AUTH",
                           AuthParameters={"USERNAME": "alice", "SRP_A": srp.srp_a})
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="PASSWORD_VERIFIER",
                                      ChallengeResponses=srp.claim(ch["ChallengeParameters"], "Wr0ng-Password!"))
    assert err(e) == ("NotAuthorizedException", "Incorrect username or password.")


def test_srp_with_email_as_username(aloft, idp):
    pool = make_pool(idp, UsernameAttributes=["email"])
    cid = make_client(idp, pool)["ClientId"]
    out = idp.sign_up(ClientId=cid, Username="bob@example.com", Password=PASSWORD)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username="bob@example.com")
    srp = SrpClient(pool)
    ch = idp.initiate_auth(ClientId=cid, AuthFlow="USER_SRP_AUTH",
                           AuthParameters={"USERNAME": "bob@example.com", "SRP_A": srp.srp_a})
    # The SRP identity is the internal username (the sub), not the email typed.
    assert ch["ChallengeParameters"]["USER_ID_FOR_SRP"] == out["UserSub"]
    res = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="PASSWORD_VERIFIER",
                                        ChallengeResponses=srp.claim(ch["ChallengeParameters"], PASSWORD))
    claims = jwks_verify(aloft, res["AuthenticationResult"]["IdToken"], pool, audience=cid)
    assert claims["email"] == "bob@example.com" and claims["cognito:username"] == out["UserSub"]
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=cid, Username="bob@example.com", Password=PASSWORD)
    assert err(e)[0] == "UsernameExistsException"
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=cid, Username="notanemail", Password=PASSWORD)
    assert err(e) == ("InvalidParameterException", "Username should be an email.")


def test_wrong_password_does_not_reveal_users_and_locks_out(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool, PreventUserExistenceErrors="ENABLED")["ClientId"]
    signed_up(aloft, idp, pool, cid)
    for user in ("alice", "nobody"):
        with pytest.raises(ClientError) as e:
            password_login(idp, cid, username=user, password="Wr0ng-Password!")
        assert err(e) == ("NotAuthorizedException", "Incorrect username or password.")
    for _ in range(4):
        with pytest.raises(ClientError):
            password_login(idp, cid, password="Wr0ng-Password!")
    with pytest.raises(ClientError) as e:
        password_login(idp, cid)
    assert err(e) == ("NotAuthorizedException", "Password attempts exceeded")
    aloft.advance(5)
    assert "AuthenticationResult" in password_login(idp, cid)

    legacy = make_client(idp, pool)["ClientId"]
    with pytest.raises(ClientError) as e:
        password_login(idp, legacy, username="nobody")
    assert err(e) == ("UserNotFoundException", "User does not exist.")


def test_password_policy_and_flows_not_enabled(idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool, ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["ClientId"]
    for pw, why in [("Sh0rt!", "Password not long enough"), ("alllowercase1!", "Password must have uppercase characters"),
                    ("NoNumbers!!", "Password must have numeric characters"), ("NoSymbols123", "Password must have symbol characters")]:
        with pytest.raises(ClientError) as e:
            idp.sign_up(ClientId=cid, Username="u", Password=pw)
        assert err(e) == ("InvalidPasswordException", f"Password did not conform with policy: {why}")
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "u", "PASSWORD": "x"})
    assert err(e) == ("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")


def test_secret_hash(aloft, idp):
    pool = make_pool(idp)
    client = make_client(idp, pool, GenerateSecret=True)
    cid, secret = client["ClientId"], client["ClientSecret"]
    h = base64.b64encode(hmac.new(secret.encode(), b"carol" + cid.encode(), hashlib.sha256).digest()).decode()
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=cid, Username="carol", Password=PASSWORD)
    assert err(e) == ("NotAuthorizedException", f"Client {cid} is configured with secret but SECRET_HASH was not received")
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=cid, Username="carol", Password=PASSWORD, SecretHash="bm9wZQ==")
    assert err(e) == ("NotAuthorizedException", f"Unable to verify secret hash for client {cid}")
    idp.sign_up(ClientId=cid, Username="carol", Password=PASSWORD, SecretHash=h)
    idp.admin_confirm_sign_up(UserPoolId=pool, Username="carol")
    res = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                            AuthParameters={"USERNAME": "carol", "PASSWORD": PASSWORD, "SECRET_HASH": h})
    assert "IdToken" in res["AuthenticationResult"]


def test_admin_create_user_new_password_required(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool)["ClientId"]
    u = idp.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword="Temp-Passw0rd!",
                              UserAttributes=[{"Name": "email", "Value": "dave@example.com"}])["User"]
    assert u["UserStatus"] == "FORCE_CHANGE_PASSWORD" and u["Enabled"] is True
    with pytest.raises(ClientError) as e:
        idp.admin_create_user(UserPoolId=pool, Username="dave")
    assert err(e) == ("UsernameExistsException", "User account already exists")
    ch = idp.admin_initiate_auth(UserPoolId=pool, ClientId=cid, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": "dave", "PASSWORD": "Temp-Passw0rd!"})
    assert ch["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert json.loads(ch["ChallengeParameters"]["userAttributes"])["email"] == "dave@example.com"
    res = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="NEW_PASSWORD_REQUIRED", Session=ch["Session"],
                                        ChallengeResponses={"USERNAME": "dave", "NEW_PASSWORD": PASSWORD})
    assert "AccessToken" in res["AuthenticationResult"]
    assert idp.admin_get_user(UserPoolId=pool, Username="dave")["UserStatus"] == "CONFIRMED"
    assert "AuthenticationResult" in password_login(idp, cid, "dave")


def test_refresh_sign_out_and_expiry(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool)["ClientId"]
    signed_up(aloft, idp, pool, cid)
    res = password_login(idp, cid)["AuthenticationResult"]
    fresh = idp.initiate_auth(ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": res["RefreshToken"]})["AuthenticationResult"]
    assert "RefreshToken" not in fresh
    assert jwks_verify(aloft, fresh["AccessToken"], pool)["origin_jti"] == jwks_verify(aloft, res["AccessToken"], pool)["origin_jti"]

    # Tampering breaks the signature.
    head, body, sig = res["AccessToken"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["username"] = "mallory"
    forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), sig])
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=forged)
    assert err(e) == ("NotAuthorizedException", "Invalid Access Token")

    idp.global_sign_out(AccessToken=res["AccessToken"])
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=fresh["AccessToken"])
    assert err(e) == ("NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": res["RefreshToken"]})
    assert err(e)[0] == "NotAuthorizedException"

    res = password_login(idp, cid)["AuthenticationResult"]
    idp.get_user(AccessToken=res["AccessToken"])
    aloft.advance(3601)
    with pytest.raises(ClientError) as e:
        idp.get_user(AccessToken=res["AccessToken"])
    assert err(e) == ("NotAuthorizedException", "Access Token has expired")

    res = password_login(idp, cid)["AuthenticationResult"]
    idp.revoke_token(Token=res["RefreshToken"], ClientId=cid)
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=cid, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": res["RefreshToken"]})
    assert err(e) == ("NotAuthorizedException", "Refresh Token has been revoked")


def test_totp_mfa(aloft, idp):
    pool = make_pool(idp, MfaConfiguration="OPTIONAL")
    idp.set_user_pool_mfa_config(UserPoolId=pool, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="OPTIONAL")
    cid = make_client(idp, pool)["ClientId"]
    signed_up(aloft, idp, pool, cid)
    token = password_login(idp, cid)["AuthenticationResult"]["AccessToken"]
    secret = idp.associate_software_token(AccessToken=token)["SecretCode"]
    with pytest.raises(ClientError) as e:
        idp.verify_software_token(AccessToken=token, UserCode="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert err(e)[0] == "EnableSoftwareTokenMFAException"
    assert idp.verify_software_token(AccessToken=token, UserCode=pyotp.TOTP(secret).now())["Status"] == "SUCCESS"
    idp.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    got = idp.admin_get_user(UserPoolId=pool, Username="alice")
    assert got["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"] and got["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    ch = password_login(idp, cid)
    assert ch["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="SOFTWARE_TOKEN_MFA", Session=ch["Session"],
                                      ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "12345x"})
    assert err(e)[0] == "CodeMismatchException"
    # Aloft's clock may be ahead of the wall clock; TOTP uses Aloft's one clock.
    res = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="SOFTWARE_TOKEN_MFA", Session=ch["Session"],
                                        ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": pyotp.TOTP(secret).now()})
    assert "IdToken" in res["AuthenticationResult"]


def test_mfa_required_setup_during_sign_in(aloft, idp):
    pool = make_pool(idp, MfaConfiguration="ON")
    cid = make_client(idp, pool)["ClientId"]
    signed_up(aloft, idp, pool, cid)
    ch = password_login(idp, cid)
    assert ch["ChallengeName"] == "MFA_SETUP"
    assoc = idp.associate_software_token(Session=ch["Session"])
    ver = idp.verify_software_token(Session=assoc["Session"], UserCode=pyotp.TOTP(assoc["SecretCode"]).now())
    res = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="MFA_SETUP", Session=ver["Session"],
                                        ChallengeResponses={"USERNAME": "alice"})
    assert "AccessToken" in res["AuthenticationResult"]
    assert password_login(idp, cid)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


def test_groups_in_tokens_and_list_users_filter(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool)["ClientId"]
    signed_up(aloft, idp, pool, cid)
    signed_up(aloft, idp, pool, cid, username="alan", email="alan@other.org")
    idp.create_group(UserPoolId=pool, GroupName="admins", Precedence=1, RoleArn="arn:aws:iam::000000000000:role/Admin")
    idp.create_group(UserPoolId=pool, GroupName="users", Precedence=5)
    with pytest.raises(ClientError) as e:
        idp.create_group(UserPoolId=pool, GroupName="users")
    assert err(e)[0] == "GroupExistsException"
    idp.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName="users")
    idp.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName="admins")
    assert [g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool, Username="alice")["Groups"]] == ["admins", "users"]
    claims = jwks_verify(aloft, password_login(idp, cid)["AuthenticationResult"]["IdToken"], pool, audience=cid)
    assert claims["cognito:groups"] == ["admins", "users"]
    assert claims["cognito:preferred_role"] == "arn:aws:iam::000000000000:role/Admin"

    assert [u["Username"] for u in idp.list_users(UserPoolId=pool, Filter='email ^= "al"')["Users"]] == ["alan", "alice"]
    assert [u["Username"] for u in idp.list_users(UserPoolId=pool, Filter='email = "alan@other.org"')["Users"]] == ["alan"]
    assert idp.list_users(UserPoolId=pool, Filter='username = "zed"')["Users"] == []
    page = idp.list_users(UserPoolId=pool, Limit=1)
    assert len(page["Users"]) == 1 and "PaginationToken" in page
    rest = idp.list_users(UserPoolId=pool, Limit=1, PaginationToken=page["PaginationToken"])
    assert rest["Users"][0]["Username"] != page["Users"][0]["Username"]
    with pytest.raises(ClientError) as e:
        idp.list_users(UserPoolId=pool, Filter="email = alan")
    assert err(e)[0] == "InvalidParameterException"


def test_forgot_password_change_password_and_attributes(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool)["ClientId"]
    signed_up(aloft, idp, pool, cid)
    out = idp.forgot_password(ClientId=cid, Username="alice")
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    code = [c for c in codes(aloft, "alice") if c["purpose"] == "forgot"][-1]["code"]
    new = "N3w-Password!!"
    idp.confirm_forgot_password(ClientId=cid, Username="alice", ConfirmationCode=code, Password=new)
    with pytest.raises(ClientError) as e:
        idp.confirm_forgot_password(ClientId=cid, Username="alice", ConfirmationCode=code, Password=new)
    assert err(e)[0] == "ExpiredCodeException"
    token = password_login(idp, cid, password=new)["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as e:
        idp.change_password(AccessToken=token, PreviousPassword="nope-Nope1!", ProposedPassword=PASSWORD)
    assert err(e)[0] == "NotAuthorizedException"
    idp.change_password(AccessToken=token, PreviousPassword=new, ProposedPassword=PASSWORD)
    password_login(idp, cid)

    upd = idp.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "email", "Value": "alice@new.example"}, {"Name": "name", "Value": "Alice"}])
    assert upd["CodeDeliveryDetailsList"][0]["AttributeName"] == "email"
    attrs = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=token)["UserAttributes"]}
    assert attrs["email_verified"] == "false" and attrs["name"] == "Alice"
    code = [c for c in codes(aloft, "alice") if c["purpose"] == "verify:email"][-1]["code"]
    idp.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    attrs = {a["Name"]: a["Value"] for a in idp.get_user(AccessToken=token)["UserAttributes"]}
    assert attrs["email_verified"] == "true"
    with pytest.raises(ClientError) as e:
        idp.update_user_attributes(AccessToken=token, UserAttributes=[{"Name": "custom:nope", "Value": "x"}])
    assert err(e) == ("InvalidParameterException", "Attributes did not conform to the schema: custom:nope: Attribute does not exist in the schema.")


def test_admin_user_management(aloft, idp):
    pool = make_pool(idp)
    cid = make_client(idp, pool)["ClientId"]
    signed_up(aloft, idp, pool, cid)
    idp.admin_disable_user(UserPoolId=pool, Username="alice")
    with pytest.raises(ClientError) as e:
        password_login(idp, cid)
    assert err(e) == ("NotAuthorizedException", "User is disabled.")
    idp.admin_enable_user(UserPoolId=pool, Username="alice")
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password="An0ther-Pass!", Permanent=True)
    password_login(idp, cid, password="An0ther-Pass!")
    idp.admin_update_user_attributes(UserPoolId=pool, Username="alice", UserAttributes=[{"Name": "given_name", "Value": "Al"}])
    attrs = {a["Name"]: a["Value"] for a in idp.admin_get_user(UserPoolId=pool, Username="alice")["UserAttributes"]}
    assert attrs["given_name"] == "Al"
    idp.admin_delete_user(UserPoolId=pool, Username="alice")
    with pytest.raises(ClientError) as e:
        idp.admin_get_user(UserPoolId=pool, Username="alice")
    assert err(e) == ("UserNotFoundException", "User does not exist.")


def test_validation_errors_are_invalid_parameter(idp):
    with pytest.raises(ClientError) as e:
        idp.describe_user_pool(UserPoolId="x" * 100)
    assert err(e)[0] == "InvalidParameterException"
    assert "failed to satisfy constraint" in err(e)[1]


def test_cli(aloft):
    pool = aloft.cli_json("cognito-idp", "create-user-pool", "--pool-name", "clipool")["UserPool"]["Id"]
    pools = aloft.cli_json("cognito-idp", "list-user-pools", "--max-results", "5")["UserPools"]
    assert [p["Id"] for p in pools] == [pool]
    client = aloft.cli_json("cognito-idp", "create-user-pool-client", "--user-pool-id", pool, "--client-name", "c",
                            "--explicit-auth-flows", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")["UserPoolClient"]
    aloft.cli("cognito-idp", "admin-create-user", "--user-pool-id", pool, "--username", "eve", "--message-action", "SUPPRESS")
    aloft.cli("cognito-idp", "admin-set-user-password", "--user-pool-id", pool, "--username", "eve", "--password", PASSWORD, "--permanent")
    res = aloft.cli_json("cognito-idp", "admin-initiate-auth", "--user-pool-id", pool, "--client-id", client["ClientId"],
                         "--auth-flow", "ADMIN_USER_PASSWORD_AUTH", "--auth-parameters", f"USERNAME=eve,PASSWORD={PASSWORD}")
    assert res["AuthenticationResult"]["TokenType"] == "Bearer"
