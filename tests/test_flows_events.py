"""Flows through EventBridge with real functions: a rule → Lambda, a scheduled rule fired by
moving Aloft's clock, and a Scheduler schedule invoking a function."""

import json

from flows import aloft, events_of, function, log_lines  # noqa: F401


def test_rule_to_lambda_with_input_transformer(aloft):
    events, lam = aloft.client("events"), aloft.client("lambda")
    fn = function(aloft, "on-order")
    rule = events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"], "detail-type": ["Order"]}))["RuleArn"]
    lam.add_permission(FunctionName="on-order", StatementId="ev", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule)
    events.put_targets(Rule="orders", Targets=[
        {"Id": "raw", "Arn": fn},
    ])
    r = events.put_events(Entries=[
        {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": 7})},
        {"Source": "other", "DetailType": "Order", "Detail": json.dumps({"id": 8})},
    ])
    assert r["FailedEntryCount"] == 0
    (ev,) = events_of(aloft, "on-order")
    assert ev["detail"] == {"id": 7} and ev["source"] == "shop" and ev["id"] == r["Entries"][0]["EventId"]
    events.put_targets(Rule="orders", Targets=[{"Id": "raw", "Arn": fn, "InputTransformer": {
        "InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": '{"order": <id>, "rule": "<aws.events.rule-name>"}'}}])
    events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": 9})}])
    got = events_of(aloft, "on-order", n=2)
    assert got[1] == {"order": 9, "rule": "orders"}


def test_scheduled_rule_fires_when_the_clock_moves(aloft):
    events = aloft.client("events")
    fn = function(aloft, "cron-job")
    rule = events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule="every-5", Targets=[{"Id": "f", "Arn": fn}])
    aloft.advance(5 * 60 + 1)
    (ev,) = events_of(aloft, "cron-job")
    assert ev["detail-type"] == "Scheduled Event" and ev["source"] == "aws.events"
    assert ev["resources"] == [rule] and ev["detail"] == {}
    aloft.advance(10 * 60)
    assert len(events_of(aloft, "cron-job", n=3)) == 3
    events.disable_rule(Name="every-5")
    aloft.advance(30 * 60)
    assert len(log_lines(aloft, "cron-job")) == 3


def test_scheduler_schedule_invokes_a_function(aloft):
    sch = aloft.client("scheduler")
    fn = function(aloft, "scheduled")
    sch.create_schedule(Name="daily", ScheduleExpression="cron(0 9 * * ? *)", ScheduleExpressionTimezone="Europe/London",
                        FlexibleTimeWindow={"Mode": "OFF"},
                        Target={"Arn": fn, "RoleArn": "arn:aws:iam::000000000000:role/s", "Input": '{"job": "digest"}'})
    aloft.advance(24 * 3600)
    (ev,) = events_of(aloft, "scheduled")
    assert ev == {"job": "digest"}
