"""CloudWatch Logs as `aws logs tail` (CLI v2) reads it, space-delimited filter patterns, and
events journaled one by one (they survive a restart with --data-dir)."""

import time



def put(logs, group, stream, messages, t0=None):
    t0 = t0 or int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t0 + i, "message": m} for i, m in enumerate(messages)])


def test_tail_follow_the_way_cli_v2_polls(aloft):
    """`aws logs tail G --follow` pages FilterLogEvents (interleaved, startTime) and then polls
    again from the last timestamp, de-duplicating by eventId."""
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="/app/web")
    logs.create_log_stream(logGroupName="/app/web", logStreamName="a")
    logs.create_log_stream(logGroupName="/app/web", logStreamName="b")
    now = int(time.time() * 1000)
    put(logs, "/app/web", "a", ["a1", "a2"], now - 5000)
    put(logs, "/app/web", "b", ["b1"], now - 4000)
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupIdentifier="/app/web", interleaved=True, startTime=now - 600_000,
        PaginationConfig={"PageSize": 2})
    seen = [e for p in pages for e in p["events"]]
    assert [e["message"] for e in seen] == ["a1", "a2", "b1"]
    assert all({"logStreamName", "timestamp", "message", "ingestionTime", "eventId"} <= e.keys() for e in seen)
    put(logs, "/app/web", "a", ["a3"], now - 1000)
    again = logs.filter_log_events(logGroupName="/app/web", interleaved=True, startTime=seen[-1]["timestamp"])["events"]
    new = [e["message"] for e in again if e["eventId"] not in {s["eventId"] for s in seen}]
    assert new == ["a3"]
    arn = logs.describe_log_groups(logGroupNamePrefix="/app/web")["logGroups"][0]["arn"]
    by_arn = logs.filter_log_events(logGroupIdentifier=arn.removesuffix(":*"), logStreamNamePrefix="b")["events"]
    assert [e["message"] for e in by_arn] == ["b1"]


def test_space_delimited_patterns(aloft):
    logs = aloft.client("logs")
    logs.create_log_group(logGroupName="access")
    logs.create_log_stream(logGroupName="access", logStreamName="s")
    put(logs, "access", "s", [
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
        '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
        '10.0.0.5 - - [10/Oct/2000:13:50:35 -0700] "POST /login HTTP/1.0" 500 12',
    ])

    def msgs(pattern):
        return [e["message"].split('"')[1] for e in logs.filter_log_events(logGroupName="access", filterPattern=pattern)["events"]]

    assert msgs("[ip, user, username, timestamp, request, status_code = 4*, bytes]") == ["GET /index.html HTTP/1.0"]
    assert msgs("[..., status_code >= 400, bytes]") == ["GET /index.html HTTP/1.0", "POST /login HTTP/1.0"]
    assert msgs('[ip, user, username, timestamp, request = "*gif*", ...]') == ["GET /apache_pb.gif HTTP/1.0"]
    assert msgs("[ip = 10.*, ...]") == ["POST /login HTTP/1.0"]
    assert msgs("[..., bytes > 2000]") == ["GET /apache_pb.gif HTTP/1.0"]
    out = aloft.cli_json("logs", "filter-log-events", "--log-group-name", "access",
                         "--filter-pattern", "[..., status_code = 500, bytes]")
    assert len(out["events"]) == 1


def test_events_survive_a_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    logs = a.client("logs")
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    put(logs, "g", "s", ["one", "two"])
    put(logs, "g", "s", ["three"])
    a.stop()
    b = aloft_factory(data_dir=tmp_path)
    got = b.client("logs").get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["one", "two", "three"]
