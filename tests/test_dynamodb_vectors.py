"""DynamoDB vector indexes and SearchVectors, driven with boto3 (the AWS CLI v1 in the venv
predates search-vectors).

Search is exact in Aloft, so every expectation below is the true nearest-neighbour order.
"""

import math

import botocore.exceptions
import pytest


def nums(v):
    return {"L": [{"N": repr(float(x))} for x in v]}


def vindex(name="byEmb", dims=3, distance="COSINE", projection=None, schema=None):
    ix = {
        "IndexName": name,
        "VectorAttribute": {"AttributeName": "emb"},
        "Dimensions": dims,
        "DistanceFunction": distance,
        "Projection": projection or {"ProjectionType": "ALL"},
    }
    if schema is not None:
        ix["SearchSchema"] = schema
    return ix


def create(ddb, name="docs", indexes=None, defs=(), **extra):
    args = dict(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}]
        + [{"AttributeName": n, "AttributeType": t} for n, t in defs],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        **extra,
    )
    if indexes is not None:
        args["VectorIndexes"] = indexes
    return ddb.create_table(**args)


def put(ddb, id, emb, table="docs", **attrs):
    item = {"id": {"S": id}, "emb": nums(emb)}
    item.update(attrs)
    ddb.put_item(TableName=table, Item=item)


def search(ddb, vector, k=10, table="docs", index="byEmb", **kw):
    return ddb.search_vectors(
        TableName=table, IndexName=index, SearchVector=[{"N": repr(float(x))} for x in vector], TopK=k, **kw
    )


def ids(resp):
    return [r["Item"]["id"]["S"] for r in resp["SearchResults"]]


def scores(resp):
    return [r["Score"] for r in resp["SearchResults"]]


def error(fn, *a, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*a, **kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


POINTS = {"a": [1, 0, 0], "b": [0.9, 0.1, 0], "c": [0, 1, 0], "d": [-1, 0, 0], "e": [2, 2, 0]}


def seed(ddb, distance):
    create(ddb, indexes=[vindex(distance=distance)])
    for k, v in POINTS.items():
        put(ddb, k, v)


def test_create_and_describe_vector_index(aloft):
    ddb = aloft.client("dynamodb")
    desc = create(
        ddb,
        indexes=[vindex(schema=[{"AttributeName": "cat", "SearchSchemaElementType": "HASH"}])],
        defs=[("cat", "S")],
    )["TableDescription"]
    assert desc["VectorIndexes"][0]["IndexName"] == "byEmb"
    put(ddb, "a", [1, 2, 3], cat={"S": "x"})
    put(ddb, "b", [1, 2, 3])  # no HASH attribute: not in the index
    ddb.put_item(TableName="docs", Item={"id": {"S": "c"}})  # no vector: not in the index
    vi = ddb.describe_table(TableName="docs")["Table"]["VectorIndexes"][0]
    assert vi["VectorAttribute"] == {"AttributeName": "emb"}
    assert vi["Dimensions"] == 3
    assert vi["DistanceFunction"] == "COSINE"
    assert vi["SearchSchema"] == [{"AttributeName": "cat", "SearchSchemaElementType": "HASH"}]
    assert vi["Projection"] == {"ProjectionType": "ALL"}
    assert vi["IndexStatus"] == "ACTIVE"
    assert vi["Backfilling"] is False
    assert vi["ItemCount"] == 1
    assert vi["IndexSizeBytes"] > 12
    assert vi["IndexArn"].endswith(":table/docs/index/byEmb")


def test_cosine_returns_the_k_smallest_scores(aloft):
    ddb = aloft.client("dynamodb")
    seed(ddb, "COSINE")
    r = search(ddb, [1, 0, 0], k=5)
    assert ids(r) == ["a", "b", "e", "c", "d"]
    s = scores(r)
    assert s[0] == pytest.approx(0.0, abs=1e-6)
    assert s[1] == pytest.approx(1 - 0.9 / math.hypot(0.9, 0.1), abs=1e-6)
    assert s[2] == pytest.approx(1 - math.sqrt(0.5), abs=1e-6)
    assert s[3] == pytest.approx(1.0, abs=1e-6)
    assert s[4] == pytest.approx(2.0, abs=1e-6)
    assert ids(search(ddb, [1, 0, 0], k=2)) == ["a", "b"]


def test_euclidean_returns_distances(aloft):
    ddb = aloft.client("dynamodb")
    seed(ddb, "EUCLIDEAN")
    r = search(ddb, [1, 0, 0], k=3)
    assert ids(r) == ["a", "b", "c"]
    assert scores(r) == pytest.approx([0.0, math.hypot(0.1, 0.1), math.sqrt(2)], abs=1e-6)


def test_dot_product_returns_the_k_highest_scores(aloft):
    ddb = aloft.client("dynamodb")
    seed(ddb, "DOT_PRODUCT")
    r = search(ddb, [1, 0.5, 0], k=4)
    assert ids(r) == ["e", "a", "b", "c"]
    assert scores(r) == pytest.approx([3.0, 1.0, 0.95, 0.5], abs=1e-6)
    assert ids(search(ddb, [1, 0.5, 0], k=1)) == ["e"]
    assert ids(search(ddb, [1, 0.5, 0], k=100))[-1] == "d"


def test_search_condition_filters_on_the_search_schema(aloft):
    ddb = aloft.client("dynamodb")
    schema = [
        {"AttributeName": "cat", "SearchSchemaElementType": "HASH"},
        {"AttributeName": "yr", "SearchSchemaElementType": "INLINE_FILTER"},
    ]
    create(ddb, indexes=[vindex(distance="EUCLIDEAN", schema=schema)], defs=[("cat", "S"), ("yr", "N")])
    put(ddb, "a", [0, 0, 0], cat={"S": "books"}, yr={"N": "2020"})
    put(ddb, "b", [1, 0, 0], cat={"S": "books"}, yr={"N": "2024"})
    put(ddb, "c", [0, 0, 0], cat={"S": "films"}, yr={"N": "2024"})
    r = search(ddb, [0, 0, 0], SearchConditionExpression="cat = :c", ExpressionAttributeValues={":c": {"S": "books"}})
    assert ids(r) == ["a", "b"]
    r = search(
        ddb,
        [0, 0, 0],
        SearchConditionExpression="#c = :c AND yr >= :y",
        ExpressionAttributeNames={"#c": "cat"},
        ExpressionAttributeValues={":c": {"S": "books"}, ":y": {"N": "2021"}},
    )
    assert ids(r) == ["b"]
    code, msg = error(search, ddb, [0, 0, 0])
    assert (code, msg) == (
        "ValidationException",
        "SearchConditionExpression must be provided when SearchSchema has a HASH key",
    )
    code, msg = error(
        search, ddb, [0, 0, 0], SearchConditionExpression="cat <> :c", ExpressionAttributeValues={":c": {"S": "x"}}
    )
    # AWS's words, as captured from DynamoDB (dynoxide's conformance notes, 2026-08).
    assert (code, msg) == (
        "ValidationException",
        "Invalid SearchConditionExpression: Invalid comparator used in SearchConditionExpression",
    )
    code, msg = error(
        search,
        ddb,
        [0, 0, 0],
        SearchConditionExpression="cat = :c AND misc = :c",
        ExpressionAttributeValues={":c": {"S": "x"}},
    )
    assert (code, msg) == (
        "ValidationException",
        "SearchConditionExpression must not contain any attributes that is not in SearchSchema. Invalid attribute: misc",
    )
    # A wrong type for a search schema attribute is refused at write time.
    code, msg = error(put, ddb, "z", [0, 0, 0], cat={"N": "1"})
    assert (code, msg) == (
        "ValidationException",
        "One or more parameter values were invalid. Attribute 'cat' type mismatch. Expected: S, Actual: N. IndexName: byEmb",
    )


def test_projection_and_projection_expression(aloft):
    ddb = aloft.client("dynamodb")
    create(
        ddb,
        indexes=[
            vindex(projection={"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}),
            vindex(name="keysOnly", projection={"ProjectionType": "KEYS_ONLY"}),
        ],
    )
    put(ddb, "a", [1, 0, 0], title={"S": "A"}, body={"S": "long text"})
    item = search(ddb, [1, 0, 0])["SearchResults"][0]["Item"]
    assert set(item) == {"id", "emb", "title"}
    item = search(ddb, [1, 0, 0], index="keysOnly")["SearchResults"][0]["Item"]
    assert set(item) == {"id", "emb"}
    item = search(ddb, [1, 0, 0], ProjectionExpression="#t", ExpressionAttributeNames={"#t": "title"})[
        "SearchResults"
    ][0]["Item"]
    assert item == {"title": {"S": "A"}}
    # Attributes not projected into the index are not returned.
    item = search(ddb, [1, 0, 0], ProjectionExpression="id, body")["SearchResults"][0]["Item"]
    assert item == {"id": {"S": "a"}}


def test_writes_change_the_results(aloft):
    ddb = aloft.client("dynamodb")
    seed(ddb, "EUCLIDEAN")
    assert ids(search(ddb, [0, 1, 0], k=1)) == ["c"]
    ddb.update_item(
        TableName="docs",
        Key={"id": {"S": "d"}},
        UpdateExpression="SET emb = :v",
        ExpressionAttributeValues={":v": nums([0, 1, 0.01])},
    )
    assert ids(search(ddb, [0, 1, 0.01], k=1)) == ["d"]
    ddb.delete_item(TableName="docs", Key={"id": {"S": "d"}})
    ddb.update_item(TableName="docs", Key={"id": {"S": "c"}}, UpdateExpression="REMOVE emb")
    assert ids(search(ddb, [0, 1, 0], k=10)) == ["b", "a", "e"]
    ddb.batch_write_item(
        RequestItems={"docs": [{"PutRequest": {"Item": {"id": {"S": "f"}, "emb": nums([0, 5, 0])}}}]}
    )
    ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "docs", "Item": {"id": {"S": "g"}, "emb": nums([0, 1, 0])}}}]
    )
    ddb.execute_statement(Statement="INSERT INTO docs VALUE {'id': 'h', 'emb': [0, 0.9, 0]}")
    assert ids(search(ddb, [0, 1, 0], k=2)) == ["g", "h"]
    assert "f" in ids(search(ddb, [0, 1, 0], k=10))


def test_writes_with_malformed_vectors_are_rejected(aloft):
    ddb = aloft.client("dynamodb")
    create(ddb, indexes=[vindex(dims=3)])
    # AWS's words, as captured from DynamoDB (dynoxide's conformance notes, 2026-08).
    invalid = "One or more parameter values were invalid. "
    code, msg = error(put, ddb, "a", [1, 2])
    assert (code, msg) == (
        "ValidationException",
        invalid + "Invalid size for parameter emb, Expected: 3, Actual: 2 IndexName: byEmb",
    )
    code, msg = error(ddb.put_item, TableName="docs", Item={"id": {"S": "a"}, "emb": {"S": "1,2,3"}})
    assert (code, msg) == (
        "ValidationException",
        invalid + "Invalid type for parameter emb, Expected: 32-bit floating point number list IndexName: byEmb",
    )
    code, msg = error(
        ddb.put_item, TableName="docs", Item={"id": {"S": "a"}, "emb": {"L": [{"N": "1"}, {"S": "2"}, {"N": "3"}]}}
    )
    assert (code, msg) == (
        "ValidationException",
        invalid + "Invalid type for parameter emb[1], Expected: 32-bit floating point number, Actual: S. IndexName: byEmb",
    )
    code, _ = error(
        ddb.update_item,
        TableName="docs",
        Key={"id": {"S": "a"}},
        UpdateExpression="SET emb = :v",
        ExpressionAttributeValues={":v": {"NS": ["1", "2", "3"]}},
    )
    assert code == "ValidationException"
    assert ddb.scan(TableName="docs")["Count"] == 0


def test_update_table_adds_an_index_with_backfill_and_removes_it(aloft):
    ddb = aloft.client("dynamodb")
    create(ddb)
    for k, v in POINTS.items():
        put(ddb, k, v)
    put(ddb, "bad", [1, 2])  # no index yet: any list is accepted, then left out of the index
    desc = ddb.update_table(
        TableName="docs", VectorIndexUpdates=[{"Create": vindex(distance="EUCLIDEAN")}]
    )["TableDescription"]
    assert desc["VectorIndexes"][0]["IndexStatus"] == "CREATING"
    vi = ddb.describe_table(TableName="docs")["Table"]["VectorIndexes"][0]
    assert vi["IndexStatus"] == "ACTIVE" and vi["ItemCount"] == len(POINTS)
    assert ids(search(ddb, [1, 0, 0], k=2)) == ["a", "b"]
    code, msg = error(
        ddb.update_table, TableName="docs", VectorIndexUpdates=[{"Create": vindex(distance="EUCLIDEAN")}]
    )
    assert (code, msg) == ("ValidationException", "Attempting to create an index which already exists")

    desc = ddb.update_table(TableName="docs", VectorIndexUpdates=[{"Delete": {"IndexName": "byEmb"}}])[
        "TableDescription"
    ]
    assert desc["VectorIndexes"][0]["IndexStatus"] == "DELETING"
    assert "VectorIndexes" not in ddb.describe_table(TableName="docs")["Table"]
    code, _ = error(search, ddb, [1, 0, 0])
    assert code == "ValidationException"
    code, _ = error(ddb.update_table, TableName="docs", VectorIndexUpdates=[{"Delete": {"IndexName": "byEmb"}}])
    assert code == "ResourceNotFoundException"


def test_validation_errors(aloft):
    ddb = aloft.client("dynamodb")
    code, msg = error(
        create,
        ddb,
        indexes=[vindex(schema=[{"AttributeName": "cat", "SearchSchemaElementType": "HASH"}])],
    )
    # AWS's words, as measured against DynamoDB (August 2026).
    p = "One or more parameter values were invalid: "
    assert (code, msg) == ("ValidationException", p + "One element in SearchSchema is not defined in attribute definitions")
    code, msg = error(create, ddb, indexes=[vindex(dims=5000)])
    assert (code, msg) == ("ValidationException", p + "Number of dimensions must be between 1 and 4096 inclusive.")
    code, msg = error(create, ddb, indexes=[vindex(name=f"vi{i}") for i in range(6)])
    assert (code, msg) == ("ValidationException", p + "VectorIndex count exceeds the per-table limit of 5")
    code, _ = error(create, ddb, indexes=[vindex(distance="MANHATTAN")])
    assert code == "ValidationException"
    code, msg = error(create, ddb, indexes=[vindex(), vindex()])
    assert code == "ValidationException" and "Duplicate index name" in msg
    code, msg = error(create, ddb, indexes=[vindex(name="one", dims=3), vindex(name="two", dims=4)])
    assert code == "ValidationException" and "same number of dimensions" in msg
    code, msg = error(
        ddb.create_table,
        TableName="prov",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        VectorIndexes=[vindex()],
    )
    assert (code, msg) == ("ValidationException", p + "Vector indexes are only supported for PAY_PER_REQUEST tables")

    create(ddb, indexes=[vindex(dims=3)])
    put(ddb, "a", [1, 0, 0])
    assert error(search, ddb, [1, 0, 0], k=101) == (
        "ValidationException",
        "Provided TopK value '101' is out of valid range. The value must be between 1 and 100 inclusive",
    )
    raw = aloft.client("dynamodb", parameter_validation=False)
    code, msg = error(search, raw, [1, 0, 0], k=0)
    assert code == "ValidationException" and "greater than or equal to 1" in msg
    assert error(search, ddb, [1, 0]) == (
        "ValidationException",
        "Input search vector dimension 2 does not match vector index dimension 3",
    )
    assert error(
        ddb.search_vectors, TableName="docs", IndexName="byEmb", TopK=1,
        SearchVector=[{"N": "1"}, {"S": "x"}, {"N": "0"}],
    ) == (
        "ValidationException",
        "Search vector contains invalid values. All values in the search vector must be a 32-bit floating-point number attribute",
    )
    assert error(search, ddb, [1, 0, 0], index="nope") == (
        "ValidationException",
        "The table does not have the specified index: nope",
    )
    code, _ = error(search, ddb, [1, 0, 0], table="missing")
    assert code == "ResourceNotFoundException"
    code, msg = error(search, ddb, [1, 0, 0], SearchConditionExpression="id = :v")
    assert code == "ValidationException"
    code, msg = error(
        ddb.update_table, TableName="docs", BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    assert (code, msg) == ("ValidationException", p + "Vector indexes are only supported for PAY_PER_REQUEST tables")
    # UpdateTable refuses a sixth index as another error, in other words.
    for i in range(4):
        ddb.update_table(TableName="docs", VectorIndexUpdates=[{"Create": vindex(name=f"more{i}")}])
    code, msg = error(ddb.update_table, TableName="docs", VectorIndexUpdates=[{"Create": vindex(name="sixth")}])
    assert (code, msg) == (
        "LimitExceededException",
        "Subscriber limit exceeded: Number of vector secondary indexes exceeds per-table limit of 5",
    )
    # Query cannot read a vector index.
    code, _ = error(
        ddb.query,
        TableName="docs",
        IndexName="byEmb",
        KeyConditionExpression="id = :v",
        ExpressionAttributeValues={":v": {"S": "a"}},
    )
    assert code == "ValidationException"


def test_table_arn_and_consumed_capacity(aloft):
    ddb = aloft.client("dynamodb")
    arn = create(ddb, indexes=[vindex(dims=3)])["TableDescription"]["TableArn"]
    put(ddb, "a", [1, 0, 0])
    r = search(ddb, [1, 0, 0], table=arn, ReturnConsumedCapacity="TOTAL")
    assert ids(r) == ["a"]
    assert r["ConsumedCapacity"]["VectorSearchRequestBytes"] > 0
    assert "ConsumedCapacity" not in search(ddb, [1, 0, 0])


def test_vector_indexes_survive_a_restart(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    ddb = a.client("dynamodb")
    create(ddb, indexes=[vindex(distance="EUCLIDEAN")])
    for k, v in POINTS.items():
        put(ddb, k, v)
    ddb.delete_item(TableName="docs", Key={"id": {"S": "a"}})
    ddb.create_table(
        TableName="later",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    put(ddb, "x", [1, 1, 1], table="later")
    ddb.update_table(TableName="later", VectorIndexUpdates=[{"Create": vindex(distance="DOT_PRODUCT")}])
    before = search(ddb, [1, 0, 0], k=10)["SearchResults"]
    assert [r["Item"]["id"]["S"] for r in before] == ["b", "c", "d", "e"]
    a.stop()
    b = aloft_factory(data_dir=tmp_path)
    ddb = b.client("dynamodb")
    assert search(ddb, [1, 0, 0], k=10)["SearchResults"] == before
    assert ids(search(ddb, [1, 0, 0], table="later")) == ["x"]
    vi = ddb.describe_table(TableName="docs")["Table"]["VectorIndexes"][0]
    assert vi["ItemCount"] == 4 and vi["DistanceFunction"] == "EUCLIDEAN"


def test_restores_keep_vector_indexes_or_drop_them_by_override(aloft):
    ddb = aloft.client("dynamodb")
    create(ddb, indexes=[vindex(distance="EUCLIDEAN"), vindex(name="cos", distance="COSINE")])
    for k, v in POINTS.items():
        put(ddb, k, v)
    backup = ddb.create_backup(TableName="docs", BackupName="bk1")["BackupDetails"]["BackupArn"]
    info = ddb.describe_backup(BackupArn=backup)["BackupDescription"]["SourceTableFeatureDetails"]
    assert [v["IndexName"] for v in info["VectorIndexes"]] == ["byEmb", "cos"]
    desc = ddb.restore_table_from_backup(TargetTableName="copy", BackupArn=backup)["TableDescription"]
    assert [v["IndexName"] for v in desc["VectorIndexes"]] == ["byEmb", "cos"]
    assert ids(search(ddb, [1, 0, 0], k=2, table="copy")) == ["a", "b"]
    ddb.restore_table_from_backup(
        TargetTableName="only", BackupArn=backup, VectorIndexOverride=[vindex(name="cos", distance="COSINE")]
    )
    vis = ddb.describe_table(TableName="only")["Table"]["VectorIndexes"]
    assert [v["IndexName"] for v in vis] == ["cos"] and vis[0]["ItemCount"] == len(POINTS)
    code, msg = error(
        ddb.restore_table_from_backup,
        TargetTableName="bad",
        BackupArn=backup,
        VectorIndexOverride=[vindex(name="cos", distance="EUCLIDEAN")],
    )
    assert code == "ValidationException" and "cos" in msg


def test_writes_report_vector_write_bytes_for_indexes(aloft):
    ddb = aloft.client("dynamodb")
    create(ddb, indexes=[vindex(dims=3, projection={"ProjectionType": "KEYS_ONLY"})])
    item = {"id": {"S": "a"}, "emb": nums([1, 2, 3]), "note": {"S": "x"}}
    c = ddb.put_item(TableName="docs", Item=item, ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert c["VectorIndexes"]["byEmb"]["VectorWriteRequestBytes"] >= 12
    assert "VectorIndexes" not in ddb.put_item(TableName="docs", Item=item, ReturnConsumedCapacity="TOTAL")[
        "ConsumedCapacity"
    ]
    # Not a projected attribute: the index does not change, no vector write.
    c = ddb.update_item(
        TableName="docs", Key={"id": {"S": "a"}}, UpdateExpression="SET note = :n",
        ExpressionAttributeValues={":n": {"S": "y"}}, ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert "VectorIndexes" not in c
    c = ddb.batch_write_item(
        RequestItems={"docs": [{"PutRequest": {"Item": {"id": {"S": "b"}, "emb": nums([0, 0, 1])}}}]},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"][0]
    assert c["VectorIndexes"]["byEmb"]["VectorWriteRequestBytes"] > 0
    c = ddb.delete_item(TableName="docs", Key={"id": {"S": "a"}}, ReturnConsumedCapacity="INDEXES")
    assert c["ConsumedCapacity"]["VectorIndexes"]["byEmb"]["VectorWriteRequestBytes"] > 0


def test_ttl_deletes_leave_the_index(aloft):
    ddb = aloft.client("dynamodb")
    create(ddb, indexes=[vindex(distance="EUCLIDEAN")])
    ddb.update_time_to_live(TableName="docs", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(aloft.internal("GET", "clock")["now_ms"] / 1000)
    put(ddb, "old", [1, 0, 0], exp={"N": str(now - 1)})
    put(ddb, "new", [2, 0, 0])
    assert ids(search(ddb, [1, 0, 0])) == ["old", "new"]
    assert aloft.internal("POST", "dynamodb/ttl/sweep")["deleted"] == 1
    assert ids(search(ddb, [1, 0, 0])) == ["new"]
    assert ddb.describe_table(TableName="docs")["Table"]["VectorIndexes"][0]["ItemCount"] == 1


def test_point_in_time_restore_rebuilds_vector_indexes(aloft):
    ddb = aloft.client("dynamodb")
    create(ddb, indexes=[vindex(distance="EUCLIDEAN")])
    ddb.update_continuous_backups(
        TableName="docs", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    for k, v in POINTS.items():
        put(ddb, k, v)
    aloft.advance(600)
    desc = ddb.restore_table_to_point_in_time(
        SourceTableName="docs", TargetTableName="pitr", UseLatestRestorableTime=True
    )["TableDescription"]
    assert desc["VectorIndexes"][0]["IndexName"] == "byEmb"
    assert ddb.scan(TableName="pitr")["Count"] == len(POINTS)
    assert ids(search(ddb, [1, 0, 0], k=2, table="pitr")) == ["a", "b"]


def test_results_stay_exact_after_many_writes_and_deletes(aloft):
    """Enough items that the search cuts its candidate buffer several times, many equal
    scores, and writes that move rows around inside the index (deletes, rewrites, a vector
    removed): the answer must still be the k nearest with their true distances."""
    ddb = aloft.client("dynamodb")
    create(ddb, indexes=[vindex(dims=2, distance="EUCLIDEAN", projection={"ProjectionType": "KEYS_ONLY"})])
    model = {}

    def batch(requests):
        for i in range(0, len(requests), 25):
            ddb.batch_write_item(RequestItems={"docs": requests[i : i + 25]})

    def write(i, v):
        model[f"i{i}"] = v
        return {"PutRequest": {"Item": {"id": {"S": f"i{i}"}, "emb": nums(v)}}}

    batch([write(i, [i % 7 - 3, i * 5 % 11 - 5]) for i in range(900)])
    deletes = [{"DeleteRequest": {"Key": {"id": {"S": f"i{i}"}}}} for i in range(0, 900, 3)]
    for i in range(0, 900, 3):
        del model[f"i{i}"]
    batch(deletes)
    batch([write(i, [i % 5 - 2, 4 - i % 9]) for i in range(1, 900, 6)])
    for i in range(2, 300, 6):
        ddb.update_item(TableName="docs", Key={"id": {"S": f"i{i}"}}, UpdateExpression="REMOVE emb")
        del model[f"i{i}"]
    desc = ddb.describe_table(TableName="docs")["Table"]["VectorIndexes"][0]
    assert desc["ItemCount"] == len(model)

    q = [0.5, -1.0]
    dist = {k: math.dist(q, v) for k, v in model.items()}
    for k in (1, 10, 100):
        resp = search(ddb, q, k=k)
        got = list(zip(ids(resp), scores(resp)))
        assert len(got) == k
        assert len({i for i, _ in got}) == k
        for i, s in got:
            assert s == pytest.approx(dist[i], rel=1e-6)
        assert [s for _, s in got] == sorted(s for _, s in got)
        worst = got[-1][1]
        outside = [dist[i] for i in model if i not in dict(got)]
        assert min(outside) >= worst - 1e-6
        assert sorted(dist.values())[:k] == pytest.approx([s for _, s in got], rel=1e-6)
