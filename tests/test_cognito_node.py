"""The SRP sign-in of amazon-cognito-identity-js (npm), run by Node against Aloft: the real
client's SRP-6a math, its PASSWORD_VERIFIER signature and its refresh, verified end to end.
`scripts/test` installs tests/node's packages; the test skips only when Node is missing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jwt
import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the Node SRP test needs it")


@pytest.fixture(scope="module")
def node_modules():
    if not (NODE_DIR / "node_modules" / "amazon-cognito-identity-js").exists():
        npm = shutil.which("npm")
        assert npm, "npm is missing: run `npm install` in tests/node"
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR, check=True, timeout=300)
    return NODE_DIR


def run(aloft, *args):
    p = subprocess.run([NODE, str(NODE_DIR / "cognito_srp.js"), aloft.url, *args], capture_output=True, text=True,
                       timeout=60, cwd=NODE_DIR)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("alias", [False, True], ids=["username", "email-as-username"])
def test_amazon_cognito_identity_js_srp_sign_in(aloft, node_modules, alias):
    idp = aloft.client("cognito-idp")
    kwargs = {"UsernameAttributes": ["email"]} if alias else {}
    pool = idp.create_user_pool(PoolName="node", **kwargs)["UserPool"]["Id"]
    cid = idp.create_user_pool_client(UserPoolId=pool, ClientName="web")["UserPoolClient"]["ClientId"]
    name = "nora@example.com" if alias else "nora"
    idp.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "nora@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool, Username=name, Password="Node-Passw0rd!", Permanent=True)

    out = run(aloft, pool, cid, name, "Node-Passw0rd!")
    assert "error" not in out, out
    claims = jwt.decode(out["idToken"], options={"verify_signature": False})
    assert claims["aud"] == cid and claims["email"] == "nora@example.com"
    assert claims["iss"] == f"{aloft.url}/{pool}"
    assert out["attributes"]["email"] == "nora@example.com"
    access = jwt.decode(out["refreshedAccessToken"], options={"verify_signature": False})
    assert access["client_id"] == cid and access["token_use"] == "access"
    assert idp.get_user(AccessToken=out["accessToken"])["Username"] == claims["cognito:username"]

    wrong = run(aloft, pool, cid, name, "Wrong-Passw0rd!")
    assert wrong["error"] == "NotAuthorizedException"
    assert wrong["message"] == "Incorrect username or password."
