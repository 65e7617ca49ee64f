"""SNS message signatures: every notification is signed with Aloft's RSA key, whose
certificate is served at the SigningCertURL, the way SDK signature validators check it
(SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA over SNS's canonical string)."""

import base64
import json
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


def canonical(msg: dict) -> bytes:
    if msg["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{msg[k]}\n" for k in keys if msg.get(k) is not None).encode()


def verify(msg: dict):
    with urllib.request.urlopen(msg["SigningCertURL"]) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    algo = hashes.SHA256() if msg["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(msg["Signature"]), canonical(msg), padding.PKCS1v15(), algo)
    return cert


@pytest.mark.parametrize("version", ["1", "2"])
def test_notifications_verify_with_the_served_certificate(aloft, version):
    sns, sqs = aloft.client("sns"), aloft.client("sqs")
    topic = sns.create_topic(Name="signed", Attributes={"SignatureVersion": version})["TopicArn"]
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="with subject", Subject="s")
    sns.publish(TopicArn=topic, Message=json.dumps({"no": "subject"}))
    got = []
    for _ in range(5):
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if len(got) >= 2:
            break
    assert len(got) == 2
    for m in got:
        msg = json.loads(m["Body"])
        assert msg["SignatureVersion"] == version
        cert = verify(msg)
        assert "sns.amazonaws.com" in cert.subject.rfc4514_string()
        tampered = dict(msg, Message=msg["Message"] + "!")
        with pytest.raises(Exception):
            verify(tampered)


def test_the_key_survives_a_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    with urllib.request.urlopen(f"{a.url}/_aloft/sns/SimpleNotificationService.pem") as r:
        first = x509.load_pem_x509_certificate(r.read()).public_key().public_numbers()
    a.stop()
    b = aloft_factory(data_dir=tmp_path)
    with urllib.request.urlopen(f"{b.url}/_aloft/sns/SimpleNotificationService.pem") as r:
        second = x509.load_pem_x509_certificate(r.read()).public_key().public_numbers()
    assert first == second
