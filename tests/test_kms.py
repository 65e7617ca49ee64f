"""KMS (json 1.1) with boto3 and the AWS CLI: real cryptography checked with the
`cryptography` package, envelope encryption, tampering, key states on the clock, aliases,
grants, policies, rotation, persistence."""

import base64
import hashlib
import json
import os

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@pytest.fixture
def kms(aloft):
    return aloft.client("kms")


def skip_unless_durable(data_dir):
    """Until the durable journal lands on main, --data-dir keeps only blobs."""
    if not any(p.suffix in (".redb", ".db") for p in data_dir.rglob("*")):
        pytest.skip("this build has no durable journal yet")


def code(exc):
    return exc.value.response["Error"]["Code"]


def test_create_describe_list_key(kms):
    meta = kms.create_key(Description="app key", Tags=[{"TagKey": "team", "TagValue": "a"}])["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT" and meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:000000000000:key/{meta['KeyId']}"
    assert meta["KeyManager"] == "CUSTOMER" and meta["Origin"] == "AWS_KMS"
    assert kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"]["Description"] == "app key"
    keys = kms.list_keys()["Keys"]
    assert {"KeyId": meta["KeyId"], "KeyArn": meta["Arn"]} in keys
    assert kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"] == [{"TagKey": "team", "TagValue": "a"}]
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="11111111-2222-3333-4444-555555555555")
    assert code(e) == "NotFoundException"
    assert "does not exist" in e.value.response["Error"]["Message"]


def test_list_keys_paginates(kms):
    ids = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)}
    first = kms.list_keys(Limit=2)
    assert first["Truncated"] is True and len(first["Keys"]) == 2
    rest = kms.list_keys(Limit=2, Marker=first["NextMarker"])
    assert rest["Truncated"] is False
    assert {k["KeyId"] for k in first["Keys"] + rest["Keys"]} == ids


def test_encrypt_decrypt_with_context_and_tampering(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    ctx = {"tenant": "t1", "purpose": "demo"}
    blob = kms.encrypt(KeyId=key, Plaintext=b"attack at dawn", EncryptionContext=ctx)["CiphertextBlob"]
    out = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
    assert out["Plaintext"] == b"attack at dawn"
    assert out["KeyId"].endswith(key) and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    # Context order does not matter; a different or missing context does.
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "demo", "tenant": "t1"})["Plaintext"]
    for bad in [{}, {"tenant": "t2", "purpose": "demo"}]:
        with pytest.raises(ClientError) as e:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=bad)
        assert code(e) == "InvalidCiphertextException"
    tampered = bytearray(blob)
    tampered[-3] ^= 0x40
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=bytes(tampered), EncryptionContext=ctx)
    assert code(e) == "InvalidCiphertextException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # A blob decrypts only with its own key.
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, KeyId=other)
    assert code(e) == "IncorrectKeyException"
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=os.urandom(80))
    assert code(e) == "InvalidCiphertextException"


def test_plaintext_limit_is_validated(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"x" * 4097)
    assert code(e) == "ValidationException"


def test_envelope_encryption_with_a_data_key(kms):
    """Seed 003: encrypt locally with a data key, keep only its encrypted copy."""
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    dk = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"file": "a.txt"})
    assert len(dk["Plaintext"]) == 32
    nonce = os.urandom(12)
    sealed = AESGCM(dk["Plaintext"]).encrypt(nonce, b"the document", None)
    stored_key = dk["CiphertextBlob"]
    del dk
    plain_key = kms.decrypt(CiphertextBlob=stored_key, EncryptionContext={"file": "a.txt"})["Plaintext"]
    assert AESGCM(plain_key).decrypt(nonce, sealed, None) == b"the document"

    wo = kms.generate_data_key_without_plaintext(KeyId=key, NumberOfBytes=64)
    assert "Plaintext" not in wo
    assert len(kms.decrypt(CiphertextBlob=wo["CiphertextBlob"])["Plaintext"]) == 64
    with pytest.raises(ClientError) as e:
        kms.generate_data_key(KeyId=key)
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.generate_data_key(KeyId=key, KeySpec="AES_256", NumberOfBytes=32)
    assert code(e) == "ValidationException"


def test_data_key_pair(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256")
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], None)
    public = serialization.load_der_public_key(pair["PublicKey"])
    sig = private.sign(b"m", ec.ECDSA(hashes.SHA256()))
    public.verify(sig, b"m", ec.ECDSA(hashes.SHA256()))
    again = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"]
    assert again == pair["PrivateKeyPlaintext"]
    wo = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in wo
    assert serialization.load_der_public_key(wo["PublicKey"]).key_size == 2048


def test_re_encrypt_moves_between_keys(kms):
    a = kms.create_key()["KeyMetadata"]["KeyId"]
    b = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=a, Plaintext=b"move me", EncryptionContext={"x": "1"})["CiphertextBlob"]
    out = kms.re_encrypt(
        CiphertextBlob=blob, SourceEncryptionContext={"x": "1"}, DestinationKeyId=b,
        DestinationEncryptionContext={"y": "2"},
    )
    assert out["SourceKeyId"].endswith(a) and out["KeyId"].endswith(b)
    dec = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"y": "2"})
    assert dec["Plaintext"] == b"move me" and dec["KeyId"].endswith(b)


def test_aliases(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key)
    blob = kms.encrypt(KeyId="alias/app", Plaintext=b"hi")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hi"
    arn = "arn:aws:kms:us-east-1:000000000000:alias/app"
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyId"] == key
    aliases = kms.list_aliases(KeyId=key)["Aliases"]
    assert [(a["AliasName"], a["AliasArn"], a["TargetKeyId"]) for a in aliases] == [("alias/app", arn, key)]
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="alias/app", TargetKeyId=key)
    assert code(e) == "AlreadyExistsException"
    with pytest.raises(ClientError) as e:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key)
    assert code(e) == "InvalidAliasNameException"
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.update_alias(AliasName="alias/app", TargetKeyId=other)
    assert kms.describe_key(KeyId="alias/app")["KeyMetadata"]["KeyId"] == other
    kms.delete_alias(AliasName="alias/app")
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId="alias/app")
    assert code(e) == "NotFoundException"
    assert e.value.response["Error"]["Message"] == f"Alias {arn} is not found."


def test_aws_managed_alias_is_created_on_first_use(kms):
    meta = kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]["KeyId"] == meta["KeyId"]


def test_disable_enable_and_scheduled_deletion_on_the_clock(aloft, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    arn = f"arn:aws:kms:us-east-1:000000000000:key/{key}"
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert code(e) == "DisabledException"
    assert e.value.response["Error"]["Message"] == f"{arn} is disabled."
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert code(e) == "DisabledException"
    kms.enable_key(KeyId=key)
    kms.create_alias(AliasName="alias/doomed", TargetKeyId=key)

    out = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and "DeletionDate" in meta
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert code(e) == "KMSInvalidStateException"
    assert e.value.response["Error"]["Message"] == f"{arn} is pending deletion."
    with pytest.raises(ClientError) as e:
        kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=3)
    assert code(e) == "ValidationException"

    kms.cancel_key_deletion(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(ClientError) as e:
        kms.cancel_key_deletion(KeyId=key)
    assert code(e) == "KMSInvalidStateException"

    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    aloft.advance(6 * 86400)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    aloft.advance(86400 + 1)
    with pytest.raises(ClientError) as e:
        kms.describe_key(KeyId=key)
    assert code(e) == "NotFoundException"
    assert kms.list_aliases()["Aliases"] == []


def test_rotation_keeps_old_ciphertexts_readable(aloft, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    old = kms.encrypt(KeyId=key, Plaintext=b"before")["CiphertextBlob"]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    st = kms.get_key_rotation_status(KeyId=key)
    assert st["KeyRotationEnabled"] is True and st["RotationPeriodInDays"] == 90
    aloft.advance(91 * 86400)
    rot = kms.list_key_rotations(KeyId=key)["Rotations"]
    assert [r["RotationType"] for r in rot] == ["AUTOMATIC"]
    kms.rotate_key_on_demand(KeyId=key)
    assert [r["RotationType"] for r in kms.list_key_rotations(KeyId=key)["Rotations"]] == ["AUTOMATIC", "ON_DEMAND"]
    new = kms.encrypt(KeyId=key, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before"
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after"
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.enable_key_rotation(KeyId=rsa)
    assert code(e) == "UnsupportedOperationException"


@pytest.mark.parametrize(
    "spec,alg",
    [
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_NIST_P384", "ECDSA_SHA_384"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ],
)
def test_sign_verify_checked_with_the_public_key(kms, spec, alg):
    meta = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert alg in meta["SigningAlgorithms"]
    key = meta["KeyId"]
    sig = kms.sign(KeyId=key, Message=b"release 1.0", SigningAlgorithm=alg)["Signature"]
    assert kms.verify(KeyId=key, Message=b"release 1.0", Signature=sig, SigningAlgorithm=alg)["SignatureValid"]
    with pytest.raises(ClientError) as e:
        kms.verify(KeyId=key, Message=b"release 1.1", Signature=sig, SigningAlgorithm=alg)
    assert code(e) == "KMSInvalidSignatureException"
    pub = kms.get_public_key(KeyId=key)
    assert pub["KeyUsage"] == "SIGN_VERIFY" and alg in pub["SigningAlgorithms"]
    public = serialization.load_der_public_key(pub["PublicKey"])
    h = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[-3:]]
    if spec.startswith("RSA"):
        pad = (
            padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
            if "PSS" in alg
            else padding.PKCS1v15()
        )
        public.verify(sig, b"release 1.0", pad, h)
    else:
        public.verify(sig, b"release 1.0", ec.ECDSA(h))
    # MessageType DIGEST signs a precomputed hash.
    digest = hashlib.new("sha" + alg[-3:], b"release 1.0").digest()
    sig2 = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm=alg)["Signature"]
    assert kms.verify(KeyId=key, Message=b"release 1.0", Signature=sig2, SigningAlgorithm=alg)["SignatureValid"]


def test_sign_errors(kms):
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.sign(KeyId=sym, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert code(e) == "InvalidKeyUsageException"
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as e:
        kms.sign(KeyId=ecc, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert code(e) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=ecc, Plaintext=b"m")
    assert code(e) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as e:
        kms.get_public_key(KeyId=sym)
    assert code(e) == "UnsupportedOperationException"
    with pytest.raises(ClientError) as e:
        kms.create_key(KeySpec="HMAC_256", KeyUsage="ENCRYPT_DECRYPT")
    assert code(e) == "ValidationException"


def test_rsa_encryption_round_trip_with_public_key(kms):
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    pub = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    ct = pub.encrypt(
        b"offline secret",
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    out = kms.decrypt(CiphertextBlob=ct, KeyId=key, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert out["Plaintext"] == b"offline secret" and out["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    blob = kms.encrypt(KeyId=key, Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, KeyId=key, EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"] == b"p"
    with pytest.raises(ClientError) as e:
        kms.encrypt(KeyId=key, Plaintext=b"p")
    assert code(e) == "InvalidKeyUsageException"
    with pytest.raises(ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert code(e) == "InvalidCiphertextException"


def test_hmac_keys(kms):
    import hmac as pyhmac

    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert key["MacAlgorithms"] == ["HMAC_SHA_256"]
    mac = kms.generate_mac(KeyId=key["KeyId"], Message=b"msg", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert len(mac) == 32
    ok = kms.verify_mac(KeyId=key["KeyId"], Message=b"msg", Mac=mac, MacAlgorithm="HMAC_SHA_256")
    assert ok["MacValid"] is True
    with pytest.raises(ClientError) as e:
        kms.verify_mac(KeyId=key["KeyId"], Message=b"msh", Mac=mac, MacAlgorithm="HMAC_SHA_256")
    assert code(e) == "KMSInvalidMacException"
    with pytest.raises(ClientError) as e:
        kms.generate_mac(KeyId=key["KeyId"], Message=b"msg", MacAlgorithm="HMAC_SHA_512")
    assert code(e) == "InvalidKeyUsageException"
    assert pyhmac.compare_digest(mac, mac)


def test_generate_random(kms):
    a = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    b = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert len(a) == 32 and a != b
    with pytest.raises(ClientError) as e:
        kms.generate_random(NumberOfBytes=2000)
    assert code(e) == "ValidationException"


def test_grants_policies_tags(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    g = kms.create_grant(
        KeyId=key, GranteePrincipal="arn:aws:iam::000000000000:role/app",
        RetiringPrincipal="arn:aws:iam::000000000000:role/admin", Operations=["Decrypt", "Encrypt"],
        Name="g1",
    )
    assert g["GrantId"] and g["GrantToken"]
    grants = kms.list_grants(KeyId=key)["Grants"]
    assert [x["GrantId"] for x in grants] == [g["GrantId"]]
    assert grants[0]["Operations"] == ["Decrypt", "Encrypt"]
    retirable = kms.list_retirable_grants(RetiringPrincipal="arn:aws:iam::000000000000:role/admin")
    assert [x["GrantId"] for x in retirable["Grants"]] == [g["GrantId"]]
    kms.retire_grant(GrantToken=g["GrantToken"])
    assert kms.list_grants(KeyId=key)["Grants"] == []
    g2 = kms.create_grant(KeyId=key, GranteePrincipal="arn:aws:iam::000000000000:role/x", Operations=["Encrypt"])
    kms.revoke_grant(KeyId=key, GrantId=g2["GrantId"])
    with pytest.raises(ClientError) as e:
        kms.revoke_grant(KeyId=key, GrantId=g2["GrantId"])
    assert code(e) == "InvalidGrantIdException"

    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::000000000000:root"}
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]
    new = json.dumps({"Version": "2012-10-17", "Statement": []})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=new)
    assert kms.get_key_policy(KeyId=key)["Policy"] == new
    with pytest.raises(ClientError) as e:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy="{not json")
    assert code(e) == "MalformedPolicyDocumentException"

    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.untag_resource(KeyId=key, TagKeys=["a"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "b", "TagValue": "2"}]
    kms.update_key_description(KeyId=key, Description="new")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "new"


def test_cli_encrypt_decrypt(aloft, tmp_path):
    key = aloft.cli_json("kms", "create-key", "--description", "cli")["KeyMetadata"]["KeyId"]
    src = tmp_path / "plain.txt"
    src.write_bytes(b"from the cli")
    blob = aloft.cli_json("kms", "encrypt", "--key-id", key, "--plaintext", f"fileb://{src}")["CiphertextBlob"]
    raw = tmp_path / "blob.bin"
    raw.write_bytes(base64.b64decode(blob))
    out = aloft.cli_json("kms", "decrypt", "--ciphertext-blob", f"fileb://{raw}")
    assert base64.b64decode(out["Plaintext"]) == b"from the cli"


def test_keys_survive_restart_with_data_dir(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    kms = a.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/keep", TargetKeyId=key)
    blob = kms.encrypt(KeyId="alias/keep", Plaintext=b"durable")["CiphertextBlob"]
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sig = kms.sign(KeyId=signer, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    a.kill()
    skip_unless_durable(tmp_path)
    b = aloft_factory(data_dir=tmp_path)
    kms = b.client("kms")
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"durable"
    assert kms.describe_key(KeyId="alias/keep")["KeyMetadata"]["KeyId"] == key
    assert kms.verify(KeyId=signer, Message=b"m", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
