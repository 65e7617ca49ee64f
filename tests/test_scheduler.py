"""EventBridge Scheduler (rest-json) with boto3 and the CLI: groups, schedules, and invocations
into SQS, SNS, Lambda and EventBridge fired by moving Aloft's clock."""

import datetime as dt
import json
import time

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/scheduler"
OFF = {"Mode": "OFF"}


@pytest.fixture
def sch(aloft):
    return aloft.client("scheduler")


@pytest.fixture
def sqs(aloft):
    return aloft.client("sqs")


def queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def receive(sqs, url, n=1, wait=3, **kw):
    got = []
    deadline = time.time() + wait
    while len(got) < n and time.time() < deadline:
        batch = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10, **kw).get("Messages", [])
        for m in batch:  # deleted, so that moving the clock does not bring them back
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got += batch
    return got


def error(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def server_now(aloft):
    """Aloft's clock (it may have been moved), read from a schedule's creation date."""
    sch = aloft.client("scheduler")
    sch.create_schedule_group(Name="clock-probe")
    t = sch.get_schedule_group(Name="clock-probe")["CreationDate"]
    sch.delete_schedule_group(Name="clock-probe")
    return t


def test_groups_and_tags(sch):
    groups = sch.list_schedule_groups()["ScheduleGroups"]
    assert [g["Name"] for g in groups] == ["default"]
    assert groups[0]["Arn"] == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/default"
    arn = sch.create_schedule_group(Name="jobs", Tags=[{"Key": "team", "Value": "a"}])["ScheduleGroupArn"]
    assert arn == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/jobs"
    g = sch.get_schedule_group(Name="jobs")
    assert g["State"] == "ACTIVE" and isinstance(g["CreationDate"], dt.datetime)
    with pytest.raises(ClientError) as e:
        sch.create_schedule_group(Name="jobs")
    assert error(e) == ("ConflictException", "Schedule group jobs already exists.", 409)
    sch.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    sch.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sch.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    page = sch.list_schedule_groups(MaxResults=1)
    assert len(page["ScheduleGroups"]) == 1 and "NextToken" in page
    rest = sch.list_schedule_groups(NextToken=page["NextToken"])
    assert [g["Name"] for g in page["ScheduleGroups"] + rest["ScheduleGroups"]] == ["default", "jobs"]
    sch.create_schedule(Name="s", GroupName="jobs", ScheduleExpression="rate(1 hour)",
                        Target={"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": ROLE}, FlexibleTimeWindow=OFF)
    sch.delete_schedule_group(Name="jobs")
    with pytest.raises(ClientError) as e:
        sch.get_schedule_group(Name="jobs")
    assert error(e) == ("ResourceNotFoundException", "Schedule group jobs does not exist.", 404)
    assert sch.list_schedules()["Schedules"] == [], "a group's schedules go with it"
    with pytest.raises(ClientError) as e:
        sch.delete_schedule_group(Name="default")
    assert error(e)[0] == "ValidationException"


def test_schedule_crud_defaults_and_errors(sch):
    target = {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": ROLE, "Input": "hi"}
    arn = sch.create_schedule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)",
                              ScheduleExpressionTimezone="Europe/Paris", Target=target,
                              FlexibleTimeWindow=OFF, Description="d")["ScheduleArn"]
    assert arn == "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nightly"
    s = sch.get_schedule(Name="nightly")
    assert s["State"] == "ENABLED" and s["GroupName"] == "default" and s["ActionAfterCompletion"] == "NONE"
    assert s["ScheduleExpressionTimezone"] == "Europe/Paris" and s["Description"] == "d"
    assert s["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert s["FlexibleTimeWindow"] == {"Mode": "OFF"}
    with pytest.raises(ClientError) as e:
        sch.create_schedule(Name="nightly", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF)
    assert error(e) == ("ConflictException", "Schedule nightly already exists.", 409)
    sch.update_schedule(Name="nightly", ScheduleExpression="rate(2 hours)", Target=target,
                        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}, State="DISABLED")
    s2 = sch.get_schedule(Name="nightly")
    assert s2["ScheduleExpression"] == "rate(2 hours)" and s2["State"] == "DISABLED"
    assert s2["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert s2["CreationDate"] == s["CreationDate"] and "ScheduleExpressionTimezone" not in s2
    assert [x["Name"] for x in sch.list_schedules(State="DISABLED")["Schedules"]] == ["nightly"]
    assert sch.list_schedules(State="ENABLED")["Schedules"] == []
    summary = sch.list_schedules(NamePrefix="night")["Schedules"][0]
    assert summary["Target"] == {"Arn": target["Arn"]} and summary["GroupName"] == "default"

    bad = [
        (dict(ScheduleExpression="rate(5 weeks)"), "Invalid Schedule Expression rate(5 weeks)."),
        (dict(ScheduleExpression="cron(0 2 * * * *)"), "Invalid Schedule Expression cron(0 2 * * * *)."),
        (dict(ScheduleExpression="rate(1 hour)", ScheduleExpressionTimezone="Mars/Base"), "Invalid time zone: Mars/Base"),
        (dict(ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "FLEXIBLE"}),
         "MaximumWindowInMinutes must be provided when Mode is FLEXIBLE."),
        (dict(ScheduleExpression="rate(1 hour)", EndDate=dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc)),
         "The EndDate you specify cannot be earlier than the current time."),
    ]
    for kw, msg in bad:
        args = dict(Name="bad", Target=target, FlexibleTimeWindow=OFF)
        args.update(kw)
        with pytest.raises(ClientError) as e:
            sch.create_schedule(**args)
        assert error(e) == ("ValidationException", msg, 400), kw
    with pytest.raises(ClientError) as e:
        sch.create_schedule(Name="x", GroupName="nope", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF)
    assert error(e) == ("ResourceNotFoundException", "Schedule group nope does not exist.", 404)
    with pytest.raises(ClientError) as e:
        sch.create_schedule(Name="bad name!", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF)
    assert error(e)[0] == "ValidationException"
    sch.delete_schedule(Name="nightly")
    with pytest.raises(ClientError) as e:
        sch.get_schedule(Name="nightly")
    assert error(e) == ("ResourceNotFoundException", "Schedule nightly does not exist.", 404)
    with pytest.raises(ClientError) as e:
        sch.update_schedule(Name="nightly", ScheduleExpression="rate(1 hour)", Target=target, FlexibleTimeWindow=OFF)
    assert error(e)[0] == "ResourceNotFoundException"


def test_rate_schedule_sends_to_sqs_on_the_clock(aloft, sch, sqs):
    url, arn = queue(sqs, "ticks")
    sch.create_schedule(
        Name="tick", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow=OFF,
        Target={"Arn": arn, "RoleArn": ROLE,
                "Input": json.dumps({"at": "<aws.scheduler.scheduled-time>", "arn": "<aws.scheduler.schedule-arn>",
                                     "n": "<aws.scheduler.attempt-number>"})},
    )
    first = receive(sqs, url)
    assert len(first) == 1, "a rate schedule without StartDate starts at once"
    body = json.loads(first[0]["Body"])
    assert body["arn"].endswith(":schedule/default/tick") and body["n"] == "1"
    assert body["at"].endswith("Z") and len(body["at"]) == 20
    assert receive(sqs, url, wait=1) == [], "nothing more until five minutes pass"
    aloft.advance(300)
    second = receive(sqs, url)
    assert len(second) == 1
    t1 = dt.datetime.fromisoformat(body["at"].replace("Z", "+00:00"))
    t2 = dt.datetime.fromisoformat(json.loads(second[0]["Body"])["at"].replace("Z", "+00:00"))
    assert (t2 - t1).total_seconds() == 300
    sch.update_schedule(Name="tick", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow=OFF, State="DISABLED",
                        Target={"Arn": arn, "RoleArn": ROLE})
    aloft.advance(600)
    assert receive(sqs, url, wait=1) == [], "a disabled schedule does not fire"


def test_one_time_schedule_in_a_time_zone_deletes_itself(aloft, sch, sqs):
    url, arn = queue(sqs, "once")
    now = dt.datetime.fromtimestamp(server_now(aloft).timestamp(), dt.timezone.utc)
    tokyo = dt.timezone(dt.timedelta(hours=9))
    when = (now + dt.timedelta(hours=2)).astimezone(tokyo).replace(second=0, microsecond=0)
    sch.create_schedule(
        Name="once", ScheduleExpression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="Asia/Tokyo", FlexibleTimeWindow=OFF, ActionAfterCompletion="DELETE",
        Target={"Arn": arn, "RoleArn": ROLE, "Input": "<aws.scheduler.scheduled-time>"},
    )
    aloft.advance(3600)
    assert receive(sqs, url, wait=1) == []
    aloft.advance(3600 + 60)
    got = receive(sqs, url)
    assert [m["Body"] for m in got] == [when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")]
    deadline = time.time() + 3
    while sch.list_schedules()["Schedules"] and time.time() < deadline:
        time.sleep(0.05)
    assert sch.list_schedules()["Schedules"] == [], "ActionAfterCompletion DELETE removes it"


def test_cron_to_event_bus_sns_and_flexible_window(aloft, sch, sqs):
    events, sns = aloft.client("events"), aloft.client("sns")
    url, qarn = queue(sqs, "out")
    events.put_rule(Name="from-scheduler", EventPattern=json.dumps({"source": ["my.scheduler"]}))
    events.put_targets(Rule="from-scheduler", Targets=[{"Id": "q", "Arn": qarn}])
    bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    sch.create_schedule(
        Name="hourly-bus", ScheduleExpression="cron(0 * * * ? *)", FlexibleTimeWindow=OFF,
        Target={"Arn": bus, "RoleArn": ROLE, "Input": json.dumps({"job": "report"}),
                "EventBridgeParameters": {"Source": "my.scheduler", "DetailType": "Tick"}},
    )
    sch.create_schedule(
        Name="hourly-sns", ScheduleExpression="cron(0 * * * ? *)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        Target={"Arn": topic, "RoleArn": ROLE, "Input": "from sns"},
    )
    with pytest.raises(ClientError) as e:
        sch.create_schedule(Name="x", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
                            Target={"Arn": bus, "RoleArn": ROLE})
    assert error(e)[0] == "ValidationException"
    # Past the next hour boundary and its 10-minute flexible window, but not the one after:
    # each hourly schedule fires exactly once, whatever the time of day the test runs.
    now_s = aloft.internal("GET", "clock")["now_ms"] / 1000
    aloft.advance(3600 - now_s % 3600 + 10 * 60 + 1)
    got = receive(sqs, url, n=2)
    bodies = sorted((m["Body"] for m in got), key=len)
    assert bodies[0] == "from sns"
    ev = json.loads(bodies[1])
    assert ev["source"] == "my.scheduler" and ev["detail-type"] == "Tick" and ev["detail"] == {"job": "report"}
    assert ev["resources"] == ["arn:aws:scheduler:us-east-1:000000000000:schedule/default/hourly-bus"]


def test_lambda_target_and_universal_sqs_target(aloft, sch, sqs):
    from test_lambda import create_py

    lam = aloft.client("lambda")
    fn = create_py(lam, name="job", code="import json\ndef handler(e, c):\n    print('EVENT', json.dumps(e))\n")["FunctionArn"]
    url, _ = queue(sqs, "universal")
    sch.create_schedule(Name="fn", ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
                        Target={"Arn": fn, "RoleArn": ROLE, "Input": json.dumps({"hello": "<aws.scheduler.schedule-arn>"})})
    sch.create_schedule(Name="sdk", ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
                        Target={"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": ROLE,
                                "Input": json.dumps({"QueueUrl": url, "MessageBody": "via sdk"})})
    assert [m["Body"] for m in receive(sqs, url)] == ["via sdk"]
    logs = aloft.client("logs")
    deadline, found = time.time() + 15, []
    while not found and time.time() < deadline:
        try:
            found = logs.filter_log_events(logGroupName="/aws/lambda/job", filterPattern="EVENT")["events"]
        except logs.exceptions.ResourceNotFoundException:
            pass
        time.sleep(0.1)
    assert found, "the function was invoked"
    event = json.loads(found[0]["message"].split("EVENT ", 1)[1])
    assert event == {"hello": "arn:aws:scheduler:us-east-1:000000000000:schedule/default/fn"}


def test_failed_invocation_goes_to_the_dead_letter_queue(aloft, sch, sqs):
    dlq_url, dlq = queue(sqs, "dlq")
    sch.create_schedule(
        Name="broken", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:sqs:us-east-1:000000000000:missing", "RoleArn": ROLE, "Input": "lost",
                "DeadLetterConfig": {"Arn": dlq}},
    )
    got = receive(sqs, dlq_url, MessageAttributeNames=["All"])
    assert [m["Body"] for m in got] == ["lost"]
    attrs = {k: v["StringValue"] for k, v in got[0]["MessageAttributes"].items()}
    assert attrs["SCHEDULE_ARN"].endswith(":schedule/default/broken")
    assert attrs["TARGET_ARN"] == "arn:aws:sqs:us-east-1:000000000000:missing"
    assert attrs["ERROR_CODE"] == "QueueDoesNotExist" or "NonExistentQueue" in attrs["ERROR_CODE"]
    inv = aloft.internal("GET", "scheduler/invocations")["invocations"]
    assert inv[-1]["Error"] is not None


def test_cli(aloft):
    out = aloft.cli_json(
        "scheduler", "create-schedule", "--name", "cli", "--schedule-expression", "rate(10 minutes)",
        "--flexible-time-window", '{"Mode": "OFF"}',
        "--target", json.dumps({"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": ROLE}),
    )
    assert out["ScheduleArn"].endswith(":schedule/default/cli")
    got = aloft.cli_json("scheduler", "get-schedule", "--name", "cli")
    assert got["ScheduleExpression"] == "rate(10 minutes)"
    names = [s["Name"] for s in aloft.cli_json("scheduler", "list-schedules")["Schedules"]]
    assert names == ["cli"]
