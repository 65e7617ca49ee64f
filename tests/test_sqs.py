"""SQS over json 1.0 (boto3, AWS CLI) and the query protocol (signed raw requests).

Current botocore no longer checks the MD5 digests SQS returns (older SDKs and the Java SDK do),
so :func:`attributes_md5` re-implements AWS's documented algorithm to pin Aloft's.
"""

import hashlib
import json
import struct
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError


def attributes_md5(attrs):
    """AWS's MD5OfMessageAttributes: per attribute in name order, length-prefixed name, type,
    a transport byte (1 string/number, 2 binary) and length-prefixed value."""
    h = hashlib.md5()
    for name in sorted(attrs):
        a = attrs[name]
        for part in (name.encode(), a["DataType"].encode()):
            h.update(struct.pack(">I", len(part)) + part)
        if "BinaryValue" in a:
            h.update(b"\x02" + struct.pack(">I", len(a["BinaryValue"])) + a["BinaryValue"])
        else:
            v = a["StringValue"].encode()
            h.update(b"\x01" + struct.pack(">I", len(v)) + v)
    return h.hexdigest()


@pytest.fixture
def sqs(aloft):
    return aloft.client("sqs")


def test_queue_lifecycle_and_urls(aloft, sqs):
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url == f"http://sqs.us-east-1.localhost:{aloft.port}/000000000000/orders"
    # Idempotent with the same attributes; a different value is QueueNameExists.
    assert sqs.create_queue(QueueName="orders")["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "5"})
    assert e.value.response["Error"]["Code"] == "QueueAlreadyExists"
    assert sqs.get_queue_url(QueueName="orders")["QueueUrl"] == url
    sqs.create_queue(QueueName="other")
    assert sqs.list_queues()["QueueUrls"] == [url, url.replace("orders", "other")]
    assert sqs.list_queues(QueueNamePrefix="ot")["QueueUrls"] == [url.replace("orders", "other")]
    page = sqs.list_queues(MaxResults=1)
    assert len(page["QueueUrls"]) == 1 and "NextToken" in page
    assert sqs.list_queues(MaxResults=1, NextToken=page["NextToken"])["QueueUrls"] == [
        url.replace("orders", "other")
    ]
    # The path form of the URL names the same queue.
    sqs.send_message(QueueUrl=f"{aloft.url}/000000000000/orders", MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName="orders")
    err = e.value.response
    assert err["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert err["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(sqs.exceptions.QueueDeletedRecently):
        sqs.create_queue(QueueName="orders")
    aloft.advance(61)
    sqs.create_queue(QueueName="orders")


def test_invalid_names_and_attributes(sqs):
    for bad in ["has space", "x" * 81, "noFifoAttr.fifo"]:
        with pytest.raises(ClientError) as e:
            sqs.create_queue(QueueName=bad)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="q", Attributes={"DelaySeconds": "901"})
    assert e.value.response["Error"]["Code"] == "InvalidAttributeValue"
    assert e.value.response["Error"]["Message"] == "Invalid value for the parameter DelaySeconds."
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName="q", Attributes={"ContentBasedDeduplication": "true"})
    assert e.value.response["Error"]["Code"] == "InvalidAttributeName"


def test_attributes_roundtrip(sqs):
    url = sqs.create_queue(QueueName="a", Attributes={"VisibilityTimeout": "45"}, tags={"team": "x"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    assert attrs["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:a"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert "FifoQueue" not in attrs
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "3"})
    one = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
    assert one == {"DelaySeconds": "3"}
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])
    assert e.value.response["Error"]["Code"] == "InvalidAttributeName"
    # Tags.
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "x"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    # Permissions edit the queue policy.
    sqs.add_permission(QueueUrl=url, Label="p1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Sid"] == "p1"
    sqs.remove_permission(QueueUrl=url, Label="p1")
    with pytest.raises(ClientError):
        sqs.remove_permission(QueueUrl=url, Label="p1")


def test_send_receive_delete_with_attributes(sqs):
    url = sqs.create_queue(QueueName="m")["QueueUrl"]
    attrs = {
        "color": {"DataType": "String", "StringValue": "blue"},
        "n": {"DataType": "Number", "StringValue": "42"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        "custom": {"DataType": "String.custom", "StringValue": "c"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello ✓", MessageAttributes=attrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5("hello ✓".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == attributes_md5(attrs)
    got = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert len(got) == 1
    m = got[0]
    assert m["Body"] == "hello ✓" and m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\x01\xff"
    assert m["MessageAttributes"]["n"] == {"DataType": "Number", "StringValue": "42"}
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(m["Attributes"]["SentTimestamp"]) > 1_600_000_000_000
    # A prefix selection returns a subset whose MD5 botocore re-checks.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    sub = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["color"])["Messages"][0]
    assert list(sub["MessageAttributes"]) == ["color"]
    assert sub["MD5OfMessageAttributes"] == attributes_md5({"color": attrs["color"]})
    assert "Attributes" not in sub
    sqs.delete_message(QueueUrl=url, ReceiptHandle=sub["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")


def test_send_validation(sqs):
    url = sqs.create_queue(QueueName="v", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    cases = [
        (dict(MessageBody="x" * 1025), "InvalidParameterValue", "Message must be shorter than 1024 bytes"),
        (dict(MessageBody="bad \u0001"), "InvalidMessageContents", "Invalid characters"),
        (dict(MessageBody="x", DelaySeconds=901), "InvalidParameterValue", "DelaySeconds must be >= 0 and <= 900"),
        (
            dict(MessageBody="x", MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}}),
            "InvalidParameterValue",
            "to a number",
        ),
        (dict(MessageBody="x", MessageDeduplicationId="d"), "InvalidParameterValue", "not valid for this queue type"),
    ]
    for kwargs, code, text in cases:
        with pytest.raises(ClientError) as e:
            sqs.send_message(QueueUrl=url, **kwargs)
        assert e.value.response["Error"]["Code"] == code, kwargs
        assert text in e.value.response["Error"]["Message"]
    for kwargs in [dict(MaxNumberOfMessages=11), dict(WaitTimeSeconds=21), dict(VisibilityTimeout=43201)]:
        with pytest.raises(ClientError) as e:
            sqs.receive_message(QueueUrl=url, **kwargs)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_visibility_delay_and_retention_follow_the_clock(aloft, sqs):
    url = sqs.create_queue(QueueName="t", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="now")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesDelayed"]) == ("1", "1")
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert m["Body"] == "now"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    aloft.advance(31)
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"], MaxNumberOfMessages=10)
    assert [x["Body"] for x in again["Messages"]] == ["now"]
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"
    aloft.advance(30)
    bodies = sorted(x["Body"] for x in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"])
    assert bodies == ["later", "now"]
    # Retention: four days by default.
    aloft.advance(4 * 86400)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_batches(sqs):
    url = sqs.create_queue(QueueName="b")["QueueUrl"]
    r = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "1"},
            {"Id": "b", "MessageBody": "2", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "c", "MessageBody": "3", "DelaySeconds": 1000},
        ],
    )
    assert sorted(x["Id"] for x in r["Successful"]) == ["a", "b"]
    assert r["Failed"][0]["Id"] == "c" and r["Failed"][0]["Code"] == "InvalidParameterValue"
    assert r["Failed"][0]["SenderFault"] is True
    for entries, exc in [
        ([], "EmptyBatchRequest"),
        ([{"Id": "x", "MessageBody": "1"}] * 2, "BatchEntryIdsNotDistinct"),
        ([{"Id": str(i), "MessageBody": "1"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "bad id", "MessageBody": "1"}], "InvalidBatchEntryId"),
        ([{"Id": "big", "MessageBody": "x" * 1048577}], "BatchRequestTooLong"),
    ]:
        with pytest.raises(getattr(sqs.exceptions, exc)):
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    assert sorted(m["Body"] for m in msgs) == ["1", "2"]
    ch = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[{"Id": "x", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 10},
                 {"Id": "y", "ReceiptHandle": "junk", "VisibilityTimeout": 10}],
    )
    assert [x["Id"] for x in ch["Successful"]] == ["x"]
    assert ch["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    d = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
    )
    assert len(d["Successful"]) == 2 and d["Failed"] == []
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
        "Attributes"
    ]["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_fifo_order_dedup_and_groups(aloft, sqs):
    url = sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert e.value.response["Error"]["Code"] == "MissingParameter"
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert "ContentBasedDeduplication" in e.value.response["Error"]["Message"]
    s1 = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="A", MessageDeduplicationId="1")
    dup = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="A", MessageDeduplicationId="1")
    assert dup["MessageId"] == s1["MessageId"]
    sqs.send_message(QueueUrl=url, MessageBody="b1", MessageGroupId="B", MessageDeduplicationId="2")
    sqs.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="A", MessageDeduplicationId="3")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
        "ApproximateNumberOfMessages"
    ] == "3"
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert first["Body"] == "a1"
    assert first["Attributes"]["MessageGroupId"] == "A"
    assert first["Attributes"]["MessageDeduplicationId"] == "1"
    assert len(first["Attributes"]["SequenceNumber"]) == 20
    # Group A is blocked while a1 is in flight.
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in rest] == ["b1"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["a2"]
    # Content-based deduplication hashes the body; the window is five minutes.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    c1 = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="C")
    assert sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="C")["MessageId"] == c1["MessageId"]
    aloft.advance(301)
    assert sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="C")["MessageId"] != c1["MessageId"]
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="C", DelaySeconds=5)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_redrive_to_dlq_and_move_back(aloft, sqs):
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as e:
        sqs.create_queue(
            QueueName="src",
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn + "x", "maxReceiveCount": 2})},
        )
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    src = sqs.create_queue(
        QueueName="src",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
    assert policy == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        assert len(sqs.receive_message(QueueUrl=src)["Messages"]) == 1
        aloft.advance(2)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
    assert moved["MessageId"] == sent["MessageId"] and moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"].endswith(":src")
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=moved["ReceiptHandle"], VisibilityTimeout=0)
    # Redrive back to the source with a message move task.
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert tasks[0]["Status"] == "COMPLETED" and tasks[0]["ApproximateNumberOfMessagesMoved"] == 1
    back = sqs.receive_message(QueueUrl=src)["Messages"][0]
    assert back["Body"] == "poison"
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    assert "Dead Letter Queue" in e.value.response["Error"]["Message"]
    # A RedriveAllowPolicy of denyAll refuses new sources.
    sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
    with pytest.raises(ClientError):
        sqs.create_queue(
            QueueName="src2",
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})},
        )


def test_purge(sqs):
    url = sqs.create_queue(QueueName="p")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)


def test_long_poll_wakes_on_send(aloft, sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    sender = aloft.client("sqs")
    # Warm both connections so the measurement is the wake-up, not a TCP handshake.
    sqs.receive_message(QueueUrl=url)
    sender.get_queue_url(QueueName="lp")
    result = {}

    def receive():
        t0 = time.perf_counter()
        r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
        result["elapsed"] = time.perf_counter() - t0
        result["messages"] = r.get("Messages", [])

    t = threading.Thread(target=receive)
    t.start()
    time.sleep(0.3)
    sent_at = time.perf_counter()
    sender.send_message(QueueUrl=url, MessageBody="wake")
    t.join(5)
    assert [m["Body"] for m in result["messages"]] == ["wake"]
    # Woken by the send (well under the 10 s wait), not by a timer.
    assert result["elapsed"] < 2.0
    assert time.perf_counter() - sent_at < 1.0
    # An empty long poll ends when the clock passes its deadline.
    t0 = time.perf_counter()
    threading.Timer(0.2, lambda: aloft.advance(25)).start()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    assert time.perf_counter() - t0 < 5


def test_cli(aloft):
    url = aloft.cli_json("sqs", "create-queue", "--queue-name", "cli")["QueueUrl"]
    aloft.cli("sqs", "send-message", "--queue-url", url, "--message-body", "from cli",
              "--message-attributes", '{"k":{"DataType":"String","StringValue":"v"}}')
    got = aloft.cli_json("sqs", "receive-message", "--queue-url", url, "--message-attribute-names", "All")
    assert got["Messages"][0]["Body"] == "from cli"
    p = aloft.cli("sqs", "get-queue-url", "--queue-name", "missing", check=False)
    assert p.returncode != 0 and "NonExistentQueue" in p.stderr


def query(aloft, params, url=None):
    """A SigV4-signed query-protocol request, as older SDKs and CLIs send them."""
    body = urllib.parse.urlencode({**params, "Version": "2012-11-05"})
    req = botocore.awsrequest.AWSRequest(
        method="POST",
        url=url or aloft.url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "sqs", "us-east-1").add_auth(req)
    r = requests.post(req.url, data=body, headers=dict(req.headers.items()), timeout=10)
    ns = "{http://queue.amazonaws.com/doc/2012-11-05/}"
    return r.status_code, ET.fromstring(r.content), ns


def test_query_protocol(aloft):
    status, root, ns = query(aloft, {"Action": "CreateQueue", "QueueName": "qq", "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "0"})
    assert status == 200
    url = root.find(f"{ns}CreateQueueResult/{ns}QueueUrl").text
    assert url.endswith("/000000000000/qq")
    status, root, ns = query(aloft, {
        "Action": "SendMessage", "QueueUrl": url, "MessageBody": "q<body>",
        "MessageAttribute.1.Name": "k", "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "v",
    })
    assert status == 200
    md5 = root.find(f"{ns}SendMessageResult/{ns}MD5OfMessageAttributes").text
    # Query clients may post to the queue URL's path and leave QueueUrl out.
    status, root, ns = query(aloft, {"Action": "ReceiveMessage", "AttributeName.1": "All", "MessageAttributeName.1": "All"},
                             url=f"{aloft.url}/000000000000/qq")
    assert status == 200
    msg = root.find(f"{ns}ReceiveMessageResult/{ns}Message")
    assert msg.find(f"{ns}Body").text == "q<body>"
    assert msg.find(f"{ns}MD5OfMessageAttributes").text == md5
    names = [a.find(f"{ns}Name").text for a in msg.findall(f"{ns}Attribute")]
    assert "SentTimestamp" in names
    ma = msg.find(f"{ns}MessageAttribute")
    assert ma.find(f"{ns}Name").text == "k" and ma.find(f"{ns}Value/{ns}StringValue").text == "v"
    status, root, ns = query(aloft, {"Action": "GetQueueUrl", "QueueName": "nope"})
    assert status == 400
    assert root.find(f"{ns}Error/{ns}Code").text == "AWS.SimpleQueueService.NonExistentQueue"
    assert root.find(f"{ns}Error/{ns}Type").text == "Sender"
    status, root, ns = query(aloft, {"Action": "ListQueues"})
    assert [e.text for e in root.iter(f"{ns}QueueUrl")] == [url]
