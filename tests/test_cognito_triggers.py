"""Cognito user pool triggers run as real Lambda functions (Python processes): the CUSTOM_AUTH
challenge loop (Define/Create/VerifyAuthChallengeResponse) end to end."""

from __future__ import annotations

import io
import zipfile

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

DEFINE = """
def handler(event, context):
    s = event["request"]["session"]
    r = event["response"]
    if s and s[-1]["challengeResult"]:
        r["issueTokens"] = True
    elif len(s) >= 2:
        r["failAuthentication"] = True
    else:
        r["challengeName"] = "CUSTOM_CHALLENGE"
    return event
"""

CREATE = """
def handler(event, context):
    n = len(event["request"]["session"])
    event["response"]["publicChallengeParameters"] = {"question": f"2+{n}?", "email": event["request"]["userAttributes"].get("email", "")}
    event["response"]["privateChallengeParameters"] = {"answer": str(2 + n)}
    event["response"]["challengeMetadata"] = f"SUM-{n}"
    return event
"""

VERIFY = """
def handler(event, context):
    req = event["request"]
    event["response"]["answerCorrect"] = req["challengeAnswer"] == req["privateChallengeParameters"]["answer"]
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


@pytest.fixture
def custom_pool(aloft):
    idp = aloft.client("cognito-idp")
    config = {"DefineAuthChallenge": function(aloft, "define", DEFINE),
              "CreateAuthChallenge": function(aloft, "create", CREATE),
              "VerifyAuthChallengeResponse": function(aloft, "verify", VERIFY)}
    pool = idp.create_user_pool(PoolName="custom", LambdaConfig=config)["UserPool"]["Id"]
    cid = idp.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                      ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="carol", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "carol@example.com"}])
    return idp, pool, cid


def test_custom_auth_challenge_loop(custom_pool):
    idp, pool, cid = custom_pool
    first = idp.initiate_auth(ClientId=cid, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "carol"})
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"] == {"question": "2+0?", "email": "carol@example.com", "USERNAME": "carol"}
    # A wrong answer: Define sees the failed attempt and asks again.
    second = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="CUSTOM_CHALLENGE", Session=first["Session"],
                                           ChallengeResponses={"USERNAME": "carol", "ANSWER": "5"})
    assert second["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert second["ChallengeParameters"]["question"] == "2+1?"
    done = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="CUSTOM_CHALLENGE", Session=second["Session"],
                                         ChallengeResponses={"USERNAME": "carol", "ANSWER": "3"})
    tokens = done["AuthenticationResult"]
    assert tokens["IdToken"] and tokens["AccessToken"] and tokens["RefreshToken"]
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "carol"
    # A session is used once.
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="CUSTOM_CHALLENGE", Session=second["Session"],
                                      ChallengeResponses={"USERNAME": "carol", "ANSWER": "3"})
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_custom_auth_fails_when_define_says_so(custom_pool):
    idp, pool, cid = custom_pool
    s = idp.initiate_auth(ClientId=cid, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "carol"})["Session"]
    s = idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="CUSTOM_CHALLENGE", Session=s,
                                      ChallengeResponses={"USERNAME": "carol", "ANSWER": "0"})["Session"]
    with pytest.raises(ClientError) as e:
        idp.respond_to_auth_challenge(ClientId=cid, ChallengeName="CUSTOM_CHALLENGE", Session=s,
                                      ChallengeResponses={"USERNAME": "carol", "ANSWER": "0"})
    assert e.value.response["Error"] == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."} | {
        k: v for k, v in e.value.response["Error"].items() if k not in ("Code", "Message")}


def test_custom_auth_needs_the_trigger(aloft):
    idp = aloft.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="plain")["UserPool"]["Id"]
    cid = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="dave", MessageAction="SUPPRESS")
    with pytest.raises(ClientError) as e:
        idp.initiate_auth(ClientId=cid, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": "dave"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
