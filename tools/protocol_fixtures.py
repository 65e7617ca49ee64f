"""Capture real requests botocore sends for a set of operations, as test data for the codecs.

Each request is built by botocore itself (serializer, signer, S3 path-style addressing) and
caught before it is sent, then written with its params to
crates/aloft-protocol/tests/fixtures/botocore-requests.json. `tests/botocore_requests.rs`
decodes every one and compares the decoded input with the params.

    /work/venv/bin/python tools/protocol_fixtures.py
"""

import base64
import json
import os

import botocore.session
from botocore.config import Config

CASES = [
    ("sqs", "CreateQueue", {"QueueName": "q1", "Attributes": {"VisibilityTimeout": "40"}, "tags": {"team": "a"}}),
    ("sqs", "SendMessage", {"QueueUrl": "http://localhost:4566/000000000000/q1", "MessageBody": "hi",
                            "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "1"},
                                                  "b": {"DataType": "Binary", "BinaryValue": "raw"}}}),
    ("sqs", "ReceiveMessage", {"QueueUrl": "http://localhost:4566/000000000000/q1", "MaxNumberOfMessages": 10,
                               "MessageAttributeNames": ["All"], "WaitTimeSeconds": 0}),
    ("dynamodb", "PutItem", {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "b": {"B": "xyz"}},
                             "ConditionExpression": "attribute_not_exists(pk)"}),
    ("dynamodb", "CreateTable", {"TableName": "t", "BillingMode": "PAY_PER_REQUEST",
                                 "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                 "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
    ("sns", "CreateTopic", {"Name": "t", "Attributes": {"DisplayName": "d"}, "Tags": [{"Key": "k", "Value": "v"}]}),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Message": "m",
                        "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"}}}),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::000000000000:role/r", "RoleSessionName": "sess", "DurationSeconds": 900}),
    ("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": [{"Key": "k", "Value": "v"}]}),
    ("logs", "PutLogEvents", {"logGroupName": "g", "logStreamName": "s",
                              "logEvents": [{"timestamp": 1700000000000, "message": "m"}]}),
    ("kinesis", "PutRecord", {"StreamName": "s", "Data": "abc", "PartitionKey": "p"}),
    ("events", "PutEvents", {"Entries": [{"Source": "app", "DetailType": "t", "Detail": "{}"}]}),
    ("secretsmanager", "CreateSecret", {"Name": "s", "SecretString": "v", "ClientRequestToken": "a" * 32}),
    ("ssm", "PutParameter", {"Name": "/a/b", "Value": "v", "Type": "String", "Overwrite": True}),
    ("kms", "Encrypt", {"KeyId": "alias/k", "Plaintext": "secret"}),
    ("cognito-idp", "InitiateAuth", {"ClientId": "c", "AuthFlow": "USER_PASSWORD_AUTH",
                                     "AuthParameters": {"USERNAME": "u", "PASSWORD": "p"}}),
    ("cognito-identity", "GetId", {"IdentityPoolId": "us-east-1:abc"}),
    ("cloudwatch", "PutMetricData", {"Namespace": "App", "MetricData": [
        {"MetricName": "Latency", "Value": 1.5, "Timestamp": 1700000000, "Unit": "Seconds",
         "Dimensions": [{"Name": "svc", "Value": "a"}]}]}),
    ("cloudwatch", "GetMetricStatistics", {"Namespace": "App", "MetricName": "Latency", "StartTime": 1700000000,
                                           "EndTime": 1700003600, "Period": 60, "Statistics": ["Average"]}),
    ("lambda", "Invoke", {"FunctionName": "f", "InvocationType": "RequestResponse", "Payload": "{\"a\":1}",
                          "Qualifier": "live"}),
    ("lambda", "CreateFunction", {"FunctionName": "f", "Runtime": "python3.12", "Handler": "app.handler",
                                  "Role": "arn:aws:iam::000000000000:role/r", "Code": {"ZipFile": "PK"},
                                  "Environment": {"Variables": {"AB": "1"}}, "Timeout": 10}),
    ("lambda", "AddPermission", {"FunctionName": "f", "StatementId": "s", "Action": "lambda:InvokeFunction",
                                 "Principal": "s3.amazonaws.com"}),
    ("apigateway", "PutIntegration", {"restApiId": "a1", "resourceId": "r1", "httpMethod": "GET", "type": "AWS_PROXY",
                                      "integrationHttpMethod": "POST",
                                      "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x/invocations"}),
    ("apigatewayv2", "CreateApi", {"Name": "a", "ProtocolType": "HTTP"}),
    ("apigatewaymanagementapi", "PostToConnection", {"ConnectionId": "c1", "Data": "hello"}),
    ("scheduler", "CreateSchedule", {"Name": "s", "ScheduleExpression": "rate(1 minute)",
                                     "FlexibleTimeWindow": {"Mode": "OFF"},
                                     "Target": {"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "arn:aws:iam::000000000000:role/r"},
                                     "ClientToken": "tok"}),
    ("s3", "CreateBucket", {"Bucket": "b1", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
    ("s3", "ListObjectsV2", {"Bucket": "b1", "Prefix": "a/", "MaxKeys": 10}),
    ("s3", "PutBucketTagging", {"Bucket": "b1", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
    ("s3", "DeleteObjects", {"Bucket": "b1", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b c"}], "Quiet": True}}),
    ("s3", "CopyObject", {"Bucket": "b1", "Key": "dst/x", "CopySource": "b0/src/y", "MetadataDirective": "REPLACE",
                          "Metadata": {"color": "red"}}),
    ("s3", "GetObject", {"Bucket": "b1", "Key": "dir/a b+c.txt", "Range": "bytes=0-9", "VersionId": "v1"}),
    ("s3", "CompleteMultipartUpload", {"Bucket": "b1", "Key": "k", "UploadId": "u1",
                                       "MultipartUpload": {"Parts": [{"ETag": "\"e1\"", "PartNumber": 1}]}}),
]


def main():
    session = botocore.session.get_session()
    out = []
    for service, op, params in CASES:
        config = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                        retries={"max_attempts": 0})
        client = session.create_client(service, region_name="us-east-1", endpoint_url="http://localhost:4566",
                                       aws_access_key_id="test", aws_secret_access_key="test", config=config)
        captured = {}

        def before_send(request, **kwargs):
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode()
            elif hasattr(body, "read"):
                body = body.read()
            captured.update(method=request.method, url=request.url, headers=dict(request.headers.items()),
                            body=base64.b64encode(body).decode())
            raise StopSend()

        client.meta.events.register("before-send", before_send)
        method = getattr(client, botocore.xform_name(op))
        try:
            method(**params)
        except StopSend:
            pass
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in captured["headers"].items()}
        captured["headers"] = headers
        out.append({"service": service, "operation": op, "params": params, "request": captured})
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "crates", "aloft-protocol", "tests", "fixtures", "botocore-requests.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"botocore": botocore.__version__, "cases": out}, f, indent=1)
    print(f"{len(out)} requests -> {path}")


class StopSend(Exception):
    pass


if __name__ == "__main__":
    main()
