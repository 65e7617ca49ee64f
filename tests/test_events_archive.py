"""EventBridge archives and replays with boto3: archiving by pattern, counts and sizes,
retention on Aloft's clock, replaying a time window into rules (FilterArns), `replay-name`,
and AWS's errors."""

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

BUS = "arn:aws:events:us-east-1:000000000000:event-bus/default"


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
        got += sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
        if len(got) >= n:
            break
    return [json.loads(m["Body"]) for m in got]


def code(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def put(events, total, when):
    r = events.put_events(
        Entries=[{"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": total}), "Time": when}]
    )
    assert r["FailedEntryCount"] == 0
    return r["Entries"][0]["EventId"]


def wait_replay(events, name):
    for _ in range(100):
        r = events.describe_replay(ReplayName=name)
        if r["State"] in ("COMPLETED", "CANCELLED", "FAILED"):
            return r
        time.sleep(0.02)
    raise AssertionError(f"replay {name} did not finish: {r['State']}")


def test_archive_lifecycle_and_errors(events):
    r = events.create_archive(
        ArchiveName="orders",
        EventSourceArn=BUS,
        EventPattern=json.dumps({"source": ["shop"]}),
        RetentionDays=3,
        Description="all orders",
    )
    assert r["ArchiveArn"] == "arn:aws:events:us-east-1:000000000000:archive/orders"
    assert r["State"] == "ENABLED"
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName="orders", EventSourceArn=BUS)
    assert code(e) == ("ResourceAlreadyExistsException", "Archive orders already exists.")
    with pytest.raises(ClientError) as e:
        events.create_archive(
            ArchiveName="nobus", EventSourceArn="arn:aws:events:us-east-1:000000000000:event-bus/nope"
        )
    assert code(e) == ("ResourceNotFoundException", "Event bus nope does not exist.")
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName="bad", EventSourceArn=BUS, EventPattern='{"source": "shop"}')
    assert code(e)[0] == "InvalidEventPatternException"
    with pytest.raises(ClientError) as e:
        events.describe_archive(ArchiveName="missing")
    assert code(e) == ("ResourceNotFoundException", "Archive missing does not exist.")

    d = events.describe_archive(ArchiveName="orders")
    assert d["EventSourceArn"] == BUS and d["RetentionDays"] == 3 and d["Description"] == "all orders"
    assert d["EventCount"] == 0 and d["SizeBytes"] == 0 and d["State"] == "ENABLED"
    assert json.loads(d["EventPattern"]) == {"source": ["shop"]}

    events.update_archive(ArchiveName="orders", RetentionDays=1, EventPattern=json.dumps({"source": ["x"]}))
    d = events.describe_archive(ArchiveName="orders")
    assert d["RetentionDays"] == 1 and json.loads(d["EventPattern"]) == {"source": ["x"]}

    events.create_archive(ArchiveName="other", EventSourceArn=BUS)
    names = [a["ArchiveName"] for a in events.list_archives()["Archives"]]
    assert names == ["orders", "other"]
    assert [a["ArchiveName"] for a in events.list_archives(NamePrefix="oth")["Archives"]] == ["other"]
    assert len(events.list_archives(EventSourceArn=BUS)["Archives"]) == 2
    with pytest.raises(ClientError) as e:
        events.list_archives(NamePrefix="o", State="ENABLED")
    assert code(e)[0] == "ValidationException"

    events.delete_archive(ArchiveName="other")
    with pytest.raises(ClientError) as e:
        events.delete_archive(ArchiveName="other")
    assert code(e)[0] == "ResourceNotFoundException"


def test_archive_counts_matching_events_and_expires_them(aloft, events):
    events.create_archive(
        ArchiveName="big", EventSourceArn=BUS, EventPattern=json.dumps({"detail": {"total": [{"numeric": [">", 100]}]}}),
        RetentionDays=1,
    )
    now = datetime.now(timezone.utc)
    put(events, 150, now)
    put(events, 5, now)
    put(events, 200, now)
    d = events.describe_archive(ArchiveName="big")
    assert d["EventCount"] == 2 and d["SizeBytes"] > 100
    assert events.list_archives()["Archives"][0]["EventCount"] == 2
    aloft.advance(2 * 86400)
    assert events.describe_archive(ArchiveName="big")["EventCount"] == 0


def test_replay_time_window_to_sqs_with_replay_name(events, sqs):
    url, qarn = queue(sqs, "replayed")
    rule = events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))["RuleArn"]
    arch = events.create_archive(ArchiveName="all", EventSourceArn=BUS)["ArchiveArn"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    old = put(events, 1, now - timedelta(hours=2))
    mid = put(events, 2, now - timedelta(hours=1))
    put(events, 3, now - timedelta(minutes=1))
    assert events.describe_archive(ArchiveName="all")["EventCount"] == 3
    # The rule's target arrives after the events: only the replay can reach the queue.
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": qarn}])

    r = events.start_replay(
        ReplayName="window",
        EventSourceArn=arch,
        EventStartTime=now - timedelta(hours=3),
        EventEndTime=now - timedelta(minutes=30),
        Destination={"Arn": BUS, "FilterArns": [rule]},
    )
    assert r["ReplayArn"] == "arn:aws:events:us-east-1:000000000000:replay/window"
    assert r["State"] == "STARTING"
    d = wait_replay(events, "window")
    assert d["State"] == "COMPLETED" and d["EventSourceArn"] == arch
    assert d["Destination"] == {"Arn": BUS, "FilterArns": [rule]}
    assert d["EventLastReplayedTime"] == now - timedelta(hours=1)
    got = drain(sqs, url, 2)
    assert sorted(e["id"] for e in got) == sorted([old, mid])
    assert {e["replay-name"] for e in got} == {"window"}
    assert sorted(e["detail"]["total"] for e in got) == [1, 2]
    # Replayed events never go back into the archive.
    assert events.describe_archive(ArchiveName="all")["EventCount"] == 3

    listed = events.list_replays()["Replays"]
    assert [(x["ReplayName"], x["State"]) for x in listed] == [("window", "COMPLETED")]
    assert events.list_replays(State="RUNNING")["Replays"] == []
    with pytest.raises(ClientError) as e:
        events.cancel_replay(ReplayName="window")
    assert code(e)[0] == "IllegalStatusException"
    with pytest.raises(ClientError) as e:
        events.start_replay(
            ReplayName="window", EventSourceArn=arch, EventStartTime=now - timedelta(hours=3),
            EventEndTime=now - timedelta(hours=2), Destination={"Arn": BUS},
        )
    assert code(e) == ("ResourceAlreadyExistsException", "Replay window already exists.")


def test_replay_goes_only_to_filtered_rules(events, sqs):
    url1, q1 = queue(sqs, "one")
    url2, q2 = queue(sqs, "two")
    r1 = events.put_rule(Name="r1", EventPattern=json.dumps({"source": ["shop"]}))["RuleArn"]
    events.put_rule(Name="r2", EventPattern=json.dumps({"source": ["shop"]}))
    arch = events.create_archive(ArchiveName="a", EventSourceArn=BUS)["ArchiveArn"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    put(events, 7, now - timedelta(minutes=10))
    events.put_targets(Rule="r1", Targets=[{"Id": "q", "Arn": q1}])
    events.put_targets(Rule="r2", Targets=[{"Id": "q", "Arn": q2}])
    events.start_replay(
        ReplayName="only-r1", EventSourceArn=arch, EventStartTime=now - timedelta(hours=1),
        EventEndTime=now - timedelta(minutes=1), Destination={"Arn": BUS, "FilterArns": [r1]},
    )
    wait_replay(events, "only-r1")
    assert [e["replay-name"] for e in drain(sqs, url1)] == ["only-r1"]
    assert sqs.receive_message(QueueUrl=url2, WaitTimeSeconds=1).get("Messages", []) == []
    # Without FilterArns every rule of the bus gets the replay.
    events.start_replay(
        ReplayName="all-rules", EventSourceArn=arch, EventStartTime=now - timedelta(hours=1),
        EventEndTime=now - timedelta(minutes=1), Destination={"Arn": BUS},
    )
    wait_replay(events, "all-rules")
    assert [e["replay-name"] for e in drain(sqs, url1)] == ["all-rules"]
    assert [e["replay-name"] for e in drain(sqs, url2)] == ["all-rules"]


def test_replay_errors(events):
    arch = events.create_archive(ArchiveName="a", EventSourceArn=BUS)["ArchiveArn"]
    events.create_event_bus(Name="side")
    now = datetime.now(timezone.utc)
    base = {"EventSourceArn": arch, "Destination": {"Arn": BUS}}
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName="r", EventStartTime=now - timedelta(hours=1), EventEndTime=now - timedelta(hours=2), **base)
    assert code(e) == (
        "ValidationException",
        "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
    )
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName="r", EventStartTime=now - timedelta(hours=1), EventEndTime=now + timedelta(hours=1), **base)
    assert code(e) == (
        "ValidationException",
        "Parameter EventEndTime is not valid. Reason: EventEndTime cannot be in the future.",
    )
    with pytest.raises(ClientError) as e:
        events.start_replay(
            ReplayName="r", EventSourceArn=arch, EventStartTime=now - timedelta(hours=2),
            EventEndTime=now - timedelta(hours=1),
            Destination={"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/side"},
        )
    assert code(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        events.start_replay(
            ReplayName="r", EventSourceArn="arn:aws:events:us-east-1:000000000000:archive/none",
            EventStartTime=now - timedelta(hours=2), EventEndTime=now - timedelta(hours=1), Destination={"Arn": BUS},
        )
    assert code(e) == ("ResourceNotFoundException", "Archive none does not exist.")
    with pytest.raises(ClientError) as e:
        events.describe_replay(ReplayName="none")
    assert code(e) == ("ResourceNotFoundException", "Replay none does not exist.")
    with pytest.raises(ClientError) as e:
        events.cancel_replay(ReplayName="none")
    assert code(e)[0] == "ResourceNotFoundException"


def test_archived_events_survive_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    ev = a.client("events")
    ev.create_archive(ArchiveName="kept", EventSourceArn=BUS, EventPattern=json.dumps({"source": ["shop"]}))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    put(ev, 1, now - timedelta(minutes=5))
    put(ev, 2, now - timedelta(minutes=4))
    before = ev.describe_archive(ArchiveName="kept")
    assert before["EventCount"] == 2
    a.stop()
    b = aloft_factory(data_dir=tmp_path)
    ev = b.client("events")
    after = ev.describe_archive(ArchiveName="kept")
    assert (after["EventCount"], after["SizeBytes"]) == (2, before["SizeBytes"])
    put(ev, 3, now - timedelta(minutes=3))
    assert ev.describe_archive(ArchiveName="kept")["EventCount"] == 3
    ev.delete_archive(ArchiveName="kept")
    b.stop()
    c = aloft_factory(data_dir=tmp_path)
    with pytest.raises(ClientError) as e:
        c.client("events").describe_archive(ArchiveName="kept")
    assert code(e)[0] == "ResourceNotFoundException"
