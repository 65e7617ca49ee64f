"""DynamoDB exports to S3 (ExportTableToPointInTime, DescribeExport, ListExports): the files
land in Aloft's S3 with AWS's layout (manifests, their MD5s, `_started`, gzip data files), in
DynamoDB JSON or Ion, full or incremental, read back here through boto3's S3 client."""

import base64
import gzip
import hashlib
import json
import re
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

ITEMS = [
    {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"S": "héllo \"quoted\"\nline"}, "n": {"N": "-12.5"},
     "big": {"N": "12345678901234567890123456789012345678"}, "b": {"B": b"\x00\x01\xff"},
     "t": {"BOOL": True}, "f": {"BOOL": False}, "z": {"NULL": True},
     "m": {"M": {"inner": {"S": "x"}, "deep": {"M": {"l": {"L": [{"N": "1"}, {"S": "two"}]}}}}},
     "l": {"L": [{"S": "one"}, {"N": "2"}, {"BOOL": False}, {"NULL": True}]},
     "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02"]}},
    {"pk": {"S": "b"}, "sk": {"N": "2"}, "attr-with-dash": {"S": "v"}},
    {"pk": {"S": "c"}, "sk": {"N": "3"}, "empty": {"S": ""}, "el": {"L": []}, "em": {"M": {}}},
]


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


def setup_table(aloft, name="Tab", pitr=True):
    ddb = aloft.client("dynamodb")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    if pitr:
        ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    return ddb, arn


def earliest(ddb, name):
    d = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    return d["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"]


def wait(ddb, arn):
    """Polls DescribeExport until the export leaves IN_PROGRESS (it runs in the background)."""
    for _ in range(500):
        d = ddb.describe_export(ExportArn=arn)["ExportDescription"]
        if d["ExportStatus"] != "IN_PROGRESS":
            return d
        time.sleep(0.01)
    raise AssertionError(f"export still in progress: {d}")


def wire(item):
    """An item as boto3 returns it, as the DynamoDB JSON lines write it (blobs in base64)."""
    def conv(v):
        (t, x), = v.items()
        if t == "B":
            return {"B": base64.b64encode(x).decode()}
        if t == "BS":
            return {"BS": [base64.b64encode(b).decode() for b in x]}
        if t == "M":
            return {"M": {k: conv(y) for k, y in x.items()}}
        if t == "L":
            return {"L": [conv(y) for y in x]}
        return {t: x}
    return {k: conv(v) for k, v in item.items()}


def read(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def files(s3, bucket, desc):
    """The manifest summary, the manifest-files lines and each data file's lines."""
    summary = json.loads(read(s3, bucket, desc["ExportManifest"]))
    listing = read(s3, bucket, summary["manifestFilesS3Key"]).decode()
    entries = [json.loads(l) for l in listing.splitlines()]
    data = []
    for e in entries:
        obj = s3.get_object(Bucket=bucket, Key=e["dataFileS3Key"])
        raw = obj["Body"].read()
        assert e["etag"] == obj["ETag"].strip('"')
        assert e["md5Checksum"] == base64.b64encode(hashlib.md5(raw).digest()).decode()
        text = gzip.decompress(raw).decode()
        assert len(text.splitlines()) == e["itemCount"]
        data.append(text)
    return summary, entries, data


def test_full_export_in_dynamodb_json(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="exports")
    ddb, arn = setup_table(aloft)
    for i in ITEMS:
        ddb.put_item(TableName="Tab", Item=i)
    out = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports", S3Prefix="runs/one",
                                            ClientToken="tok-1")["ExportDescription"]
    assert out["ExportStatus"] == "IN_PROGRESS"
    assert out["ExportArn"].startswith(arn + "/export/")
    export_id = out["ExportArn"].rsplit("/", 1)[1]
    assert len(export_id) == 23 and export_id[14] == "-"
    # AWS describes a full export without ExportType (its ListExports summary has it).
    assert out["ExportFormat"] == "DYNAMODB_JSON" and "ExportType" not in out
    assert out["S3Bucket"] == "exports" and out["S3Prefix"] == "runs/one"
    assert out["ClientToken"] == "tok-1"
    d = wait(ddb, out["ExportArn"])
    assert d["ExportStatus"] == "COMPLETED", d
    assert d["ItemCount"] == 3
    assert d["BilledSizeBytes"] > 0
    assert d["EndTime"] >= d["StartTime"]
    base = f"runs/one/AWSDynamoDB/{export_id}/"
    assert d["ExportManifest"] == base + "manifest-summary.json"
    assert d["TableId"] == ddb.describe_table(TableName="Tab")["Table"]["TableId"]

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="exports", Prefix=base)["Contents"])
    data_keys = [k for k in keys if k.startswith(base + "data/")]
    assert sorted(set(keys) - set(data_keys)) == [base + n for n in (
        "_started", "manifest-files.json", "manifest-files.md5", "manifest-summary.json",
        "manifest-summary.md5")]
    assert data_keys and all(k.endswith(".json.gz") for k in data_keys)
    assert read(s3, "exports", base + "_started") == b""

    summary, entries, data = files(s3, "exports", d)
    assert summary["version"] == "2020-06-30"
    assert summary["exportArn"] == d["ExportArn"] and summary["tableArn"] == arn
    assert summary["itemCount"] == 3 and summary["billedSizeBytes"] == d["BilledSizeBytes"]
    assert summary["outputFormat"] == "DYNAMODB_JSON" and summary["exportType"] == "FULL_EXPORT"
    assert summary["s3Bucket"] == "exports" and summary["s3Prefix"] == "runs/one"
    assert summary["manifestFilesS3Key"] == base + "manifest-files.json"
    assert datetime.fromisoformat(summary["exportTime"].replace("Z", "+00:00")) == d["ExportTime"]
    for name in ("manifest-summary", "manifest-files"):
        body = read(s3, "exports", base + name + ".json")
        assert read(s3, "exports", base + name + ".md5").decode() == \
            base64.b64encode(hashlib.md5(body).digest()).decode()
    assert sum(e["itemCount"] for e in entries) == 3

    lines = [json.loads(l) for text in data for l in text.splitlines()]
    assert all(list(l) == ["Item"] for l in lines)
    got = sorted((l["Item"] for l in lines), key=lambda i: i["pk"]["S"])
    want = sorted((wire(i) for i in ddb.scan(TableName="Tab")["Items"]), key=lambda i: i["pk"]["S"])
    assert got == want
    assert got[0]["n"] == {"N": "-12.5"} and got[0]["z"] == {"NULL": True}
    assert got[0]["b"] == {"B": "AAH/"}

    # The same token and input: the same export. A different input: a conflict.
    again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports", S3Prefix="runs/one",
                                              ClientToken="tok-1")["ExportDescription"]
    assert again["ExportArn"] == d["ExportArn"] and again["ExportStatus"] == "COMPLETED"
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports", S3Prefix="runs/two",
                                          ClientToken="tok-1")
    # AWS's words, as measured against DynamoDB (ack-api-quirks, DDB-EXPORT-009).
    assert err(e) == ("ExportConflictException",
                      "Export conflict: Duplicate request detected with conflicting parameters")


def test_export_time_reads_the_table_as_it_was(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="snap")
    ddb, arn = setup_table(aloft)
    ddb.put_item(TableName="Tab", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "1"}})
    t0 = earliest(ddb, "Tab")
    aloft.advance(60)
    ddb.put_item(TableName="Tab", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "2"}})
    ddb.put_item(TableName="Tab", Item={"pk": {"S": "b"}, "sk": {"N": "1"}})
    aloft.advance(60)
    out = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="snap",
                                            ExportTime=t0.timestamp() + 30)["ExportDescription"]
    assert out["ExportTime"].timestamp() == pytest.approx(t0.timestamp() + 30)
    d = wait(ddb, out["ExportArn"])
    assert d["ItemCount"] == 1 and "S3Prefix" not in d
    assert d["ExportManifest"].startswith("AWSDynamoDB/")
    _, _, data = files(s3, "snap", d)
    lines = [json.loads(l) for text in data for l in text.splitlines()]
    assert lines == [{"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "1"}}}]
    # Without ExportTime: now.
    d = wait(ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="snap")
             ["ExportDescription"]["ExportArn"])
    assert d["ItemCount"] == 2


def test_ion_export(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="ion-exports")
    ddb, arn = setup_table(aloft)
    ddb.put_item(TableName="Tab", Item={
        "pk": {"S": "k\"1"}, "sk": {"N": "7"}, "f": {"N": "0.5"}, "b": {"B": b"\x01\x02"},
        "t": {"BOOL": True}, "z": {"NULL": True}, "m": {"M": {"a-b": {"S": "x"}}},
        "l": {"L": [{"N": "1"}, {"S": "y"}]}, "ss": {"SS": ["p", "q"]}, "ns": {"NS": ["3"]},
        "bs": {"BS": [b"\x01"]}})
    out = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="ion-exports",
                                            ExportFormat="ION")["ExportDescription"]
    assert out["ExportFormat"] == "ION"
    d = wait(ddb, out["ExportArn"])
    assert d["ExportStatus"] == "COMPLETED" and d["ItemCount"] == 1
    summary, entries, data = files(s3, "ion-exports", d)
    assert summary["outputFormat"] == "ION"
    assert all(e["dataFileS3Key"].endswith(".ion.gz") for e in entries)
    text = "".join(data)
    assert text.startswith("$ion_1_0 ")
    assert text == ("$ion_1_0 {Item:{b:{{AQI=}},bs:$dynamodb_BS::[{{AQ==}}],f:0.5,l:[1.,\"y\"],"
                    "m:{'a-b':\"x\"},ns:$dynamodb_NS::[3.],pk:\"k\\\"1\",sk:7.,"
                    "ss:$dynamodb_SS::[\"p\",\"q\"],t:true,z:null}}\n")


def test_incremental_export(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="incr")
    ddb, arn = setup_table(aloft)
    key = lambda p: {"pk": {"S": p}, "sk": {"N": "1"}}
    ddb.put_item(TableName="Tab", Item={**key("upd"), "v": {"N": "1"}})
    ddb.put_item(TableName="Tab", Item={**key("del"), "v": {"N": "1"}})
    ddb.put_item(TableName="Tab", Item={**key("same"), "v": {"N": "1"}})
    t0 = earliest(ddb, "Tab").timestamp()
    aloft.advance(120)
    start = t0 + 60
    ddb.put_item(TableName="Tab", Item={**key("upd"), "v": {"N": "2"}})
    ddb.put_item(TableName="Tab", Item={**key("upd"), "v": {"N": "3"}})
    ddb.delete_item(TableName="Tab", Key=key("del"))
    ddb.put_item(TableName="Tab", Item={**key("new"), "v": {"N": "1"}})
    ddb.put_item(TableName="Tab", Item={**key("gone"), "v": {"N": "1"}})
    ddb.delete_item(TableName="Tab", Key=key("gone"))
    aloft.advance(30 * 60)
    # After the period: not exported.
    ddb.put_item(TableName="Tab", Item={**key("late"), "v": {"N": "1"}})
    end = start + 20 * 60

    out = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket="incr", S3Prefix="inc", ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={"ExportFromTime": start, "ExportToTime": end})["ExportDescription"]
    spec = out["IncrementalExportSpecification"]
    assert spec["ExportViewType"] == "NEW_AND_OLD_IMAGES"
    assert spec["ExportFromTime"].timestamp() == start and spec["ExportToTime"].timestamp() == end
    assert out["ExportType"] == "INCREMENTAL_EXPORT"
    d = wait(ddb, out["ExportArn"])
    assert d["ExportStatus"] == "COMPLETED" and d["ItemCount"] == 3
    summary, _, data = files(s3, "incr", d)
    assert summary["exportType"] == "INCREMENTAL_EXPORT"
    assert summary["outputView"] == "NEW_AND_OLD_IMAGES"
    assert "exportFromTime" in summary and "exportToTime" in summary
    lines = {json.loads(l)["Keys"]["pk"]["S"]: json.loads(l) for t in data for l in t.splitlines()}
    assert set(lines) == {"upd", "del", "new"}
    upd = lines["upd"]
    assert upd["Keys"] == key("upd")
    assert upd["OldImage"]["v"] == {"N": "1"} and upd["NewImage"]["v"] == {"N": "3"}
    micros = int(upd["Metadata"]["WriteTimestampMicros"]["N"])
    assert start * 1e6 <= micros < end * 1e6
    assert "NewImage" not in lines["del"] and lines["del"]["OldImage"]["v"] == {"N": "1"}
    assert "OldImage" not in lines["new"] and lines["new"]["NewImage"]["v"] == {"N": "1"}

    d = wait(ddb, ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket="incr", ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={"ExportFromTime": start, "ExportToTime": end,
                                        "ExportViewType": "NEW_IMAGE"})["ExportDescription"]["ExportArn"])
    _, _, data = files(s3, "incr", d)
    lines = {json.loads(l)["Keys"]["pk"]["S"]: json.loads(l) for t in data for l in t.splitlines()}
    assert all("OldImage" not in l for l in lines.values())
    assert lines["del"].keys() == {"Keys", "Metadata"}

    # AWS's words, as measured against DynamoDB (ack-api-quirks, DDB-EXPORT-003/004): every
    # period out of bounds is InvalidExportTimeException, the bound quoted to the second.
    iso = lambda t: datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    now = ddb.describe_continuous_backups(TableName="Tab")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["LatestRestorableDateTime"].timestamp() + 300
    short = "Difference between export period from time and export period to time is less than 15 minutes"
    for spec, want in [
        ({"ExportFromTime": start, "ExportToTime": start + 60}, ("InvalidExportTimeException", short)),
        ({"ExportFromTime": start, "ExportToTime": start - 60}, ("InvalidExportTimeException", short)),
        ({"ExportFromTime": t0 - 3600, "ExportToTime": t0 + 600}, (
            "InvalidExportTimeException",
            "Incremental export period from time cannot be less than the table creation time : "
            + iso(t0 - 3600))),
        ({"ExportFromTime": start, "ExportToTime": now + 3600}, (
            "InvalidExportTimeException",
            "Incremental export period to time cannot be greater than the current time : " + iso(now + 3600))),
        ({"ExportToTime": end}, (
            "ValidationException", "Invalid Request: ExportFromTime must be provided in IncrementalExportSpecification")),
    ]:
        with pytest.raises(ClientError) as e:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="incr", ExportType="INCREMENTAL_EXPORT",
                                              IncrementalExportSpecification=spec)
        assert err(e) == want, spec
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="incr", ExportType="INCREMENTAL_EXPORT",
                                          IncrementalExportSpecification={"ExportFromTime": start,
                                                                          "ExportToTime": start + 25 * 3600})
    assert err(e)[0] == "InvalidExportTimeException"
    spec = {"ExportFromTime": start, "ExportToTime": end}
    for kw, want in [
        ({"ExportType": "INCREMENTAL_EXPORT"},
         "Invalid Request: Incremental Export Specification expected when export type is set as Incremental Export"),
        ({"IncrementalExportSpecification": spec},
         "Invalid Request: Export Type expected to be Incremental Export when incremental export specification is provided"),
        ({"ExportType": "FULL_EXPORT", "IncrementalExportSpecification": spec},
         "Invalid Request: When Export Type is Full Export , Incremental Export Specification should not be provided"),
        ({"S3SseKmsKeyId": "alias/aws/s3"}, "Invalid Request: KMS Key Id is not supported for this encryption type"),
    ]:
        with pytest.raises(ClientError) as e:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="incr", **kw)
        assert err(e) == ("ValidationException", want), kw
    # An ExportTime beside an incremental specification is not refused.
    ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="incr", ExportType="INCREMENTAL_EXPORT",
                                      ExportTime=start, IncrementalExportSpecification=spec)


def test_errors_and_listing(aloft):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="listed")
    ddb, arn = setup_table(aloft, "NoPitr", pitr=False)
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="listed")
    assert err(e) == ("PointInTimeRecoveryUnavailableException",
                      "Point in time recovery is not enabled for table 'NoPitr'")
    missing = arn.replace("NoPitr", "Missing")
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=missing, S3Bucket="listed")
    # AWS's words, as measured (ack-api-quirks, DDB-EXPORT-001/002): the ARN as given.
    assert err(e) == ("TableNotFoundException", f"Table not found: {missing}")
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn.replace("000000000000", "111122223333"),
                                          S3Bucket="listed")
    assert err(e) == ("AccessDeniedException", "Access is denied")
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn + "/index/byX", S3Bucket="listed")
    assert err(e) == ("ValidationException", "Invalid Request: Table ARN is invalid.")

    ddb, arn = setup_table(aloft, "Tab")
    t0 = earliest(ddb, "Tab").timestamp()
    for at in (t0 - 3600, t0 + 3600):
        with pytest.raises(ClientError) as e:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="listed", ExportTime=at)
        # AWS's words (recorded against DynamoDB by ScyllaDB's Alternator tests).
        assert err(e) == ("InvalidExportTimeException", "Export Time is invalid")
    raw = aloft.client("dynamodb", parameter_validation=False)
    with pytest.raises(ClientError) as e:
        raw.export_table_to_point_in_time(TableArn=arn, S3Bucket="", ExportType="")
    assert err(e)[0] == "ValidationException"
    assert "'s3Bucket' failed to satisfy constraint" in err(e)[1]
    assert "'exportType' failed to satisfy constraint" in err(e)[1]
    with pytest.raises(ClientError) as e:
        raw.export_table_to_point_in_time(TableArn="not-an-arn", S3Bucket="listed")
    assert err(e) == ("ValidationException",
                      "One or more parameter values were invalid: tableArn is not a valid ARN")
    with pytest.raises(ClientError) as e:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="listed", ExportFormat="CSV")
    assert err(e)[0] == "ValidationException"
    gone = arn + "/export/01234567890123-abcdef01"
    with pytest.raises(ClientError) as e:
        ddb.describe_export(ExportArn=gone)
    # AWS's words, as measured (ack-api-quirks, DDB-EXPORT-006), the doubled prefix included.
    assert err(e) == ("ExportNotFoundException", f"Export not found: Export not found: {gone}")
    with pytest.raises(ClientError) as e:
        ddb.describe_export(ExportArn=gone.replace(":us-east-1:", ":eu-west-1:"))
    assert err(e) == ("ExportNotFoundException", "Export not found: Invalid export arn")
    for bad in (arn, "x" * 40):
        with pytest.raises(ClientError) as e:
            ddb.describe_export(ExportArn=bad)
        assert err(e) == ("ValidationException", "Invalid Export ARN")

    # A missing bucket fails the export, as AWS reports it.
    d = wait(ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="no-such-bucket")
             ["ExportDescription"]["ExportArn"])
    assert d["ExportStatus"] == "FAILED"
    assert d["FailureCode"] == "S3NoSuchBucket"
    # As AWS words it (ack-api-quirks DDB-EXPORT-010): the Java SDK's rendering of S3's error.
    assert re.fullmatch(r"The specified bucket does not exist \(Service: Amazon S3; Status Code: 404; "
                        r"Error Code: NoSuchBucket; Request ID: [A-Z0-9]{16}; S3 Extended Request ID: \S+; "
                        r"Proxy: null\)", d["FailureMessage"]), d["FailureMessage"]
    # A bucket owned by someone else than S3BucketOwner says: refused.
    d = wait(ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="listed",
                                                    S3BucketOwner="111122223333")
             ["ExportDescription"]["ExportArn"])
    assert (d["ExportStatus"], d["FailureCode"]) == ("FAILED", "S3AccessDenied")

    _, other = setup_table(aloft, "Other")
    arns = [ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="listed")["ExportDescription"]["ExportArn"]
            for _ in range(3)]
    ddb.export_table_to_point_in_time(TableArn=other, S3Bucket="listed")
    for a in arns:
        wait(ddb, a)
    seen, token = [], None
    while True:
        kw = {"TableArn": arn, "MaxResults": 2}
        if token:
            kw["NextToken"] = token
        page = ddb.list_exports(**kw)
        assert len(page["ExportSummaries"]) <= 2
        seen += page["ExportSummaries"]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 5
    assert all(s["ExportArn"].startswith(arn + "/export/") for s in seen)
    assert {s["ExportType"] for s in seen} == {"FULL_EXPORT"}
    assert [s["ExportStatus"] for s in seen].count("FAILED") == 2
    assert len(ddb.list_exports()["ExportSummaries"]) == 6
    with pytest.raises(ClientError) as e:
        ddb.list_exports(MaxResults=26)
    assert err(e)[0] == "ValidationException"


def test_cli_export_and_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    a.client("s3").create_bucket(Bucket="durable")
    ddb, arn = setup_table(a)
    ddb.put_item(TableName="Tab", Item=ITEMS[1])
    out = a.cli_json("dynamodb", "export-table-to-point-in-time", "--table-arn", arn,
                     "--s3-bucket", "durable", "--export-format", "DYNAMODB_JSON")
    export_arn = out["ExportDescription"]["ExportArn"]
    d = wait(ddb, export_arn)
    assert d["ExportStatus"] == "COMPLETED"
    listed = a.cli_json("dynamodb", "list-exports", "--table-arn", arn)["ExportSummaries"]
    assert [s["ExportArn"] for s in listed] == [export_arn]
    a.stop()
    b = aloft_factory(data_dir=tmp_path)
    again = b.client("dynamodb").describe_export(ExportArn=export_arn)["ExportDescription"]
    assert again["ExportStatus"] == "COMPLETED" and again["ItemCount"] == 1
    assert again["ExportManifest"] == d["ExportManifest"]
    _, _, data = files(b.client("s3"), "durable", again)
    assert json.loads(data[0]) == {"Item": wire(ITEMS[1])}


def test_export_to_another_accounts_bucket(aloft):
    import boto3
    other = boto3.client("s3", endpoint_url=aloft.url, region_name="us-east-1",
                         aws_access_key_id="111122223333", aws_secret_access_key="test")
    other.create_bucket(Bucket="partner-bucket")
    ddb, arn = setup_table(aloft)
    ddb.put_item(TableName="Tab", Item=ITEMS[2])
    # The bucket's owner has granted nothing yet: refused.
    d = wait(ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="partner-bucket",
                                                    S3BucketOwner="111122223333")
             ["ExportDescription"]["ExportArn"])
    assert (d["ExportStatus"], d["FailureCode"]) == ("FAILED", "S3AccessDenied")
    other.put_bucket_policy(Bucket="partner-bucket", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                       "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
                       "Resource": "arn:aws:s3:::partner-bucket/*"}]}))
    d = wait(ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="partner-bucket",
                                                    S3BucketOwner="111122223333")
             ["ExportDescription"]["ExportArn"])
    assert d["ExportStatus"] == "COMPLETED" and d["S3BucketOwner"] == "111122223333"
    _, _, data = files(other, "partner-bucket", d)
    assert json.loads(data[0]) == {"Item": wire(ITEMS[2])}


def test_export_interrupted_by_kill_completes_after_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    a.client("s3").create_bucket(Bucket="resumed")
    ddb, arn = setup_table(a)
    for b in range(80):
        ddb.batch_write_item(RequestItems={"Tab": [
            {"PutRequest": {"Item": {"pk": {"S": f"k{b}"}, "sk": {"N": str(i)}, "v": {"S": "x" * 100}}}}
            for i in range(25)]})
    export_arn = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="resumed")["ExportDescription"]["ExportArn"]
    # Killed at once: the export is journaled as IN_PROGRESS (at most a few files written).
    a.kill()
    b = aloft_factory(data_dir=tmp_path)
    d = wait(b.client("dynamodb"), export_arn)
    assert d["ExportStatus"] == "COMPLETED" and d["ItemCount"] == 2000
    _, _, data = files(b.client("s3"), "resumed", d)
    keys = {(json.loads(l)["Item"]["pk"]["S"], json.loads(l)["Item"]["sk"]["N"]) for t in data for l in t.splitlines()}
    assert len(keys) == 2000


@pytest.mark.parametrize("fmt", ["DYNAMODB_JSON", "ION"])
def test_an_export_imports_back_into_a_new_table(aloft, fmt):
    """The round trip users make: export a table, then ImportTable from the export's data files
    into another table, which then holds the same items (every data type)."""
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="trip")
    ddb, arn = setup_table(aloft)
    for i in ITEMS:
        ddb.put_item(TableName="Tab", Item=i)
    out = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="trip", S3Prefix="x",
                                            ExportFormat=fmt)["ExportDescription"]
    assert wait(ddb, out["ExportArn"])["ExportStatus"] == "COMPLETED"
    export_id = out["ExportArn"].rsplit("/", 1)[1]
    imp = ddb.import_table(
        S3BucketSource={"S3Bucket": "trip", "S3KeyPrefix": f"x/AWSDynamoDB/{export_id}/data/"},
        InputFormat=fmt, InputCompressionType="GZIP",
        TableCreationParameters={
            "TableName": "Copy", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}]})["ImportTableDescription"]
    for _ in range(500):
        d = ddb.describe_import(ImportArn=imp["ImportArn"])["ImportTableDescription"]
        if d["ImportStatus"] != "IN_PROGRESS":
            break
        time.sleep(0.01)
    assert d["ImportStatus"] == "COMPLETED", d
    assert (d["ImportedItemCount"], d["ErrorCount"]) == (len(ITEMS), 0)
    key = lambda i: (i["pk"]["S"], i["sk"]["N"])
    original = sorted(ddb.scan(TableName="Tab")["Items"], key=key)
    copy = sorted(ddb.scan(TableName="Copy")["Items"], key=key)
    assert copy == original


def test_list_exports_follows_the_table_that_exists_now(aloft):
    # As measured against DynamoDB (ack-api-quirks DDB-EXPORT-020): the export outlives its
    # table for DescribeExport, but ListExports by TableArn lists the present table's only.
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket="gone")
    ddb, arn = setup_table(aloft, "Gone")
    export = wait(ddb, ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="gone")
                  ["ExportDescription"]["ExportArn"])
    assert [s["ExportArn"] for s in ddb.list_exports(TableArn=arn)["ExportSummaries"]] == [export["ExportArn"]]
    ddb.delete_table(TableName="Gone")
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []
    assert ddb.describe_export(ExportArn=export["ExportArn"])["ExportDescription"]["ExportStatus"] == "COMPLETED"
    setup_table(aloft, "Gone")
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []
    assert [s["ExportArn"] for s in ddb.list_exports()["ExportSummaries"]] == [export["ExportArn"]]
    # A token from another listing is an empty page; a token of nothing is refused.
    ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="gone")
    page = ddb.list_exports(MaxResults=1)
    assert ddb.list_exports(TableArn=arn, NextToken=page["NextToken"])["ExportSummaries"] == []
    with pytest.raises(ClientError) as e:
        ddb.list_exports(NextToken="bm90LWFuLWV4cG9ydA")
    assert err(e) == ("ValidationException", "Invalid Request: Provided nextToken is invalid: bm90LWFuLWV4cG9ydA")
