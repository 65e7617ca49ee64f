"""The remaining Cognito flows with real Lambda triggers: UserMigration (sign-in and forgotten
password of an unknown user), CustomMessage (its messages recorded beside the codes at
/_aloft/cognito-idp/codes), and EMAIL_OTP sign-in (email MFA)."""

from __future__ import annotations

import io
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

MIGRATE = """
def handler(event, context):
    req = event["request"]
    if event["userName"] not in ("legacy", "legacy2"):
        raise Exception("unknown user")
    if event["triggerSource"] == "UserMigration_Authentication" and req["password"] != "Legacy-Pass1!":
        raise Exception("bad password")
    event["response"]["userAttributes"] = {"email": event["userName"] + "@example.com", "email_verified": "true"}
    event["response"]["finalUserStatus"] = "CONFIRMED"
    event["response"]["messageAction"] = "SUPPRESS"
    return event
"""

CUSTOM = """
def handler(event, context):
    req, r = event["request"], event["response"]
    who = req.get("usernameParameter") or event["userName"]
    r["emailSubject"] = "Hello from " + event["triggerSource"]
    r["emailMessage"] = f"Hi {who}, your code is {req['codeParameter']}"
    r["smsMessage"] = "Code: " + req["codeParameter"]
    return event
"""


def zip_of(code: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.py", code)
    return buf.getvalue()


def function(aloft, name, code):
    return aloft.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": zip_of(code)})["FunctionArn"]


def codes(aloft, username=None):
    q = f"?username={username}" if username else ""
    return aloft.internal("GET", f"cognito-idp/codes{q}")["codes"]


def client(idp, pool):
    return idp.create_user_pool_client(
        UserPoolId=pool, ClientName="c",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]


def test_user_migration_on_sign_in_and_forgot_password(aloft):
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="mig", LambdaConfig={"UserMigration": function(aloft, "migrate", MIGRATE)},
                                AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    cid = client(idp, pool)
    # A wrong password (the function throws): the user stays unknown.
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "legacy", "PASSWORD": "Wrong-Pass1!"})
    assert e.value.response["Error"]["Code"] == "UserNotFoundException"
    assert e.value.response["Error"]["Message"] == f"Exception migrating user in app client {cid}"
    with pytest.raises(ClientError):
        idp.admin_get_user(UserPoolId=pool, Username="legacy")
    # The right one: migrated, signed in, and from now on a normal user.
    out = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                            AuthParameters={"USERNAME": "legacy", "PASSWORD": "Legacy-Pass1!"})
    assert out["AuthenticationResult"]["AccessToken"]
    user = idp.admin_get_user(UserPoolId=pool, Username="legacy")
    assert user["UserStatus"] == "CONFIRMED"
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email"] == "legacy@example.com"
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "legacy", "PASSWORD": "Wrong-Pass1!"})
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    # ForgotPassword of an unknown user migrates it without a password, then resets it.
    d = idp.forgot_password(ClientId=cid, Username="legacy2")["CodeDeliveryDetails"]
    assert d["DeliveryMedium"] == "EMAIL"
    assert idp.admin_get_user(UserPoolId=pool, Username="legacy2")["UserStatus"] == "RESET_REQUIRED"
    code = [c for c in codes(aloft, "legacy2") if c["purpose"] == "forgot"][-1]["code"]
    idp.confirm_forgot_password(ClientId=cid, Username="legacy2", ConfirmationCode=code, Password="New-Pass1!x")
    out = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                            AuthParameters={"USERNAME": "legacy2", "PASSWORD": "New-Pass1!x"})
    assert out["AuthenticationResult"]["IdToken"]
    with pytest.raises(ClientError) as e:
        idp.forgot_password(ClientId=cid, Username="stranger")
    assert e.value.response["Error"]["Code"] == "UserNotFoundException"


def test_custom_message_is_recorded_with_the_codes(aloft):
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="msg", LambdaConfig={"CustomMessage": function(aloft, "custom", CUSTOM)},
                                AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    cid = client(idp, pool)
    idp.sign_up(ClientId=cid, Username="bob", Password="Passw0rd!x",
                UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
    sent = [c for c in codes(aloft, "bob") if c["purpose"] == "signup"][-1]
    assert sent["message"]["triggerSource"] == "CustomMessage_SignUp"
    assert sent["message"]["emailSubject"] == "Hello from CustomMessage_SignUp"
    assert sent["message"]["emailMessage"] == f"Hi bob, your code is {sent['code']}"
    assert sent["message"]["smsMessage"] == f"Code: {sent['code']}"
    idp.resend_confirmation_code(ClientId=cid, Username="bob")
    resent = [c for c in codes(aloft, "bob") if c["purpose"] == "signup"][-1]
    assert resent["code"] != sent["code"] or resent["at"] >= sent["at"]
    assert resent["message"]["triggerSource"] == "CustomMessage_ResendCode"
    idp.confirm_sign_up(ClientId=cid, Username="bob", ConfirmationCode=resent["code"])
    idp.forgot_password(ClientId=cid, Username="bob")
    forgot = [c for c in codes(aloft, "bob") if c["purpose"] == "forgot"][-1]
    assert forgot["message"]["emailMessage"] == f"Hi bob, your code is {forgot['code']}"
    idp.admin_create_user(UserPoolId=pool, Username="carol",
                          UserAttributes=[{"Name": "email", "Value": "carol@example.com"}])
    temp = [c for c in codes(aloft, "carol") if c["purpose"] == "temporary-password"][-1]
    assert temp["message"]["triggerSource"] == "CustomMessage_AdminCreateUser"
    # usernameParameter is filled in with the user's name, the code with the temporary password.
    assert temp["message"]["emailMessage"] == f"Hi carol, your code is {temp['code']}"


def test_custom_message_failure_fails_the_call(aloft):
    idp = aloft.client("cognito-idp")
    broken = function(aloft, "broken", "def handler(event, context):\n    raise Exception('no mail today')\n")
    pool = idp.create_user_pool(PoolName="msg", LambdaConfig={"CustomMessage": broken})["UserPool"]["Id"]
    cid = client(idp, pool)
    with pytest.raises(ClientError) as e:
        idp.sign_up(ClientId=cid, Username="dan", Password="Passw0rd!x",
                    UserAttributes=[{"Name": "email", "Value": "dan@example.com"}])
    assert e.value.response["Error"]["Code"] == "UserLambdaValidationException"
    assert "no mail today" in e.value.response["Error"]["Message"]


def test_email_otp_sign_in(aloft):
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="otp", MfaConfiguration="OPTIONAL")["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OPTIONAL",
                                 EmailMfaConfiguration={"Message": "Your code is {####}", "Subject": "Sign-in code"})
    cid = client(idp, pool)
    idp.admin_create_user(UserPoolId=pool, Username="erin", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "erin@example.com"}, {"Name": "email_verified", "Value": "true"}])
    idp.admin_set_user_password(UserPoolId=pool, Username="erin", Password="Passw0rd!x", Permanent=True)
    # Without email MFA turned on for the user: straight to tokens.
    first = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "erin", "PASSWORD": "Passw0rd!x"})
    assert "AuthenticationResult" in first
    idp.admin_set_user_mfa_preference(UserPoolId=pool, Username="erin",
                                      EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert idp.admin_get_user(UserPoolId=pool, Username="erin")["PreferredMfaSetting"] == "EMAIL_OTP"
    ch = idp.initiate_auth(ClientId=cid, AuthFlow="USER_PASSWORD_AUTH",
                           AuthParameters={"USERNAME": "erin", "PASSWORD": "Passw0rd!x"})
    assert ch["ChallengeName"] == "EMAIL_OTP"
    assert ch["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert ch["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "e***@e***"
    sent = [c for c in codes(aloft, "erin") if c["purpose"] == "mfa:email"][-1]
    assert sent["destination"] == "erin@example.com"
    wrong = "000000" if sent["code"] != "000000" else "111111"
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="EMAIL_OTP", Session=ch["Session"],
                                      ChallengeResponses={"USERNAME": "erin", "EMAIL_OTP_CODE": wrong})
    assert e.value.response["Error"]["Code"] == "CodeMismatchException"
    done = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="EMAIL_OTP", Session=ch["Session"],
                                         ChallengeResponses={"USERNAME": "erin", "EMAIL_OTP_CODE": sent["code"]})
    assert done["AuthenticationResult"]["AccessToken"]
