"""DynamoDB Streams → Lambda with real functions: records in order, filters, retries with
bisection, and the on-failure destination."""

import json

from flows import aloft, drain, events_of, function, log_lines, queue, wait_for  # noqa: F401


def table(ddb, name="tbl", view="NEW_AND_OLD_IMAGES"):
    d = ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    return d["TableDescription"]["LatestStreamArn"]


def test_stream_records_reach_the_function_in_order(aloft):
    ddb, lam = aloft.client("dynamodb"), aloft.client("lambda")
    stream = table(ddb)
    function(aloft, "on-change")
    lam.create_event_source_mapping(FunctionName="on-change", EventSourceArn=stream, StartingPosition="TRIM_HORIZON",
                                    BatchSize=10, MaximumBatchingWindowInSeconds=1)
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(TableName="tbl", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.delete_item(TableName="tbl", Key={"pk": {"S": "a"}})
    records = [r for e in events_of(aloft, "on-change") for r in e["Records"]]
    records = wait_for(lambda: (lambda rs: rs if len(rs) >= 3 else None)(
        [r for e in log_lines(aloft, "on-change") for r in e["Records"]]), what="three records")
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    r0, r1 = records[0], records[1]
    assert r0["eventSource"] == "aws:dynamodb" and r0["eventSourceARN"] == stream
    assert r0["dynamodb"]["Keys"] == {"pk": {"S": "a"}} and r0["dynamodb"]["NewImage"]["v"] == {"N": "1"}
    assert r1["dynamodb"]["OldImage"]["v"] == {"N": "1"} and r1["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs)


def test_stream_filter_criteria(aloft):
    ddb, lam = aloft.client("dynamodb"), aloft.client("lambda")
    stream = table(ddb)
    function(aloft, "inserts-only")
    lam.create_event_source_mapping(FunctionName="inserts-only", EventSourceArn=stream, StartingPosition="LATEST",
                                    FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]})
    wait_for(lambda: lam.list_event_source_mappings(FunctionName="inserts-only")["EventSourceMappings"][0]["State"] == "Enabled")
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "x"}})
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "x"}, "v": {"N": "1"}})
    ddb.put_item(TableName="tbl", Item={"pk": {"S": "y"}})
    got = wait_for(lambda: (lambda rs: rs if len(rs) >= 2 else None)(
        [r for e in log_lines(aloft, "inserts-only") for r in e["Records"]]), what="two inserts")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got] == ["x", "y"]


BISECT = """
import json
def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    print("EVENT " + json.dumps(keys))
    if "poison" in keys:
        raise ValueError("poison pill")
"""


def test_stream_failure_bisects_then_on_failure_destination(aloft):
    ddb, lam, sqs = aloft.client("dynamodb"), aloft.client("lambda"), aloft.client("sqs")
    stream = table(ddb)
    dest_url, dest = queue(sqs, "stream-failures")
    function(aloft, "picky", BISECT)
    for k in ["a", "b", "poison", "d"]:
        ddb.put_item(TableName="tbl", Item={"pk": {"S": k}})
    lam.create_event_source_mapping(
        FunctionName="picky", EventSourceArn=stream, StartingPosition="TRIM_HORIZON", BatchSize=4,
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest}})
    (failure,) = [json.loads(m["Body"]) for m in drain(sqs, dest_url, n=1, timeout=20)]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = failure["DDBStreamBatchInfo"]
    assert info["streamArn"] == stream and info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    calls = log_lines(aloft, "picky")
    assert calls[0] == ["a", "b", "poison", "d"]
    # Halves until the poison pill is alone; every other record is processed.
    processed = {k for c in calls if "poison" not in c for k in c}
    wait_for(lambda: {k for c in log_lines(aloft, "picky") if "poison" not in c for k in c} >= {"a", "b", "d"},
             what="the good records processed")
    assert ["poison"] in log_lines(aloft, "picky")
    del processed
