"""S3 event notifications are delivered at least once: journaled with the object change, retried
while the target is unavailable (with backoff, on Aloft's clock), redelivered after kill -9, and
dropped after six hours."""

import json
import time

QUEUE = "late-queue"
ARN = f"arn:aws:sqs:us-east-1:000000000000:{QUEUE}"


def configure(s3, bucket, arn=ARN):
    s3.create_bucket(Bucket=bucket)
    # The queue does not exist yet: skip the test event AWS would send to validate it.
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        SkipDestinationValidation=True,
        NotificationConfiguration={"QueueConfigurations": [
            {"Id": "q", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]},
    )


def pending(a):
    return a.internal("GET", "s3/outbox")["pending"]


def wait_for(pred, what, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def receive_records(sqs, url, want, rounds=10):
    got = []
    for _ in range(rounds):
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for m in r.get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if len(got) >= want:
            break
    return [m["Records"][0] for m in got if "Records" in m]


def test_events_survive_kill_9_and_reach_a_queue_created_after_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    s3 = a.client("s3")
    configure(s3, "crashy")
    s3.put_object(Bucket="crashy", Key="one.txt", Body=b"1")
    s3.put_object(Bucket="crashy", Key="two.txt", Body=b"22")
    s3.put_object(Bucket="crashy", Key="one.txt", Body=b"111")
    s3.delete_object(Bucket="crashy", Key="two.txt")
    # Every event was tried once (no such queue) and waits for a retry.
    entries = wait_for(lambda: [p for p in pending(a) if p["attempts"] >= 1] if len(pending(a)) == 4 else None,
                       "four failed first attempts")
    assert {p["target"] for p in entries} == {ARN}
    a.kill()

    b = aloft_factory(data_dir=tmp_path)
    assert len(pending(b)) == 4
    sqs = b.client("sqs")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    b.advance(600)  # past any backoff
    records = receive_records(sqs, url, 4)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Put", "one.txt"),
        ("ObjectCreated:Put", "two.txt"),
        ("ObjectCreated:Put", "one.txt"),
        ("ObjectRemoved:Delete", "two.txt"),
    ]
    assert [r["s3"]["object"].get("size") for r in records[:3]] == [1, 2, 3]
    assert records[0]["s3"]["bucket"]["name"] == "crashy"
    assert records[0]["s3"]["configurationId"] == "q"
    one = [int(r["s3"]["object"]["sequencer"], 16) for r in records if r["s3"]["object"]["key"] == "one.txt"]
    assert one == sorted(one) and one[0] != one[1]
    wait_for(lambda: pending(b) == [], "an empty outbox")
    b.kill()

    # Delivered entries were removed durably: a third run sends nothing again.
    c = aloft_factory(data_dir=tmp_path)
    assert pending(c) == []
    r = c.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert r.get("Messages", []) == []


def test_a_delivered_event_is_not_sent_again_after_kill_9(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    sqs, s3 = a.client("sqs"), a.client("s3")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    configure(s3, "steady")
    s3.put_object(Bucket="steady", Key="k", Body=b"v")
    records = receive_records(sqs, url, 1)
    assert [r["eventName"] for r in records] == ["ObjectCreated:Put"]
    wait_for(lambda: pending(a) == [], "an empty outbox")
    a.kill()
    b = aloft_factory(data_dir=tmp_path)
    assert pending(b) == []
    assert b.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []


def test_an_unavailable_target_is_retried_with_backoff_in_memory(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    configure(s3, "retry")
    s3.put_object(Bucket="retry", Key="a", Body=b"a")
    s3.put_object(Bucket="retry", Key="b", Body=b"b")
    first = wait_for(lambda: [p for p in pending(aloft) if p["attempts"] == 1] or None, "a failed attempt")
    # The second event waits behind the first: one key's events keep their order per target.
    assert len(pending(aloft)) == 2
    # The first retry comes a second after the failed attempt.
    assert 1000 <= first[0]["nextAttempt"] - first[0]["created"] < 30_000
    aloft.advance(5)
    wait_for(lambda: any(p["attempts"] >= 2 for p in pending(aloft)), "a second attempt")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    aloft.advance(600)
    records = receive_records(sqs, url, 2)
    assert [r["s3"]["object"]["key"] for r in records] == ["a", "b"]
    wait_for(lambda: pending(aloft) == [], "an empty outbox")


def test_events_are_dropped_after_six_hours_of_failures(aloft):
    s3, sqs = aloft.client("s3"), aloft.client("sqs")
    configure(s3, "gone")
    s3.put_object(Bucket="gone", Key="a", Body=b"a")
    wait_for(lambda: any(p["attempts"] >= 1 for p in pending(aloft)), "a failed attempt")
    aloft.advance(5 * 3600)
    wait_for(lambda: any(p["attempts"] >= 2 for p in pending(aloft)), "a retry")
    assert len(pending(aloft)) == 1
    aloft.advance(2 * 3600)
    wait_for(lambda: pending(aloft) == [], "the event to be dropped")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    aloft.advance(600)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []
