"""API Gateway publishes its standard metrics (AWS/ApiGateway) to CloudWatch."""

import time
from datetime import datetime, timedelta, timezone

import requests

from test_apigateway import mock_method, root_id, url


def stat(cw, name, dims, statistic="Sum"):
    now = datetime.now(timezone.utc) + timedelta(days=1)  # generous: Aloft's clock may be ahead
    points = cw.get_metric_statistics(
        Namespace="AWS/ApiGateway", MetricName=name, Dimensions=dims,
        StartTime=now - timedelta(days=2), EndTime=now, Period=86400 * 2, Statistics=[statistic],
    )["Datapoints"]
    return sum(p[statistic] for p in points) if statistic == "Sum" else points


def test_rest_requests_publish_count_errors_and_latency(aloft):
    apigw, cw = aloft.client("apigateway"), aloft.client("cloudwatch")
    api_id = apigw.create_rest_api(name="metered")["id"]
    mock_method(apigw, api_id, root_id(apigw, api_id), "GET", '{"statusCode": 200}',
                {"200": (None, '{"ok": true}', {})})
    apigw.create_deployment(restApiId=api_id, stageName="prod")

    assert requests.get(url(aloft, api_id, "prod", "/")).status_code == 200
    assert requests.get(url(aloft, api_id, "prod", "/")).status_code == 200
    assert requests.get(url(aloft, api_id, "prod", "/missing")).status_code == 403

    by_api = [{"Name": "ApiName", "Value": "metered"}]
    by_stage = by_api + [{"Name": "Stage", "Value": "prod"}]
    deadline = time.time() + 10  # metrics are published in the background
    while stat(cw, "Count", by_api) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert stat(cw, "Count", by_api) == 3
    assert stat(cw, "Count", by_stage) == 3
    assert stat(cw, "4XXError", by_stage) == 1
    assert stat(cw, "5XXError", by_stage) == 0
    latency = stat(cw, "Latency", by_stage, "Maximum")
    assert latency and latency[0]["Maximum"] > 0
    assert latency[0]["Unit"] == "Milliseconds"
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/ApiGateway")["Metrics"]}
    assert {"Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"} <= names
