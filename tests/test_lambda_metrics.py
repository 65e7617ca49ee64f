"""Lambda's standard metrics (AWS/Lambda) reach CloudWatch after each invocation."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile

import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

CODE = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": True}
"""


def zip_code() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.py", CODE)
    return buf.getvalue()


def stat(cw, metric, dims, statistic="Sum"):
    now = dt.datetime.now(dt.timezone.utc)
    out = cw.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims,
        StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(hours=1),
        Period=7200, Statistics=[statistic],
    )
    pts = out["Datapoints"]
    if statistic == "Maximum":
        return max((p["Maximum"] for p in pts), default=None)
    return sum(p[statistic] for p in pts) if pts else None


def wait_for(fn, expected, timeout=10.0):
    """Metrics are published off the invoke path: poll until they land."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v == expected or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def test_invocations_errors_duration_and_resource_dimension(aloft):
    lam, cw = aloft.client("lambda"), aloft.client("cloudwatch")
    lam.create_function(FunctionName="metered", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_code()}, Publish=True)
    lam.create_alias(FunctionName="metered", Name="live", FunctionVersion="1")
    for payload in ({}, {}, {"fail": True}):
        lam.invoke(FunctionName="metered", Payload=json.dumps(payload).encode())
    lam.invoke(FunctionName="metered", Qualifier="live", Payload=b"{}")

    fn = [{"Name": "FunctionName", "Value": "metered"}]
    assert wait_for(lambda: stat(cw, "Invocations", fn), 4) == 4
    assert stat(cw, "Errors", fn) == 1
    assert stat(cw, "Throttles", fn) == 0
    assert stat(cw, "Duration", fn, "Maximum") > 0
    assert stat(cw, "ConcurrentExecutions", fn, "Maximum") == 1
    # Only the aliased call is counted under Resource.
    res = fn + [{"Name": "Resource", "Value": "metered:live"}]
    assert wait_for(lambda: stat(cw, "Invocations", res), 1) == 1
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/Lambda", Dimensions=fn)["Metrics"]}
    assert {"Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"} <= names


def test_async_invocations_and_throttles_are_counted(aloft):
    lam, cw = aloft.client("lambda"), aloft.client("cloudwatch")
    lam.create_function(FunctionName="async-metered", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_code()})
    lam.invoke(FunctionName="async-metered", InvocationType="Event", Payload=b"{}")
    fn = [{"Name": "FunctionName", "Value": "async-metered"}]
    assert wait_for(lambda: stat(cw, "Invocations", fn), 1) == 1

    lam.put_function_concurrency(FunctionName="async-metered", ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as e:
        lam.invoke(FunctionName="async-metered", Payload=b"{}")
    # boto3 retries a throttle: every attempt is a throttled invocation.
    attempts = e.value.response["ResponseMetadata"]["RetryAttempts"] + 1
    assert wait_for(lambda: stat(cw, "Throttles", fn), attempts) == attempts
    assert stat(cw, "Invocations", fn) == 1
