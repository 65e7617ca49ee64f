"""EventBridge (json 1.1) with boto3: buses, rules, patterns, targets (SQS, SNS, another bus),
input shaping, scheduled rules fired by moving Aloft's clock."""

import json

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def events(aloft):
    return aloft.client("events")


@pytest.fixture
def sqs(aloft):
    return aloft.client("sqs")


def queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(sqs, url, n=1):
    got = []
    for _ in range(5):
        got += sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=10).get("Messages", [])
        if len(got) >= n:
            break
    return [json.loads(m["Body"]) for m in got]


def test_rule_routes_matching_events_to_sqs(events, sqs):
    url, arn = queue(sqs, "ev")
    rule = events.put_rule(
        Name="orders",
        EventPattern=json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}),
    )["RuleArn"]
    assert rule == "arn:aws:events:us-east-1:000000000000:rule/orders"
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn}])
    assert events.list_targets_by_rule(Rule="orders")["Targets"] == [{"Id": "q", "Arn": arn}]
    r = events.put_events(
        Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 150})},
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 5})},
            {"Source": "shop", "DetailType": "Order", "Detail": "not json"},
            {"DetailType": "Order", "Detail": "{}"},
        ]
    )
    assert r["FailedEntryCount"] == 2
    assert r["Entries"][2]["ErrorCode"] == "MalformedDetail"
    assert r["Entries"][3]["ErrorCode"] == "InvalidArgument"
    got = drain(sqs, url)
    assert len(got) == 1
    ev = got[0]
    assert ev["id"] == r["Entries"][0]["EventId"]
    assert ev["detail"] == {"total": 150} and ev["detail-type"] == "Order" and ev["source"] == "shop"
    assert ev["account"] == "000000000000" and ev["region"] == "us-east-1" and ev["version"] == "0"
    assert ev["time"].endswith("Z") and len(ev["time"]) == 20
    desc = events.describe_rule(Name="orders")
    assert desc["State"] == "ENABLED" and desc["EventBusName"] == "default"
    events.disable_rule(Name="orders")
    events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 500})}])
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name="orders")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    events.remove_targets(Rule="orders", Ids=["q"])
    events.delete_rule(Name="orders")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="orders")


def test_input_transformer_and_custom_bus(events, sqs):
    url, arn = queue(sqs, "t")
    bus_arn = events.create_event_bus(Name="app")["EventBusArn"]
    assert bus_arn == "arn:aws:events:us-east-1:000000000000:event-bus/app"
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name="app")
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["app", "default"]
    events.put_rule(Name="r", EventBusName="app", EventPattern=json.dumps({"detail-type": [{"prefix": "user."}]}))
    events.put_targets(
        Rule="r",
        EventBusName="app",
        Targets=[{
            "Id": "t",
            "Arn": arn,
            "InputTransformer": {
                "InputPathsMap": {"who": "$.detail.name", "kind": "$.detail-type"},
                "InputTemplate": '{"greeting": "hello <who>", "kind": "<kind>"}',
            },
        }],
    )
    # The default bus has no such rule; only the app bus routes it.
    events.put_events(Entries=[{"Source": "s", "DetailType": "user.created", "Detail": json.dumps({"name": "ann"}), "EventBusName": "app"}])
    assert drain(sqs, url) == [{"greeting": "hello ann", "kind": "user.created"}]
    # Bus to bus: a rule on default forwards to the app bus.
    events.put_rule(Name="fwd", EventPattern=json.dumps({"source": ["fwd"]}))
    events.put_targets(Rule="fwd", Targets=[{"Id": "b", "Arn": bus_arn}])
    events.put_events(Entries=[{"Source": "fwd", "DetailType": "user.moved", "Detail": json.dumps({"name": "bob"})}])
    assert drain(sqs, url) == [{"greeting": "hello bob", "kind": "user.moved"}]
    with pytest.raises(ClientError):
        events.delete_event_bus(Name="app")


def test_event_to_sns_to_sqs(aloft, events, sqs):
    sns = aloft.client("sns")
    topic = sns.create_topic(Name="ev")["TopicArn"]
    url, arn = queue(sqs, "via-sns")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name="n", EventPattern=json.dumps({"source": ["x"]}))
    events.put_targets(Rule="n", Targets=[{"Id": "sns", "Arn": topic, "InputPath": "$.detail"}])
    events.put_events(Entries=[{"Source": "x", "DetailType": "d", "Detail": json.dumps({"k": 1})}])
    assert drain(sqs, url) == [{"k": 1}]


def test_test_event_pattern(events):
    event = json.dumps({
        "id": "1", "account": "000000000000", "source": "aws.ec2", "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1", "detail-type": "x", "resources": [],
        "detail": {"state": "running", "ip": "10.0.0.5", "name": "Web-1"},
    })
    cases = [
        ({"source": ["aws.ec2"]}, True),
        ({"detail": {"state": [{"anything-but": ["running"]}]}}, False),
        ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
        ({"detail": {"name": [{"equals-ignore-case": "web-1"}]}}, True),
        ({"detail": {"name": [{"wildcard": "Web-*"}]}}, True),
        ({"detail": {"missing": [{"exists": False}]}}, True),
        ({"$or": [{"source": ["nope"]}, {"detail": {"state": [{"suffix": "ing"}]}}]}, True),
    ]
    for pattern, expected in cases:
        assert events.test_event_pattern(EventPattern=json.dumps(pattern), Event=event)["Result"] is expected, pattern
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.test_event_pattern(EventPattern=json.dumps({"source": "not-a-list"}), Event=event)
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name="bad", EventPattern=json.dumps({"a": [{"numeric": [">", "x"]}]}))


def test_scheduled_rule_fires_when_the_clock_moves(aloft, events, sqs):
    url, arn = queue(sqs, "tick")
    events.put_rule(Name="every5", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule="every5", Targets=[{"Id": "q", "Arn": arn}])
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    aloft.advance(301)
    got = drain(sqs, url)
    assert got[0]["source"] == "aws.events" and got[0]["detail-type"] == "Scheduled Event"
    assert got[0]["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/every5"]
    with pytest.raises(ClientError):
        events.put_rule(Name="bad", ScheduleExpression="rate(1 minutes)")
    with pytest.raises(ClientError):
        events.put_rule(Name="bad", ScheduleExpression="cron(0 12 * * * *)")
