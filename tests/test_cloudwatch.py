"""CloudWatch metrics and alarms over rpcv2-cbor (boto3's default) and the CLI: statistics,
metric math, ListMetrics, alarms evaluated on Aloft's clock with SNS actions and events."""

import datetime as dt
import json
import time

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def cw(aloft):
    return aloft.client("cloudwatch")


def code(exc):
    return exc.value.response["Error"]["Code"]


def now():
    return dt.datetime.now(dt.timezone.utc)


def test_put_and_get_statistics(cw):
    t = now().replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    dims = [{"Name": "Service", "Value": "api"}]
    cw.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t, "Value": v, "Unit": "Milliseconds"}
        for v in (10, 20, 30, 40)
    ] + [{"MetricName": "Latency", "Dimensions": dims, "Timestamp": t + dt.timedelta(minutes=1),
          "StatisticValues": {"SampleCount": 2, "Sum": 100, "Minimum": 40, "Maximum": 60}, "Unit": "Milliseconds"}])
    out = cw.get_metric_statistics(
        Namespace="App", MetricName="Latency", Dimensions=dims, StartTime=t, EndTime=t + dt.timedelta(minutes=2),
        Period=60, Statistics=["Sum", "Average", "Minimum", "Maximum", "SampleCount"], ExtendedStatistics=["p50"],
    )
    pts = sorted(out["Datapoints"], key=lambda d: d["Timestamp"])
    assert out["Label"] == "Latency" and len(pts) == 2
    first = pts[0]
    assert (first["Sum"], first["Average"], first["Minimum"], first["Maximum"], first["SampleCount"]) == (100, 25, 10, 40, 4)
    assert first["Unit"] == "Milliseconds" and first["ExtendedStatistics"]["p50"] == 20
    assert (pts[1]["Sum"], pts[1]["Average"], pts[1]["Maximum"]) == (100, 50, 60)
    # Dimensions must match exactly.
    none = cw.get_metric_statistics(Namespace="App", MetricName="Latency", StartTime=t,
                                    EndTime=t + dt.timedelta(minutes=2), Period=60, Statistics=["Sum"])
    assert none["Datapoints"] == []


def test_errors(cw):
    with pytest.raises(ClientError) as e:
        cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[{"MetricName": "m", "Value": 1}])
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        cw.put_metric_data(Namespace="App", MetricData=[{"MetricName": "m", "Value": 1,
                           "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])
    assert code(e) == "InvalidParameterCombination"
    t = now()
    with pytest.raises(ClientError) as e:
        cw.get_metric_statistics(Namespace="App", MetricName="m", StartTime=t - dt.timedelta(hours=1),
                                 EndTime=t, Period=45, Statistics=["Sum"])
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        cw.get_metric_statistics(Namespace="App", MetricName="m", StartTime=t, EndTime=t - dt.timedelta(hours=1),
                                 Period=60, Statistics=["Sum"])
    assert code(e) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName="nope", StateValue="ALARM", StateReason="x")
    assert code(e) == "ResourceNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_metrics(cw):
    cw.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Orders", "Dimensions": [{"Name": "Region", "Value": "eu"}], "Value": 1},
        {"MetricName": "Orders", "Dimensions": [{"Name": "Region", "Value": "us"}], "Value": 1},
        {"MetricName": "Refunds", "Value": 1},
    ])
    cw.put_metric_data(Namespace="Other", MetricData=[{"MetricName": "X", "Value": 1}])
    shop = cw.list_metrics(Namespace="Shop")["Metrics"]
    assert sorted(m["MetricName"] for m in shop) == ["Orders", "Orders", "Refunds"]
    eu = cw.list_metrics(Namespace="Shop", Dimensions=[{"Name": "Region", "Value": "eu"}])["Metrics"]
    assert eu == [{"Namespace": "Shop", "MetricName": "Orders", "Dimensions": [{"Name": "Region", "Value": "eu"}]}]
    assert len(cw.list_metrics(MetricName="Orders", Dimensions=[{"Name": "Region"}])["Metrics"]) == 2
    assert len(cw.list_metrics(RecentlyActive="PT3H")["Metrics"]) == 4


def test_get_metric_data_with_math(cw):
    t = now().replace(second=0, microsecond=0) - dt.timedelta(minutes=3)
    data = []
    for minute, (errors, calls) in enumerate([(1, 10), (3, 20), (0, 5)]):
        ts = t + dt.timedelta(minutes=minute)
        data += [{"MetricName": "Errors", "Timestamp": ts, "Value": errors},
                 {"MetricName": "Calls", "Timestamp": ts, "Value": calls}]
    cw.put_metric_data(Namespace="Svc", MetricData=data)
    stat = lambda name: {"Metric": {"Namespace": "Svc", "MetricName": name}, "Period": 60, "Stat": "Sum"}  # noqa: E731
    out = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "e", "MetricStat": stat("Errors"), "ReturnData": False},
            {"Id": "c", "MetricStat": stat("Calls")},
            {"Id": "rate", "Expression": "100 * e / c", "Label": "Error rate"},
            {"Id": "total", "Expression": "SUM([e, c])"},
        ],
        StartTime=t, EndTime=t + dt.timedelta(minutes=3), ScanBy="TimestampAscending",
    )
    res = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(res) == {"c", "rate", "total"}
    assert res["c"]["Values"] == [10, 20, 5] and res["c"]["Label"] == "Calls"
    assert res["rate"]["Values"] == [10, 15, 0] and res["rate"]["Label"] == "Error rate"
    assert res["total"]["Values"] == [11, 23, 5]
    assert res["rate"]["StatusCode"] == "Complete"
    desc = cw.get_metric_data(MetricDataQueries=[{"Id": "c", "MetricStat": stat("Calls")}],
                              StartTime=t, EndTime=t + dt.timedelta(minutes=3))
    assert desc["MetricDataResults"][0]["Values"] == [5, 20, 10]
    with pytest.raises(ClientError) as e:
        cw.get_metric_data(MetricDataQueries=[{"Id": "x", "Expression": "nope * 2"}], StartTime=t,
                           EndTime=t + dt.timedelta(minutes=3))
    assert code(e) == "InvalidParameterValue"


def queue_for_topic(aloft):
    sns, sqs = aloft.client("sns"), aloft.client("sqs")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    url = sqs.create_queue(QueueName="alarm-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return topic, sqs, url


def receive(sqs, url, n=1):
    got = []
    deadline = time.time() + 10
    while len(got) < n and time.time() < deadline:
        batch = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got += batch
    return [json.loads(m["Body"]) for m in got]


def test_alarm_fires_on_the_clock_and_notifies_sns(aloft, cw):
    topic, sqs, url = queue_for_topic(aloft)
    cw.put_metric_alarm(
        AlarmName="high-cpu", AlarmDescription="CPU too high", Namespace="App", MetricName="CPU",
        Dimensions=[{"Name": "Host", "Value": "a"}], Statistic="Average", Period=60, EvaluationPeriods=1,
        Threshold=80, ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic], OKActions=[topic],
        Tags=[{"Key": "team", "Value": "ops"}],
    )
    alarm = cw.describe_alarms(AlarmNames=["high-cpu"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:high-cpu"
    assert alarm["Threshold"] == 80 and alarm["Dimensions"] == [{"Name": "Host", "Value": "a"}]
    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [{"Key": "team", "Value": "ops"}]

    cw.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}], "Value": v} for v in (90, 96)])
    # The period holding the data is not evaluated until it is over.
    assert cw.describe_alarms(AlarmNames=["high-cpu"])["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"
    aloft.advance(60)
    alarm = cw.describe_alarms(AlarmNames=["high-cpu"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [93.0")
    msgs = receive(sqs, url)
    assert msgs and msgs[0]["AlarmName"] == "high-cpu" and msgs[0]["NewStateValue"] == "ALARM"
    assert msgs[0]["OldStateValue"] == "INSUFFICIENT_DATA" and msgs[0]["Trigger"]["Threshold"] == 80

    cw.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "a"}], "Value": 20}])
    aloft.advance(60)
    assert cw.describe_alarms(StateValue="OK")["MetricAlarms"][0]["AlarmName"] == "high-cpu"
    assert receive(sqs, url)[0]["NewStateValue"] == "OK"
    # No data at all in the next period: missing data makes it INSUFFICIENT_DATA.
    aloft.advance(60)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"
    hist = cw.describe_alarm_history(AlarmName="high-cpu", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in hist][:3] == [
        "Alarm updated from OK to INSUFFICIENT_DATA", "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM"]


def test_treat_missing_and_m_of_n(aloft, cw):
    cw.put_metric_alarm(
        AlarmName="errors", Namespace="App", MetricName="Errors", Statistic="Sum", Period=60,
        EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    aloft.advance(60)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "OK"
    cw.put_metric_data(Namespace="App", MetricData=[{"MetricName": "Errors", "Value": 5}])
    aloft.advance(60)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "OK"
    cw.put_metric_data(Namespace="App", MetricData=[{"MetricName": "Errors", "Value": 5}])
    aloft.advance(60)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"


def test_set_alarm_state_delete_and_actions(aloft, cw):
    topic, sqs, url = queue_for_topic(aloft)
    cw.put_metric_alarm(AlarmName="manual", Namespace="App", MetricName="M", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[topic], TreatMissingData="ignore")
    cw.set_alarm_state(AlarmName="manual", StateValue="ALARM", StateReason="testing")
    a = cw.describe_alarms()["MetricAlarms"][0]
    assert a["StateValue"] == "ALARM" and a["StateReason"] == "testing"
    assert receive(sqs, url)[0]["NewStateReason"] == "testing"
    cw.disable_alarm_actions(AlarmNames=["manual"])
    assert cw.describe_alarms()["MetricAlarms"][0]["ActionsEnabled"] is False
    with pytest.raises(ClientError) as e:
        cw.set_alarm_state(AlarmName="manual", StateValue="OK", StateReason="r", StateReasonData="{bad")
    assert code(e) == "InvalidFormat"
    assert len(cw.describe_alarms_for_metric(Namespace="App", MetricName="M")["MetricAlarms"]) == 1
    with pytest.raises(ClientError) as e:
        cw.delete_alarms(AlarmNames=["manual", "ghost"])
    assert code(e) == "ResourceNotFound"
    cw.delete_alarms(AlarmNames=["manual"])
    assert cw.describe_alarms()["MetricAlarms"] == []


def test_math_alarm(aloft, cw):
    cw.put_metric_alarm(
        AlarmName="rate", EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "e", "MetricStat": {"Metric": {"Namespace": "Svc", "MetricName": "Errors"}, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "c", "MetricStat": {"Metric": {"Namespace": "Svc", "MetricName": "Calls"}, "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "r", "Expression": "100 * e / c", "ReturnData": True},
        ],
    )
    cw.put_metric_data(Namespace="Svc", MetricData=[{"MetricName": "Errors", "Value": 3}, {"MetricName": "Calls", "Value": 10}])
    aloft.advance(60)
    assert cw.describe_alarms()["MetricAlarms"][0]["StateValue"] == "ALARM"


def test_cli(aloft):
    aloft.cli("cloudwatch", "put-metric-data", "--namespace", "Cli", "--metric-name", "Hits", "--value", "3")
    out = aloft.cli_json("cloudwatch", "list-metrics", "--namespace", "Cli")
    assert out["Metrics"][0]["MetricName"] == "Hits"


def test_query_protocol_for_old_clients(aloft):
    """Older SDKs send CloudWatch's query protocol: form bodies, XML answers."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def call(params):
        req = AWSRequest(method="POST", url=aloft.url + "/", data=params,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials("test", "test"), "monitoring", "us-east-1").add_auth(req)
        return requests.post(aloft.url + "/", data=req.body, headers=dict(req.headers), timeout=10)

    r = call({"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "Q",
              "MetricData.member.1.MetricName": "Old", "MetricData.member.1.Value": "7"})
    assert r.status_code == 200, r.text
    r = call({"Action": "ListMetrics", "Version": "2010-08-01", "Namespace": "Q"})
    assert r.status_code == 200 and "<MetricName>Old</MetricName>" in r.text
    r = call({"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "AWS/X",
              "MetricData.member.1.MetricName": "Old", "MetricData.member.1.Value": "7"})
    assert r.status_code == 400 and "<Code>InvalidParameterValue</Code>" in r.text


def test_alarms_survive_restart_with_data_dir(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    cw = a.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="keep", Namespace="App", MetricName="M", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="keep", StateValue="ALARM", StateReason="kept")
    cw.put_metric_data(Namespace="Keep", MetricData=[{"MetricName": "Hits", "Value": 4}])
    a.kill()
    if not any(p.suffix in (".redb", ".db") for p in tmp_path.rglob("*")):
        pytest.skip("this build has no durable journal yet")
    cw = aloft_factory(data_dir=tmp_path).client("cloudwatch")
    alarm = cw.describe_alarms(AlarmNames=["keep"])["MetricAlarms"][0]
    assert alarm["AlarmArn"].endswith(":alarm:keep")
    assert cw.list_metrics(Namespace="Keep")["Metrics"][0]["MetricName"] == "Hits"
