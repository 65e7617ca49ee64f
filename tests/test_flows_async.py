"""Async Lambda flows with real functions: failures retried into an SQS dead-letter queue and an
on-failure destination, success to an on-success destination, and a function that calls SQS and
DynamoDB through boto3."""

import json

from flows import advance_until, aloft, drain, events_of, function, log_lines, queue, wait_for  # noqa: F401

FAIL = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
    raise RuntimeError("nope: " + str(event.get("n")))
"""


def test_async_failure_retried_then_dead_letter_queue(aloft):
    sqs, lam = aloft.client("sqs"), aloft.client("lambda")
    dlq_url, dlq = queue(sqs, "fn-dlq")
    function(aloft, "flaky", FAIL, DeadLetterConfig={"TargetArn": dlq})
    r = lam.invoke(FunctionName="flaky", InvocationType="Event", Payload=b'{"n": 1}')
    assert r["StatusCode"] == 202
    events_of(aloft, "flaky", n=1)
    # Two retries, the first after about a minute and the second after two more.
    advance_until(aloft, 61, lambda: len(log_lines(aloft, "flaky")) >= 2, what="the first retry")
    advance_until(aloft, 121, lambda: len(log_lines(aloft, "flaky")) >= 3, what="the second retry")
    (m,) = drain(sqs, dlq_url, n=1, MessageAttributeNames=["All"])
    assert json.loads(m["Body"]) == {"n": 1}
    attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
    assert attrs["ErrorMessage"] == "nope: 1" and attrs["ErrorCode"] == "200"
    assert "RequestID" in attrs
    assert len(log_lines(aloft, "flaky")) == 3


def test_async_destinations_on_failure_and_success(aloft):
    sqs, lam = aloft.client("sqs"), aloft.client("lambda")
    fail_url, fail_q = queue(sqs, "failures")
    ok_url, ok_q = queue(sqs, "successes")
    function(aloft, "sometimes", "def handler(e, c):\n    if e.get('fail'):\n        raise ValueError('bad input')\n    return {'done': e['n']}\n")
    lam.put_function_event_invoke_config(FunctionName="sometimes", MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": fail_q}, "OnSuccess": {"Destination": ok_q}})
    lam.invoke(FunctionName="sometimes", InvocationType="Event", Payload=b'{"n": 1}')
    lam.invoke(FunctionName="sometimes", InvocationType="Event", Payload=b'{"n": 2, "fail": true}')
    (ok,) = [json.loads(m["Body"]) for m in drain(sqs, ok_url, n=1)]
    assert ok["requestContext"]["condition"] == "Success" and ok["responsePayload"] == {"done": 1}
    assert ok["requestPayload"] == {"n": 1} and ok["version"] == "1.0"
    (bad,) = [json.loads(m["Body"]) for m in drain(sqs, fail_url, n=1)]
    assert bad["requestContext"]["condition"] == "RetriesExhausted"
    assert bad["requestContext"]["approximateInvokeCount"] == 1
    assert bad["responseContext"]["functionError"] == "Unhandled"
    assert bad["responsePayload"]["errorMessage"] == "bad input"


SDK = """
import json, boto3
def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    table = boto3.resource("dynamodb").Table("items")
    table.put_item(Item={"pk": event["id"], "seen": True})
    return table.get_item(Key={"pk": event["id"]})["Item"]
"""


def test_function_calls_sqs_and_dynamodb_through_boto3(aloft):
    sqs, lam, ddb = aloft.client("sqs"), aloft.client("lambda"), aloft.client("dynamodb")
    url, _ = queue(sqs, "inbox")
    ddb.create_table(TableName="items", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    function(aloft, "sdk", SDK)
    r = lam.invoke(FunctionName="sdk", Payload=json.dumps({"id": "a1"}).encode())
    body = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, body
    assert body == {"pk": "a1", "seen": True}
    assert [json.loads(m["Body"]) for m in drain(sqs, url, n=1)] == [{"id": "a1"}]
    assert ddb.get_item(TableName="items", Key={"pk": {"S": "a1"}})["Item"]["seen"] == {"BOOL": True}
