"""Lambda's init phase: it has its own time limit, so a slow import does not eat the
function's timeout, and Duration excludes it (Init Duration reports it)."""

import json

from flows import aloft, function  # noqa: F401

SLOW_INIT = """
import time
time.sleep(1.5)
def handler(event, context):
    return {"remaining": context.get_remaining_time_in_millis()}
"""


def test_init_time_does_not_count_against_the_timeout(aloft):
    lam = aloft.client("lambda")
    function(aloft, "slow-start", SLOW_INIT, Timeout=1)
    r = lam.invoke(FunctionName="slow-start", Payload=b"{}", LogType="Tail")
    body = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, body
    assert 0 < body["remaining"] <= 1000
    import base64
    tail = base64.b64decode(r["LogResult"]).decode()
    report = [line for line in tail.splitlines() if line.startswith("REPORT")][0]
    init_ms = float(report.split("Init Duration: ")[1].split(" ms")[0])
    duration_ms = float(report.split("\tDuration: ")[1].split(" ms")[0])
    assert init_ms >= 1400 and duration_ms < 1000
