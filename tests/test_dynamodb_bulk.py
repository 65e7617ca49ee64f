"""DynamoDB bulk operations: StartBulkPutItems from Aloft's S3 into an existing table (through
the table's write path: indexes and streams see the items), the error report in the output
bucket, DescribeBulkOperation, ListBulkOperations, CancelBulkOperation and their errors."""

import json
import time

import botocore.exceptions
import pytest


def wait_op(ddb, arn):
    for _ in range(400):
        d = ddb.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"]
        if d["BulkOperationStatus"] not in ("IN_PROGRESS", "CANCELLING"):
            return d
        time.sleep(0.025)
    raise AssertionError(f"bulk operation {arn} did not finish")


def table(ddb, name, **extra):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], **extra)


def line(item):
    return json.dumps({"Item": item})


def test_bulk_put_into_existing_table_with_error_report_and_stream(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="bulk-in")
    s3.create_bucket(Bucket="bulk-out")
    body = "\n".join([
        line({"pk": {"S": "new1"}, "v": {"N": "1"}}),
        line({"pk": {"S": "old"}, "v": {"N": "2"}}),     # overwrites the existing item
        line({"pk": {"N": "3"}}),                         # wrong key type
        "garbage",
    ]) + "\n"
    s3.put_object(Bucket="bulk-in", Key="in/part-1.json", Body=body)
    ddb = aloft.client("dynamodb")
    table(ddb, "bulkt", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    ddb.put_item(TableName="bulkt", Item={"pk": {"S": "old"}, "v": {"N": "0"}, "keep": {"S": "x"}})
    ddb.put_item(TableName="bulkt", Item={"pk": {"S": "untouched"}})

    d = ddb.start_bulk_put_items(
        TableName="bulkt",
        InputS3Configuration={"S3Bucket": "bulk-in", "S3KeyPrefix": "in/", "InputFormat": "DYNAMODB_JSON"},
        OutputS3Configuration={"S3Bucket": "bulk-out", "S3KeyPrefix": "reports", "OutputType": ["ERROR"]},
        MaxWriteRequestUnits=2048)["BulkOperationDescription"]
    assert d["BulkOperationStatus"] == "IN_PROGRESS"
    assert d["TableDetails"][0]["TableName"] == "arn:aws:dynamodb:us-east-1:000000000000:table/bulkt"
    d = wait_op(ddb, d["BulkOperationArn"])
    assert d["BulkOperationStatus"] == "COMPLETED_WITH_ERRORS"
    assert (d["ProcessedItemCount"], d["FailedItemCount"]) == (4, 2)
    assert d["TotalInputBytes"] == len(body.encode())
    assert d["MaxWriteRequestUnits"] == 2048
    assert d["BulkOperationUsage"][0]["BulkPutBytes"] > 0

    items = {i["pk"]["S"]: i for i in ddb.scan(TableName="bulkt")["Items"]}
    assert set(items) == {"new1", "old", "untouched"}
    assert items["old"] == {"pk": {"S": "old"}, "v": {"N": "2"}}  # a put replaces the item

    # The writes went through the table's write path: the stream has them.
    streams = aloft.client("dynamodbstreams")
    sarn = ddb.describe_table(TableName="bulkt")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=sarn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=sarn, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = streams.get_records(ShardIterator=it)["Records"]
    assert [r["eventName"] for r in recs] == ["INSERT", "INSERT", "INSERT", "MODIFY"]

    listed = s3.list_objects_v2(Bucket="bulk-out", Prefix="reports/")["Contents"]
    assert len(listed) == 1
    report = s3.get_object(Bucket="bulk-out", Key=listed[0]["Key"])["Body"].read().decode()
    lines = [json.loads(x) for x in report.splitlines()]
    assert [x["itemS3Pointer"]["itemIndex"] for x in lines] == [2, 3]
    assert all(x["bulkOperationArn"] == d["BulkOperationArn"] for x in lines)


def test_bulk_errors_list_and_cancel(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="bulk-src")
    s3.put_object(Bucket="bulk-src", Key="a.ion", Body='$ion_1_0 {Item:{pk:"i1",n:1.5}}\n')
    ddb = aloft.client("dynamodb")
    out = {"OutputType": ["ERROR"], "S3Bucket": "bulk-src"}
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.start_bulk_put_items(TableName="missing",
                                 InputS3Configuration={"S3Bucket": "bulk-src", "InputFormat": "ION"},
                                 OutputS3Configuration=out)
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_bulk_operation(
            BulkOperationArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/bulk-operation/nope")
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.cancel_bulk_operation(
            BulkOperationArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/bulk-operation/nope")

    table(ddb, "bulk2")
    arns = []
    for token in ["t1", "t2"]:
        d = ddb.start_bulk_put_items(
            TableName="arn:aws:dynamodb:us-east-1:000000000000:table/bulk2", ClientToken=token,
            InputS3Configuration={"S3Bucket": "bulk-src", "InputFormat": "ION"},
            OutputS3Configuration=out)["BulkOperationDescription"]
        assert wait_op(ddb, d["BulkOperationArn"])["BulkOperationStatus"] == "COMPLETED"
        arns.append(d["BulkOperationArn"])
    assert ddb.get_item(TableName="bulk2", Key={"pk": {"S": "i1"}})["Item"]["n"] == {"N": "1.5"}
    # Same token and parameters: the same operation; other parameters: a mismatch.
    again = ddb.start_bulk_put_items(
        TableName="arn:aws:dynamodb:us-east-1:000000000000:table/bulk2", ClientToken="t1",
        InputS3Configuration={"S3Bucket": "bulk-src", "InputFormat": "ION"},
        OutputS3Configuration=out)["BulkOperationDescription"]
    assert again["BulkOperationArn"] == arns[0]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ddb.start_bulk_put_items(
            TableName="bulk2", ClientToken="t1",
            InputS3Configuration={"S3Bucket": "bulk-src", "InputFormat": "DYNAMODB_JSON"},
            OutputS3Configuration=out)
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"

    # Most recent first, paged.
    page = ddb.list_bulk_operations(MaxResults=1)
    assert [s["BulkOperationArn"] for s in page["BulkOperationsSummaryList"]] == [arns[1]]
    rest = ddb.list_bulk_operations(MaxResults=1, NextToken=page["NextToken"])
    assert [s["BulkOperationArn"] for s in rest["BulkOperationsSummaryList"]] == [arns[0]]
    assert "NextToken" not in rest
    assert rest["BulkOperationsSummaryList"][0]["BulkOperationStatus"] == "COMPLETED"

    # Cancelling a finished operation leaves its final status.
    c = ddb.cancel_bulk_operation(BulkOperationArn=arns[0])
    assert (c["BulkOperationArn"], c["BulkOperationStatus"]) == (arns[0], "COMPLETED")


def test_bulk_missing_source_bucket_fails(aloft):
    ddb = aloft.client("dynamodb")
    table(ddb, "bulk3")
    d = ddb.start_bulk_put_items(
        TableName="bulk3",
        InputS3Configuration={"S3Bucket": "no-such-bulk-bucket", "InputFormat": "DYNAMODB_JSON"},
        OutputS3Configuration={"OutputType": []})["BulkOperationDescription"]
    d = wait_op(ddb, d["BulkOperationArn"])
    assert d["BulkOperationStatus"] == "FAILED"
    assert d["FailureCode"] == "S3NoSuchBucket"


def test_bulk_operation_descriptions_survive_a_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    s3 = a.client("s3")
    s3.create_bucket(Bucket="bulk-dur")
    s3.put_object(Bucket="bulk-dur", Key="x.json", Body=line({"pk": {"S": "d1"}}) + "\n")
    ddb = a.client("dynamodb")
    table(ddb, "bulkd")
    arn = ddb.start_bulk_put_items(
        TableName="bulkd", InputS3Configuration={"S3Bucket": "bulk-dur", "InputFormat": "DYNAMODB_JSON"},
        OutputS3Configuration={"OutputType": []})["BulkOperationDescription"]["BulkOperationArn"]
    before = wait_op(ddb, arn)
    assert before["BulkOperationStatus"] == "COMPLETED"
    a.stop()
    b = aloft_factory(data_dir=tmp_path / "d")
    ddb = b.client("dynamodb")
    assert ddb.describe_bulk_operation(BulkOperationArn=arn)["BulkOperationDescription"] == before
    assert ddb.get_item(TableName="bulkd", Key={"pk": {"S": "d1"}})["Item"] == {"pk": {"S": "d1"}}
