"""Flows through queues and topics with real functions: SQS → Lambda (partial batch failure and
redrive to a DLQ), SNS → Lambda, SNS → SQS fan-out with filter policies."""

import json

from flows import RECORDER, aloft, drain, events_of, function, log_lines, queue, wait_for  # noqa: F401

PARTIAL = """
import json
def handler(event, context):
    failures = []
    for r in event["Records"]:
        body = json.loads(r["body"])
        print("EVENT " + json.dumps({"id": r["messageId"], "n": body["n"],
                                     "count": r["attributes"]["ApproximateReceiveCount"]}))
        if body["n"] % 2:
            failures.append({"itemIdentifier": r["messageId"]})
    return {"batchItemFailures": failures}
"""


def test_sqs_to_lambda_partial_batch_failure_then_dlq(aloft):
    sqs, lam = aloft.client("sqs"), aloft.client("lambda")
    dlq_url, dlq_arn = queue(sqs, "work-dlq")
    url, arn = queue(sqs, "work", VisibilityTimeout="30",
                     RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}))
    function(aloft, "worker", PARTIAL)
    for n in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=arn, BatchSize=10,
                                        MaximumBatchingWindowInSeconds=1,
                                        FunctionResponseTypes=["ReportBatchItemFailures"])
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and m["BatchSize"] == 10
    seen = events_of(aloft, "worker", n=4)
    assert sorted(e["n"] for e in seen) == [0, 1, 2, 3]
    # The successes were deleted; the failures are in flight until their visibility timeout.
    def counts():
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])
    wait_for(lambda: counts() == (0, 2), what="two failed messages in flight")
    aloft.advance(31)
    seen = events_of(aloft, "worker", n=6)
    retried = [e for e in seen[4:]]
    assert sorted(e["n"] for e in retried) == [1, 3] and {e["count"] for e in retried} == {"2"}
    # Failed a second time with maxReceiveCount 2: the next receive moves them to the DLQ.
    aloft.advance(31)
    dead = drain(sqs, dlq_url, n=2)
    assert sorted(json.loads(d["Body"])["n"] for d in dead) == [1, 3]
    wait_for(lambda: counts() == (0, 0), what="source queue empty")
    assert len(log_lines(aloft, "worker")) == 6, "redriven messages are not delivered again"


def test_sqs_to_lambda_whole_batch_failure_returns_everything(aloft):
    sqs, lam = aloft.client("sqs"), aloft.client("lambda")
    url, arn = queue(sqs, "all-or-nothing", VisibilityTimeout="20")
    function(aloft, "boom", "import json\ndef handler(e, c):\n    print('EVENT ' + json.dumps(len(e['Records'])))\n    raise ValueError('no')\n")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)])
    lam.create_event_source_mapping(FunctionName="boom", EventSourceArn=arn, BatchSize=10, MaximumBatchingWindowInSeconds=1)
    events_of(aloft, "boom")
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(a["ApproximateNumberOfMessagesNotVisible"]) + int(a["ApproximateNumberOfMessages"]) == 3


def test_sns_to_lambda(aloft):
    sns, lam = aloft.client("sns"), aloft.client("lambda")
    fn = function(aloft, "on-topic")
    topic = sns.create_topic(Name="news")["TopicArn"]
    lam.add_permission(FunctionName="on-topic", StatementId="sns", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", SourceArn=topic)
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
    mid = sns.publish(TopicArn=topic, Message="hello", Subject="greeting",
                      MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}})["MessageId"]
    (ev,) = events_of(aloft, "on-topic")
    rec = ev["Records"][0]
    assert rec["EventSource"] == "aws:sns" and rec["EventSubscriptionArn"] == sub
    s = rec["Sns"]
    assert s["MessageId"] == mid and s["Message"] == "hello" and s["Subject"] == "greeting"
    assert s["TopicArn"] == topic and s["Type"] == "Notification"
    assert s["MessageAttributes"] == {"kind": {"Type": "String", "Value": "x"}}
    assert s["SignatureVersion"] in ("1", "2") and s["Signature"] and s["SigningCertUrl"]


def test_sns_to_sqs_fan_out_with_filter_policies(aloft):
    sns, sqs = aloft.client("sns"), aloft.client("sqs")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    big_url, big = queue(sqs, "big-orders")
    eu_url, eu = queue(sqs, "eu-orders")
    all_url, every = queue(sqs, "all-orders")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=big, Attributes={
        "FilterPolicy": json.dumps({"total": [{"numeric": [">=", 100]}]}), "RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=eu, Attributes={
        "FilterPolicyScope": "MessageBody", "FilterPolicy": json.dumps({"region": ["eu-west-1", {"prefix": "eu-"}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=every)
    orders = [({"region": "eu-central-1"}, 150), ({"region": "us-east-1"}, 20), ({"region": "eu-west-1"}, 5)]
    for body, total in orders:
        sns.publish(TopicArn=topic, Message=json.dumps(body),
                    MessageAttributes={"total": {"DataType": "Number", "StringValue": str(total)}})
    assert [json.loads(m["Body"]) for m in drain(sqs, big_url, n=1)] == [{"region": "eu-central-1"}]
    eu_msgs = [json.loads(json.loads(m["Body"])["Message"]) for m in drain(sqs, eu_url, n=2)]
    assert sorted(m["region"] for m in eu_msgs) == ["eu-central-1", "eu-west-1"]
    assert len(drain(sqs, all_url, n=3)) == 3
    assert drain(sqs, big_url, timeout=1) == [], "filtered messages are not delivered"
