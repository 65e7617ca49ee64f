"""Helpers for the cross-service flow tests: functions that record what they receive in their
logs, and polling for side effects (no sleeps beyond short polls; the clock is moved instead)."""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile

import pytest

ROLE = "arn:aws:iam::000000000000:role/flow"

# Functions print "EVENT <json>" for each event they get.
RECORDER = """
import json, os
def handler(event, context):
    print("EVENT " + json.dumps(event))
    return {"ok": True}
"""


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buf.getvalue()


@pytest.fixture
def aloft(aloft_factory):
    """Aloft whose Python functions run on this interpreter (which has boto3)."""
    return aloft_factory(args=["--set", f"lambda.python={sys.executable}"])


def function(aloft, name: str, code: str = RECORDER, **kw) -> str:
    lam = aloft.client("lambda")
    args = dict(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                Code={"ZipFile": zip_of({"app.py": code})}, Timeout=30)
    args.update(kw)
    return lam.create_function(**args)["FunctionArn"]


def wait_for(check, timeout: float = 15.0, what: str = "condition"):
    deadline = time.time() + timeout
    while True:
        v = check()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def log_lines(aloft, name: str, marker: str = "EVENT") -> list:
    """The JSON after `marker` in each of the function's log lines, oldest first."""
    logs = aloft.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern=f'"{marker} "')["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    out = []
    for e in events:
        text = e["message"]
        if f"{marker} " in text:
            out.append(json.loads(text.split(f"{marker} ", 1)[1]))
    return out


def events_of(aloft, name: str, n: int = 1, timeout: float = 15.0) -> list:
    return wait_for(lambda: (lambda got: got if len(got) >= n else None)(log_lines(aloft, name)),
                    timeout, f"{n} event(s) in /aws/lambda/{name}")


def queue(sqs, name: str, **attrs):
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def drain(sqs, url, n: int = 1, timeout: float = 5.0, **kw) -> list:
    got = []
    deadline = time.time() + timeout
    while len(got) < n and time.time() < deadline:
        batch = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10, **kw).get("Messages", [])
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got += batch
    return got


def advance_until(aloft, seconds: float, check, timeout: float = 30.0, what: str = "condition"):
    """Moves the clock by `seconds`, again each second until `check()` holds: a retry timer
    may start just after the event that the test saw (the log line comes first)."""
    deadline = time.time() + timeout
    while True:
        aloft.advance(seconds)
        step = time.time() + 1.0
        while time.time() < step:
            v = check()
            if v:
                return v
            time.sleep(0.05)
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
