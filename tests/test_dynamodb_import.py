"""DynamoDB ImportTable from Aloft's S3: CSV, DynamoDB JSON and Ion sources (plain and gzip),
bad records counted and logged to CloudWatch Logs, DescribeImport/ListImports, the errors, and
import descriptions that survive a restart under --data-dir."""

import gzip
import json
import time

import botocore.exceptions
import pytest

KEYS_S = [{"AttributeName": "pk", "AttributeType": "S"}]
HASH_S = [{"AttributeName": "pk", "KeyType": "HASH"}]


def creation(name, defs=None, keys=None, **extra):
    p = {"TableName": name, "AttributeDefinitions": defs or KEYS_S, "KeySchema": keys or HASH_S,
         "BillingMode": "PAY_PER_REQUEST"}
    p.update(extra)
    return p


def wait_import(ddb, arn):
    """Polls DescribeImport until the import leaves IN_PROGRESS (it runs in the background)."""
    for _ in range(400):
        d = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        if d["ImportStatus"] != "IN_PROGRESS":
            return d
        time.sleep(0.025)
    raise AssertionError(f"import {arn} still IN_PROGRESS")


def bucket(aloft, name, objects):
    s3 = aloft.client("s3")
    s3.create_bucket(Bucket=name)
    for key, body in objects.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    return s3


def scan(ddb, table):
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def test_csv_import_keys_typed_other_columns_strings_bad_lines_counted_and_logged(aloft):
    csv = ('pk,sk,price,note\n'
           'a,1,9.50,"quoted, with comma"\n'
           'a,2,10,"say ""hi"""\n'
           'b,3,,\n'
           'c,notanumber,1,x\n'      # wrong type for the N sort key
           ',4,1,x\n'                # empty partition key
           'd,5,1\n')                # too few columns
    bucket(aloft, "src", {"in/data.csv": csv})
    ddb = aloft.client("dynamodb")
    out = ddb.import_table(
        S3BucketSource={"S3Bucket": "src", "S3KeyPrefix": "in/"},
        InputFormat="CSV",
        TableCreationParameters=creation(
            "csvt",
            defs=KEYS_S + [{"AttributeName": "sk", "AttributeType": "N"}],
            keys=HASH_S + [{"AttributeName": "sk", "KeyType": "RANGE"}]))
    d = out["ImportTableDescription"]
    assert d["ImportStatus"] == "IN_PROGRESS"
    assert d["ImportArn"].startswith("arn:aws:dynamodb:us-east-1:000000000000:table/csvt/import/")
    assert d["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/csvt"
    assert d["InputFormat"] == "CSV"
    d = wait_import(ddb, d["ImportArn"])
    assert d["ImportStatus"] == "COMPLETED"
    assert d["ProcessedItemCount"] == 6
    assert d["ImportedItemCount"] == 3
    assert d["ErrorCount"] == 3
    assert d["ProcessedSizeBytes"] == len(csv.encode())
    assert d["CloudWatchLogGroupArn"] == \
        "arn:aws:logs:us-east-1:000000000000:log-group:/aws-dynamodb/imports:*"
    assert d["EndTime"] >= d["StartTime"]

    assert ddb.describe_table(TableName="csvt")["Table"]["TableStatus"] == "ACTIVE"
    items = ddb.query(TableName="csvt", KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "a"}})["Items"]
    assert items == [
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "price": {"S": "9.50"}, "note": {"S": "quoted, with comma"}},
        {"pk": {"S": "a"}, "sk": {"N": "2"}, "price": {"S": "10"}, "note": {"S": 'say "hi"'}},
    ]
    # An empty cell is no attribute.
    assert ddb.get_item(TableName="csvt", Key={"pk": {"S": "b"}, "sk": {"N": "3"}})["Item"] == \
        {"pk": {"S": "b"}, "sk": {"N": "3"}}
    assert len(scan(ddb, "csvt")) == 3

    logs = aloft.client("logs")
    events = logs.filter_log_events(logGroupName="/aws-dynamodb/imports")["events"]
    assert len(events) == 3
    msgs = [json.loads(e["message"]) for e in events]
    assert {m["itemS3Pointer"]["itemIndex"] for m in msgs} == {3, 4, 5}
    for m in msgs:
        assert m["importArn"] == d["ImportArn"]
        assert m["itemS3Pointer"]["bucket"] == "src"
        assert m["itemS3Pointer"]["key"] == "in/data.csv"
        assert len(m["errorMessages"]) == 1


def test_csv_header_list_delimiter_and_gzip(aloft):
    body = gzip.compress(b"k1\tone\nk2\ttwo\n")
    bucket(aloft, "src-gz", {"p/a.csv.gz": body})
    ddb = aloft.client("dynamodb")
    arn = ddb.import_table(
        S3BucketSource={"S3Bucket": "src-gz", "S3KeyPrefix": "p/"},
        InputFormat="CSV",
        InputCompressionType="GZIP",
        InputFormatOptions={"Csv": {"Delimiter": "\t", "HeaderList": ["pk", "word"]}},
        TableCreationParameters=creation("gzt"))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert (d["ImportStatus"], d["ImportedItemCount"], d["ErrorCount"]) == ("COMPLETED", 2, 0)
    assert d["InputCompressionType"] == "GZIP"
    assert d["InputFormatOptions"] == {"Csv": {"Delimiter": "\t", "HeaderList": ["pk", "word"]}}
    # The first line is data when HeaderList is given.
    assert ddb.get_item(TableName="gzt", Key={"pk": {"S": "k1"}})["Item"] == \
        {"pk": {"S": "k1"}, "word": {"S": "one"}}
    assert ddb.get_item(TableName="gzt", Key={"pk": {"S": "k2"}})["Item"]["word"] == {"S": "two"}


def test_dynamodb_json_every_object_under_the_prefix_with_a_gsi(aloft):
    line = lambda item: json.dumps({"Item": item})  # noqa: E731
    part1 = "\n".join([
        line({"pk": {"S": "u1"}, "email": {"S": "a@x"}, "n": {"N": "1.50"}, "tags": {"SS": ["x", "y"]},
              "m": {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}]}}}, "b": {"B": "AQI="}}),
        line({"pk": {"S": "u2"}, "email": {"S": "b@x"}}),
        "{not json",
        line({"pk": {"N": "7"}}),                              # wrong key type
        line({"pk": {"S": "u3"}, "email": {"N": "5"}}),        # wrong GSI key type
        line({"pk": {"S": "u4"}, "n": {"N": "1e200"}}),        # number out of range
    ]) + "\n"
    part2 = line({"pk": {"S": "u5"}, "email": {"S": "a@x"}}) + "\n"
    bucket(aloft, "src-js", {"exp/data/1.json": part1, "exp/data/2.json": part2,
                         "other/x.json": line({"pk": {"S": "nope"}})})
    ddb = aloft.client("dynamodb")
    gsi = [{"IndexName": "by-email", "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}]
    arn = ddb.import_table(
        S3BucketSource={"S3Bucket": "src-js", "S3KeyPrefix": "exp/data/"},
        InputFormat="DYNAMODB_JSON",
        TableCreationParameters=creation(
            "jst", defs=KEYS_S + [{"AttributeName": "email", "AttributeType": "S"}],
            GlobalSecondaryIndexes=gsi))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert d["ImportStatus"] == "COMPLETED"
    assert (d["ProcessedItemCount"], d["ImportedItemCount"], d["ErrorCount"]) == (7, 3, 4)
    got = {i["pk"]["S"]: i for i in scan(ddb, "jst")}
    assert set(got) == {"u1", "u2", "u5"}
    assert got["u1"]["n"] == {"N": "1.5"}
    assert got["u1"]["tags"] == {"SS": ["x", "y"]}
    assert got["u1"]["m"] == {"M": {"deep": {"L": [{"BOOL": True}, {"NULL": True}]}}}
    assert got["u1"]["b"] == {"B": b"\x01\x02"}
    q = ddb.query(TableName="jst", IndexName="by-email", KeyConditionExpression="email = :e",
                  ExpressionAttributeValues={":e": {"S": "a@x"}})["Items"]
    assert sorted(i["pk"]["S"] for i in q) == ["u1", "u5"]
    t = ddb.describe_table(TableName="jst")["Table"]
    assert t["ItemCount"] == 3
    assert t["GlobalSecondaryIndexes"][0]["IndexName"] == "by-email"


def test_ion_text_as_exports_write_it(aloft):
    ion = ('$ion_1_0 {Item:{pk:"i1",Authors:$dynamodb_SS::["A1","A2"],Id:103.,Price:2d3,'
           'Ok:false,Z:null,B:{{AQI=}},L:[1,"x"],M:{inner:"v"},NS:$dynamodb_NS::[1.,2.5]}}\n'
           '$ion_1_0 {Item:{pk:"i2",note:\'\'\'long \'\'\' \'\'\'string\'\'\'}}\n'
           '$ion_1_0 {Item:{pk:2007-02-23T12:14Z}}\n')
    bucket(aloft, "ion", {"data.ion": ion})
    ddb = aloft.client("dynamodb")
    arn = ddb.import_table(S3BucketSource={"S3Bucket": "ion"}, InputFormat="ION",
                           TableCreationParameters=creation("iont"))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert (d["ImportStatus"], d["ImportedItemCount"], d["ErrorCount"]) == ("COMPLETED", 2, 1)
    i1 = ddb.get_item(TableName="iont", Key={"pk": {"S": "i1"}})["Item"]
    assert i1 == {"pk": {"S": "i1"}, "Authors": {"SS": ["A1", "A2"]}, "Id": {"N": "103"},
                  "Price": {"N": "2000"}, "Ok": {"BOOL": False}, "Z": {"NULL": True},
                  "B": {"B": b"\x01\x02"}, "L": {"L": [{"N": "1"}, {"S": "x"}]},
                  "M": {"M": {"inner": {"S": "v"}}}, "NS": {"NS": ["1", "2.5"]}}
    assert ddb.get_item(TableName="iont", Key={"pk": {"S": "i2"}})["Item"]["note"] == {"S": "long string"}


def test_errors_existing_table_unknown_import_and_client_token(aloft):
    bucket(aloft, "src-e", {"a.json": json.dumps({"Item": {"pk": {"S": "1"}}}) + "\n"})
    ddb = aloft.client("dynamodb")
    ddb.create_table(**creation("exists"))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ddb.import_table(S3BucketSource={"S3Bucket": "src-e"}, InputFormat="DYNAMODB_JSON",
                         TableCreationParameters=creation("exists"))
    assert e.value.response["Error"]["Code"] == "ResourceInUseException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(ddb.exceptions.ImportNotFoundException):
        ddb.describe_import(
            ImportArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/import/01700000000000-abcd1234")

    args = dict(S3BucketSource={"S3Bucket": "src-e"}, InputFormat="DYNAMODB_JSON",
                TableCreationParameters=creation("tok"), ClientToken="t-1")
    first = ddb.import_table(**args)["ImportTableDescription"]
    assert first["ClientToken"] == "t-1"
    wait_import(ddb, first["ImportArn"])
    # An identical retry with the token is the same import, not a second one (nor an error
    # although the table now exists).
    again = ddb.import_table(**args)["ImportTableDescription"]
    assert again["ImportArn"] == first["ImportArn"]
    assert again["ImportStatus"] == "COMPLETED"
    changed = dict(args, InputFormat="ION")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ddb.import_table(**changed)
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"

    # Bad table parameters are CreateTable's validation errors, before anything starts.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ddb.import_table(S3BucketSource={"S3Bucket": "src-e"}, InputFormat="CSV",
                         TableCreationParameters=creation(
                             "bad", defs=[{"AttributeName": "other", "AttributeType": "S"}]))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ddb.import_table(S3BucketSource={"S3Bucket": "src-e"}, InputFormat="CSV",
                         InputFormatOptions={"Csv": {"Delimiter": "x"}},
                         TableCreationParameters=creation("bad2"))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert ddb.list_tables()["TableNames"] == ["exists", "tok"]


def test_missing_bucket_fails_the_import_and_creates_no_table(aloft):
    ddb = aloft.client("dynamodb")
    arn = ddb.import_table(S3BucketSource={"S3Bucket": "no-such-bucket-here"}, InputFormat="CSV",
                           TableCreationParameters=creation("nob"))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert d["ImportStatus"] == "FAILED"
    assert d["FailureCode"] == "S3NoSuchBucket"
    assert d["FailureMessage"]
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName="nob")


def test_list_imports_filter_and_pages(aloft):
    bucket(aloft, "src-l", {"a.json": json.dumps({"Item": {"pk": {"S": "1"}}}) + "\n"})
    ddb = aloft.client("dynamodb")
    arns = []
    for n in ["li1", "li2", "li3"]:
        arn = ddb.import_table(S3BucketSource={"S3Bucket": "src-l"}, InputFormat="DYNAMODB_JSON",
                               TableCreationParameters=creation(n))["ImportTableDescription"]["ImportArn"]
        wait_import(ddb, arn)
        arns.append(arn)
    page = ddb.list_imports(PageSize=2)
    assert [s["ImportArn"] for s in page["ImportSummaryList"]] == arns[:2]
    rest = ddb.list_imports(PageSize=2, NextToken=page["NextToken"])
    assert [s["ImportArn"] for s in rest["ImportSummaryList"]] == arns[2:]
    assert "NextToken" not in rest
    only = ddb.list_imports(TableArn="arn:aws:dynamodb:us-east-1:000000000000:table/li2")
    s = only["ImportSummaryList"]
    assert [x["ImportArn"] for x in s] == [arns[1]]
    assert s[0]["ImportStatus"] == "COMPLETED"
    assert s[0]["S3BucketSource"] == {"S3Bucket": "src-l"}
    assert s[0]["InputFormat"] == "DYNAMODB_JSON"
    # Another region sees none of them.
    assert aloft.client("dynamodb", region="eu-west-1").list_imports()["ImportSummaryList"] == []


def test_cli_import_table(aloft):
    bucket(aloft, "cli", {"x.csv": "pk,v\nz,1\n"})
    d = aloft.cli_json(
        "dynamodb", "import-table", "--input-format", "CSV",
        "--s3-bucket-source", "S3Bucket=cli",
        "--table-creation-parameters", json.dumps(creation("clit")))["ImportTableDescription"]
    ddb = aloft.client("dynamodb")
    assert wait_import(ddb, d["ImportArn"])["ImportStatus"] == "COMPLETED"
    assert ddb.get_item(TableName="clit", Key={"pk": {"S": "z"}})["Item"]["v"] == {"S": "1"}


def test_import_descriptions_and_items_survive_a_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path / "d")
    bucket(a, "dur", {"x.csv": "pk,v\nr1,1\nr2,2\n"})
    ddb = a.client("dynamodb")
    arn = ddb.import_table(S3BucketSource={"S3Bucket": "dur"}, InputFormat="CSV",
                           TableCreationParameters=creation("durt"))["ImportTableDescription"]["ImportArn"]
    before = wait_import(ddb, arn)
    assert before["ImportStatus"] == "COMPLETED"
    a.stop()
    b = aloft_factory(data_dir=tmp_path / "d")
    ddb = b.client("dynamodb")
    after = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
    assert after == before
    assert sorted(i["pk"]["S"] for i in scan(ddb, "durt")) == ["r1", "r2"]


# `printf 'pk,v\nz1,one\nz2,two\n' | zstd -c`, twice: two frames, as parallel compressors write.
ZSTD_CSV = bytes.fromhex("28b52ffd0458990000706b2c760a7a312c6f6e650a7a322c74776f0aa8d8b28a")


def test_zstd_objects_several_frames_and_a_corrupt_object_counted(aloft):
    bucket(aloft, "src-zstd", {"z/a.csv.zst": ZSTD_CSV + ZSTD_CSV, "z/bad.csv.zst": b"not zstd"})
    ddb = aloft.client("dynamodb")
    arn = ddb.import_table(S3BucketSource={"S3Bucket": "src-zstd", "S3KeyPrefix": "z/"},
                           InputFormat="CSV", InputCompressionType="ZSTD",
                           TableCreationParameters=creation("zstdt"))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert d["ImportStatus"] == "COMPLETED"
    # The frames decompress into one text: the second frame's header line is data (an item
    # with pk "pk"); the duplicates overwrite. The corrupt object is one error.
    assert d["ErrorCount"] == 1
    assert (d["ProcessedItemCount"], d["ImportedItemCount"]) == (5, 5)
    assert sorted(i["pk"]["S"] for i in scan(ddb, "zstdt")) == ["pk", "z1", "z2"]
    assert ddb.get_item(TableName="zstdt", Key={"pk": {"S": "z2"}})["Item"] == \
        {"pk": {"S": "z2"}, "v": {"S": "two"}}


def test_wrong_bucket_owner_fails_with_access_denied(aloft):
    bucket(aloft, "src-owned", {"a.csv": "pk\nx\n"})
    ddb = aloft.client("dynamodb")
    arn = ddb.import_table(S3BucketSource={"S3Bucket": "src-owned", "S3BucketOwner": "111122223333"},
                           InputFormat="CSV",
                           TableCreationParameters=creation("ownt"))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert (d["ImportStatus"], d["FailureCode"]) == ("FAILED", "S3AccessDenied")
    assert d["S3BucketSource"]["S3BucketOwner"] == "111122223333"
    # The name is free again after a failed import.
    ddb.create_table(**creation("ownt"))


PIECE = 1 << 20  # the bytes of a source object the importer reads at a time


def test_objects_larger_than_a_read_piece_import_whole(aloft):
    """Sources are read in 1 MiB ranges: a record, a quoted newline and a UTF-8 character
    across a range's end read as in one piece, counts and sizes are the whole object's."""
    import hashlib
    import random
    header = "pk,n,v\n"
    rows = []
    size = len(header)
    i = 0
    while size < 2 * PIECE + 300_000:
        row = f"k{i:05d},{i},{'x' * 900}\n"
        # Placed so that the first range ends inside its quoted field, past "é"'s first byte.
        if size < PIECE <= size + len(row) + 40:
            pre = f"edge,{i},\"a\nb"
            pad = PIECE - size - len(pre.encode()) - 1
            row = f"{pre}{'y' * pad}é tail\"\n"
        rows.append(row)
        size += len(row.encode())
        i += 1
    text = (header + "".join(rows)).encode()
    edge = text.index(b"\xc3\xa9")
    assert edge == PIECE - 1  # "é" is split by the first range's end
    # Not compressible below a range: random hex, gzipped.
    rnd = random.Random(7)
    gz_rows = ["pk,v\n"] + [
        "g%d,%s\n" % (j, "".join(hashlib.sha256(str(rnd.random()).encode()).hexdigest()
                                  for _ in range(8)))
        for j in range(5000)]
    gz_text = "".join(gz_rows).encode()
    gz = gzip.compress(gz_text)
    assert len(gz) > PIECE
    bucket(aloft, "src-big", {"big/a.csv": text, "big/b.csv.gz": gz})
    ddb = aloft.client("dynamodb")
    arn = ddb.import_table(S3BucketSource={"S3Bucket": "src-big", "S3KeyPrefix": "big/a"},
                           InputFormat="CSV",
                           TableCreationParameters=creation("bigt"))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert (d["ImportStatus"], d["ErrorCount"]) == ("COMPLETED", 0)
    assert d["ProcessedItemCount"] == d["ImportedItemCount"] == len(rows)
    assert d["ProcessedSizeBytes"] == len(text)
    got = ddb.get_item(TableName="bigt", Key={"pk": {"S": "edge"}})["Item"]
    assert got["v"]["S"].startswith("a\nb") and got["v"]["S"].endswith("yé tail")
    last = rows[-1].split(",")[0]
    assert ddb.get_item(TableName="bigt", Key={"pk": {"S": last}})["Item"]["v"]["S"] == "x" * 900

    arn = ddb.import_table(S3BucketSource={"S3Bucket": "src-big", "S3KeyPrefix": "big/b"},
                           InputFormat="CSV", InputCompressionType="GZIP",
                           TableCreationParameters=creation("bigz"))["ImportTableDescription"]["ImportArn"]
    d = wait_import(ddb, arn)
    assert (d["ImportStatus"], d["ErrorCount"], d["ImportedItemCount"]) == ("COMPLETED", 0, 5000)
    assert d["ProcessedSizeBytes"] == len(gz_text)
    assert ddb.get_item(TableName="bigz", Key={"pk": {"S": "g4999"}})["Item"]["v"]["S"] == \
        gz_rows[-1].split(",")[1].strip()


def test_another_accounts_bucket_is_judged_by_its_policy_conditions_and_denies(aloft):
    import boto3
    other = boto3.client("s3", endpoint_url=aloft.url, region_name="us-east-1",
                         aws_access_key_id="111122223333", aws_secret_access_key="test")
    other.create_bucket(Bucket="partner-src")
    other.put_object(Bucket="partner-src", Key="in/a.csv", Body=b"pk\nx\ny\n")
    ddb = aloft.client("dynamodb")

    def run(table):
        arn = ddb.import_table(
            S3BucketSource={"S3Bucket": "partner-src", "S3KeyPrefix": "in/",
                            "S3BucketOwner": "111122223333"},
            InputFormat="CSV",
            TableCreationParameters=creation(table))["ImportTableDescription"]["ImportArn"]
        return wait_import(ddb, arn)

    me = "arn:aws:iam::000000000000:root"
    grant = {"Effect": "Allow", "Principal": {"AWS": me},
             "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::partner-src", "arn:aws:s3:::partner-src/*"],
             # Conditions are evaluated (by IAM's evaluator, as for a request).
             "Condition": {"StringEquals": {"aws:PrincipalAccount": "000000000000"}}}
    not_me = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
              "Resource": "arn:aws:s3:::partner-src/*",
              "Condition": {"StringEquals": {"aws:PrincipalAccount": "999999999999"}}}
    other.put_bucket_policy(Bucket="partner-src", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [grant, not_me]}))
    d = run("granted")
    assert (d["ImportStatus"], d["ImportedItemCount"]) == ("COMPLETED", 2)

    # A Deny naming the reader wins over the grant.
    deny = {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::partner-src/*"}
    other.put_bucket_policy(Bucket="partner-src", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [grant, deny]}))
    d = run("denied")
    assert (d["ImportStatus"], d["FailureCode"]) == ("FAILED", "S3AccessDenied")

    # A grant whose condition does not hold grants nothing.
    grant["Condition"] = {"StringEquals": {"aws:PrincipalAccount": "222233334444"}}
    other.put_bucket_policy(Bucket="partner-src", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": [grant]}))
    d = run("ungranted")
    assert (d["ImportStatus"], d["FailureCode"]) == ("FAILED", "S3AccessDenied")
