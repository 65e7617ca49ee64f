"""SNS (query protocol) with boto3 and the AWS CLI: topics, subscriptions, fan-out to SQS with
filter policies, raw delivery, FIFO, HTTP confirmation, email recording, subscription DLQs."""

import http.server
import json
import threading

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def sns(aloft):
    return aloft.client("sns")


@pytest.fixture
def sqs(aloft):
    return aloft.client("sqs")


def queue(sqs, name, **attrs):
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs, url, wait=2, n=1):
    """Long-polls until at least ``n`` messages arrived (fan-out is asynchronous) or time is up."""
    got = []
    for _ in range(5):
        got += sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=wait, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if len(got) >= n:
            break
    return got


def test_topics_attributes_tags(sns):
    arn = sns.create_topic(Name="news", Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:000000000000:news"
    assert sns.create_topic(Name="news")["TopicArn"] == arn
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn and attrs["Owner"] == "000000000000"
    assert attrs["SubscriptionsConfirmed"] == "0"
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="News")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "News"
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(sns.exceptions.NotFoundException) as e:
        sns.get_topic_attributes(TopicArn=arn + "x")
    assert e.value.response["Error"]["Code"] == "NotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name="bad name")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name="plain.fifo")
    sns.delete_topic(TopicArn=arn)
    assert sns.list_topics()["Topics"] == []


def test_fan_out_to_sqs_with_filter_policy(sns, sqs):
    topic = sns.create_topic(Name="orders")["TopicArn"]
    all_url, all_arn = queue(sqs, "all")
    big_url, big_arn = queue(sqs, "big-blue")
    body_url, body_arn = queue(sqs, "body")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=all_arn)
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=big_arn,
        Attributes={
            "FilterPolicy": json.dumps({"color": ["blue"], "size": [{"numeric": [">=", 10]}]}),
            "RawMessageDelivery": "true",
        },
    )["SubscriptionArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=body_arn,
        Attributes={
            "FilterPolicy": json.dumps({"order": {"kind": [{"prefix": "gift"}]}}),
            "FilterPolicyScope": "MessageBody",
        },
    )
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["RawMessageDelivery"] == "true"
    def publish(msg, **attrs):
        return sns.publish(
            TopicArn=topic,
            Message=msg,
            Subject="s",
            MessageAttributes={
                k: {"DataType": "Number" if isinstance(v, int) else "String", "StringValue": str(v)}
                for k, v in attrs.items()
            },
        )["MessageId"]

    m1 = publish("small blue", color="blue", size=3)
    m2 = publish("big blue", color="blue", size=12)
    publish(json.dumps({"order": {"kind": "gift-card"}}))
    got_all = receive(sqs, all_url, n=3)
    envelopes = sorted((json.loads(m["Body"]) for m in got_all), key=lambda e: e["Message"])
    assert [e["Message"] for e in envelopes] == sorted(["big blue", '{"order": {"kind": "gift-card"}}', "small blue"])
    env = envelopes[0]
    assert env["Type"] == "Notification" and env["TopicArn"] == topic and env["Subject"] == "s"
    assert env["MessageId"] == m2
    assert env["MessageAttributes"]["color"] == {"Type": "String", "Value": "blue"}
    assert env["Timestamp"].endswith("Z") and "UnsubscribeURL" in env
    big = receive(sqs, big_url)
    assert [m["Body"] for m in big] == ["big blue"]
    # Raw delivery carries the SNS message attributes as SQS message attributes.
    assert big[0]["MessageAttributes"]["color"] == {"StringValue": "blue", "DataType": "String"}
    assert big[0]["MessageAttributes"]["size"]["DataType"] == "Number"
    body = receive(sqs, body_url)
    assert [json.loads(json.loads(m["Body"])["Message"]) for m in body] == [{"order": {"kind": "gift-card"}}]
    assert m1 != m2


def test_message_structure_and_batch(sns, sqs):
    topic = sns.create_topic(Name="s")["TopicArn"]
    url, arn = queue(sqs, "q")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "sqs": "for sqs"}))
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"sqs": "x"}))
    assert "No default entry" in e.value.response["Error"]["Message"]
    r = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[{"Id": "a", "Message": "one"}, {"Id": "b", "Message": "two"}, {"Id": "c", "Message": ""}],
    )
    assert sorted(x["Id"] for x in r["Successful"]) == ["a", "b"]
    assert r["Failed"][0]["Id"] == "c" and r["Failed"][0]["Code"] == "InvalidParameter"
    with pytest.raises(sns.exceptions.BatchEntryIdsNotDistinctException):
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}] * 2)
    bodies = {m["Body"] for m in receive(sqs, url, wait=1, n=3)}
    assert bodies == {"for sqs", "one", "two"}


def test_fifo_topic_to_fifo_queue(sns, sqs):
    topic = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    url, arn = queue(sqs, "q.fifo", FifoQueue="true")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=topic, Message="x")
    assert "MessageGroupId" in e.value.response["Error"]["Message"]
    r1 = sns.publish(TopicArn=topic, Message="first", MessageGroupId="g")
    sns.publish(TopicArn=topic, Message="second", MessageGroupId="g")
    assert len(r1["SequenceNumber"]) == 20
    got = [m["Body"] for m in receive(sqs, url, wait=1)]
    assert got[0] == "first"
    with pytest.raises(ClientError):
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com")


def test_email_and_sms_are_recorded(aloft, sns):
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    r = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert r["SubscriptionArn"] == "pending confirmation"
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    conf = [m for m in aloft.internal("GET", "sns/messages") if m["type"] == "SubscriptionConfirmation"]
    assert conf[0]["endpoint"] == "ops@example.com"
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["SubscriptionArn"] == "PendingConfirmation" for s in subs) == [False, True]
    arn = sns.confirm_subscription(TopicArn=topic, Token=conf[0]["token"])["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.confirm_subscription(TopicArn=topic, Token="wrong")
    sns.publish(TopicArn=topic, Message="disk full", Subject="alarm")
    import time
    for _ in range(50):
        notes = [m for m in aloft.internal("GET", "sns/messages") if m["type"] == "Notification"]
        if len(notes) == 2:
            break
        time.sleep(0.05)
    assert sorted(n["protocol"] for n in notes) == ["email", "sms"]
    assert all(n["message"] == "disk full" for n in notes)
    sns.unsubscribe(SubscriptionArn=arn)
    assert len(sns.list_subscriptions()["Subscriptions"]) == 1
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=arn)


class Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((dict(self.headers), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_http_subscription_confirmation_round_trip(aloft, sns):
    import time
    import urllib.request

    Recorder.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}/hook"
        topic = sns.create_topic(Name="web")["TopicArn"]
        assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)["SubscriptionArn"] == "pending confirmation"
        for _ in range(100):
            if Recorder.received:
                break
            time.sleep(0.05)
        headers, msg = Recorder.received[0]
        assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
        assert msg["Type"] == "SubscriptionConfirmation" and msg["TopicArn"] == topic
        # Visiting the SubscribeURL confirms, as an HTTP endpoint's code would.
        with urllib.request.urlopen(msg["SubscribeURL"], timeout=5) as r:
            assert json.loads(r.read())["SubscriptionArn"].startswith(topic)
        sns.publish(TopicArn=topic, Message="hello web")
        for _ in range(100):
            if len(Recorder.received) == 2:
                break
            time.sleep(0.05)
        headers, note = Recorder.received[1]
        assert headers["x-amz-sns-message-type"] == "Notification"
        assert note["Message"] == "hello web" and note["Type"] == "Notification"
        # Both are signed, as an endpoint's signature validator checks them.
        from test_sns_signatures import verify

        verify(msg)
        verify(note)
    finally:
        server.shutdown()


def test_undeliverable_messages_go_to_the_subscription_dlq(sns, sqs):
    topic = sns.create_topic(Name="d")["TopicArn"]
    dlq_url, dlq_arn = queue(sqs, "sub-dlq")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint="arn:aws:sqs:us-east-1:000000000000:does-not-exist",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )
    sns.publish(TopicArn=topic, Message="lost")
    got = receive(sqs, dlq_url, wait=3)
    assert json.loads(got[0]["Body"])["Message"] == "lost"


def test_subscribe_validation(sns):
    topic = sns.create_topic(Name="v")["TopicArn"]
    for proto, endpoint in [("sqs", "not-an-arn"), ("http", "ftp://x"), ("carrier-pigeon", "x")]:
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.subscribe(TopicArn=topic, Protocol=proto, Endpoint=endpoint)
    with pytest.raises(sns.exceptions.InvalidParameterException) as e:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:000000000000:q",
            Attributes={"FilterPolicy": json.dumps({"a": [{"nope": 1}]})},
        )
    assert "FilterPolicy" in e.value.response["Error"]["Message"]
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=topic + "-missing", Message="x")


def test_cli_publish(aloft, sqs):
    topic = aloft.cli_json("sns", "create-topic", "--name", "cli")["TopicArn"]
    url, arn = queue(sqs, "cliq")
    aloft.cli("sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", arn)
    out = aloft.cli_json("sns", "publish", "--topic-arn", topic, "--message", "via cli")
    assert out["MessageId"]
    assert json.loads(receive(sqs, url)[0]["Body"])["Message"] == "via cli"
