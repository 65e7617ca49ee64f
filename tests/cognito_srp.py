"""The client side of Cognito's SRP-6a, written from the published algorithm (as Amplify does it).

Used by the tests to sign in with USER_SRP_AUTH exactly as a browser or mobile app would.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import os

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2


def pad_hex(n: int) -> str:
    h = format(n, "x")
    if len(h) % 2:
        h = "0" + h
    elif h[0] in "89abcdef":
        h = "00" + h
    return h


def hex_hash(hex_str: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_str)).hexdigest()


K = int(hex_hash(pad_hex(N) + pad_hex(G)), 16)


def hkdf16(ikm: bytes, salt: bytes) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]


def now_string(when: datetime.datetime | None = None) -> str:
    t = when or datetime.datetime.now(datetime.timezone.utc)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    # Amplify leaves the day of month unpadded.
    return f"{days[t.weekday()]} {months[t.month - 1]} {t.day} {t:%H:%M:%S} UTC {t.year}"


class SrpClient:
    def __init__(self, pool_id: str):
        self.pool_name = pool_id.split("_", 1)[1]
        self.a = int.from_bytes(os.urandom(128), "big") % N
        self.A = pow(G, self.a, N)

    @property
    def srp_a(self) -> str:
        return format(self.A, "x")

    def claim(self, params: dict, password: str, timestamp: str | None = None) -> dict:
        user_id = params["USER_ID_FOR_SRP"]
        B = int(params["SRP_B"], 16)
        salt = int(params["SALT"], 16)
        u = int(hex_hash(pad_hex(self.A) + pad_hex(B)), 16)
        inner = hashlib.sha256(f"{self.pool_name}{user_id}:{password}".encode()).hexdigest()
        x = int(hex_hash(pad_hex(salt) + inner), 16)
        S = pow((B - K * pow(G, x, N)) % N, self.a + u * x, N)
        key = hkdf16(bytes.fromhex(pad_hex(S)), bytes.fromhex(pad_hex(u)))
        ts = timestamp or now_string()
        msg = self.pool_name.encode() + user_id.encode() + base64.b64decode(params["SECRET_BLOCK"]) + ts.encode()
        sig = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
        return {
            "USERNAME": params["USERNAME"],
            "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
            "TIMESTAMP": ts,
            "PASSWORD_CLAIM_SIGNATURE": sig,
        }
