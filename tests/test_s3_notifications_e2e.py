"""S3 event notifications delivered for real: to an SQS queue, and through EventBridge's default
bus to a rule's SQS target."""

import json


def receive_all(sqs, url, want):
    got = []
    for _ in range(10):
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= want:
            break
    return got


def test_object_events_reach_an_sqs_queue(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    url = sqs.create_queue(QueueName="s3-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.create_bucket(Bucket="evt")
    s3.put_bucket_notification_configuration(Bucket="evt", NotificationConfiguration={
        "QueueConfigurations": [{"Id": "to-queue", "QueueArn": arn,
                                 "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}],
    })
    s3.put_object(Bucket="evt", Key="in/report 1.csv", Body=b"a,b\n")
    s3.put_object(Bucket="evt", Key="out/ignored.csv", Body=b"x")
    s3.copy_object(Bucket="evt", Key="in/copy.csv", CopySource="evt/in/report 1.csv")
    s3.delete_object(Bucket="evt", Key="in/copy.csv")
    msgs = receive_all(sqs, url, 4)
    assert msgs[0]["Event"] == "s3:TestEvent" and msgs[0]["Bucket"] == "evt"
    records = [m["Records"][0] for m in msgs[1:]]
    assert [r["eventName"] for r in records] == ["ObjectCreated:Put", "ObjectCreated:Copy", "ObjectRemoved:Delete"]
    first = records[0]
    assert first["s3"]["object"]["key"] == "in/report+1.csv"
    assert first["s3"]["object"]["size"] == 4
    assert first["s3"]["object"]["eTag"]
    assert first["s3"]["configurationId"] == "to-queue"
    assert first["awsRegion"] == "us-east-1"
    seqs = [int(r["s3"]["object"]["sequencer"], 16) for r in records]
    assert seqs == sorted(seqs)


def test_object_events_through_eventbridge(aloft):
    s3, sqs, events = aloft.client("s3"), aloft.client("sqs"), aloft.client("events")
    url = sqs.create_queue(QueueName="eb-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="s3-created", EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["ebb"]}}}))
    events.put_targets(Rule="s3-created", Targets=[{"Id": "q", "Arn": arn}])
    s3.create_bucket(Bucket="ebb")
    s3.put_bucket_notification_configuration(Bucket="ebb", NotificationConfiguration={"EventBridgeConfiguration": {}})
    s3.put_object(Bucket="ebb", Key="photo.jpg", Body=b"jpeg")
    msgs = receive_all(sqs, url, 1)
    assert msgs and msgs[0]["detail-type"] == "Object Created"
    assert msgs[0]["source"] == "aws.s3"
    assert msgs[0]["detail"]["object"]["key"] == "photo.jpg"
    assert msgs[0]["detail"]["reason"] == "PutObject"


def test_object_events_through_an_sns_topic(aloft):
    s3, sqs, sns = aloft.client("s3"), aloft.client("sqs"), aloft.client("sns")
    topic = sns.create_topic(Name="uploads")["TopicArn"]
    url = sqs.create_queue(QueueName="fanout")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    s3.create_bucket(Bucket="via-sns")
    s3.put_bucket_notification_configuration(Bucket="via-sns", NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}]})
    s3.put_object(Bucket="via-sns", Key="doc.pdf", Body=b"%PDF")
    msgs = receive_all(sqs, url, 2)
    records = [m["Records"][0] for m in msgs if "Records" in m]
    assert records and records[0]["eventName"] == "ObjectCreated:Put"
    assert records[0]["s3"]["object"]["key"] == "doc.pdf"


def test_object_events_invoke_a_lambda_function(aloft):
    import io
    import time
    import zipfile
    lam, logs, s3 = aloft.client("lambda"), aloft.client("logs"), aloft.client("s3")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "import json\ndef handler(event, context):\n"
                             "    for r in event['Records']:\n"
                             "        print('S3EVENT', r['eventName'], r['s3']['bucket']['name'], r['s3']['object']['key'])\n")
    fn = lam.create_function(FunctionName="on-upload", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                             Handler="app.handler", Code={"ZipFile": buf.getvalue()})["FunctionArn"]
    s3.create_bucket(Bucket="to-lambda")
    s3.put_bucket_notification_configuration(Bucket="to-lambda", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket="to-lambda", Key="incoming/data 1.json", Body=b"{}")
    found = []
    for _ in range(100):
        try:
            found = logs.filter_log_events(logGroupName="/aws/lambda/on-upload", filterPattern="S3EVENT")["events"]
        except logs.exceptions.ResourceNotFoundException:
            found = []
        if found:
            break
        time.sleep(0.1)
    assert found, "the function never logged the S3 event"
    assert "ObjectCreated:Put to-lambda incoming/data+1.json" in found[0]["message"]
