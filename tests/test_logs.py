"""CloudWatch Logs: groups, streams, events, filter patterns, retention, tags."""

from __future__ import annotations

import json
import time

import pytest


def now_ms() -> int:
    return int(time.time() * 1000)


def test_groups_streams_and_events(aloft):
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="/app/web", tags={"env": "dev"})
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName="/app/web")
    logs.create_log_stream(logGroupName="/app/web", logStreamName="s1")
    t = now_ms()
    logs.put_log_events(
        logGroupName="/app/web", logStreamName="s1",
        logEvents=[{"timestamp": t + i, "message": f"line {i}"} for i in range(5)],
    )
    groups = logs.describe_log_groups(logGroupNamePrefix="/app")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/app/web"]
    assert groups[0]["arn"].endswith(":log-group:/app/web:*")
    streams = logs.describe_log_streams(logGroupName="/app/web")["logStreams"]
    assert streams[0]["firstEventTimestamp"] == t and streams[0]["lastEventTimestamp"] == t + 4

    page = logs.get_log_events(logGroupName="/app/web", logStreamName="s1", startFromHead=True, limit=2)
    assert [e["message"] for e in page["events"]] == ["line 0", "line 1"]
    page = logs.get_log_events(
        logGroupName="/app/web", logStreamName="s1", nextToken=page["nextForwardToken"], limit=2
    )
    assert [e["message"] for e in page["events"]] == ["line 2", "line 3"]
    tail = logs.get_log_events(logGroupName="/app/web", logStreamName="s1", limit=1)
    assert [e["message"] for e in tail["events"]] == ["line 4"]

    assert logs.list_tags_log_group(logGroupName="/app/web")["tags"] == {"env": "dev"}
    logs.tag_log_group(logGroupName="/app/web", tags={"team": "x"})
    logs.untag_log_group(logGroupName="/app/web", tags=["env"])
    assert logs.list_tags_log_group(logGroupName="/app/web")["tags"] == {"team": "x"}


def test_filter_patterns(aloft):
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="a")
    logs.create_log_stream(logGroupName="g", logStreamName="b")
    t = now_ms()
    logs.put_log_events(logGroupName="g", logStreamName="a", logEvents=[
        {"timestamp": t, "message": "ERROR disk full"},
        {"timestamp": t + 2, "message": json.dumps({"level": "warn", "ms": 300})},
    ])
    logs.put_log_events(logGroupName="g", logStreamName="b", logEvents=[
        {"timestamp": t + 1, "message": "INFO all good"},
        {"timestamp": t + 3, "message": "ERROR retry later"},
    ])

    def msgs(**kw):
        return [e["message"] for e in logs.filter_log_events(logGroupName="g", **kw)["events"]]

    assert msgs(filterPattern="ERROR") == ["ERROR disk full", "ERROR retry later"]
    assert msgs(filterPattern="ERROR -retry") == ["ERROR disk full"]
    assert msgs(filterPattern="?INFO ?disk") == ["ERROR disk full", "INFO all good"]
    assert msgs(filterPattern='{ $.ms > 100 }') == ['{"level": "warn", "ms": 300}']
    assert msgs(logStreamNames=["b"]) == ["INFO all good", "ERROR retry later"]
    assert len(msgs()) == 4


def test_errors_and_retention(aloft):
    logs = aloft.client("logs")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as e:
        logs.describe_log_streams(logGroupName="missing")
    assert e.value.response["Error"]["Message"] == "The specified log group does not exist."
    logs.create_log_group(logGroupName="r")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as e:
        logs.put_log_events(logGroupName="r", logStreamName="nope", logEvents=[{"timestamp": now_ms(), "message": "x"}])
    assert e.value.response["Error"]["Message"] == "The specified log stream does not exist."
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName="r", retentionInDays=2)
    logs.put_retention_policy(logGroupName="r", retentionInDays=1)
    assert logs.describe_log_groups(logGroupNamePrefix="r")["logGroups"][0]["retentionInDays"] == 1
    logs.create_log_stream(logGroupName="r", logStreamName="s")
    logs.put_log_events(logGroupName="r", logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "old soon"}])
    assert len(logs.filter_log_events(logGroupName="r")["events"]) == 1
    aloft.advance(2 * 86400)
    assert logs.filter_log_events(logGroupName="r")["events"] == []
    logs.delete_log_group(logGroupName="r")
    assert logs.describe_log_groups(logGroupNamePrefix="r")["logGroups"] == []
