"""DynamoDB Scan order as on AWS: partitions in the order of a hash of the partition key (not
sorted), each partition's items together and sorted by sort key; parallel Scan segments are
slices of that hash space, so segments 0..N-1 read one after another give the full Scan."""

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def ddb(aloft):
    c = aloft.client("dynamodb")
    c.create_table(
        TableName="Events", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    for p in range(40):
        for s in (10, 2, 1):
            c.put_item(TableName="Events", Item={"pk": {"S": f"p{p:02}"}, "sk": {"N": str(s)}})
    return c


def keys(items):
    return [(i["pk"]["S"], int(i["sk"]["N"])) for i in items]


def scan_all(ddb, **kw):
    out, start = [], None
    while True:
        if start:
            kw["ExclusiveStartKey"] = start
        page = ddb.scan(TableName="Events", **kw)
        out += keys(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def test_scan_is_in_hash_order_with_partitions_together(ddb):
    got = keys(ddb.scan(TableName="Events")["Items"])
    assert len(got) == 120
    parts = [p for p, _ in got]
    # Not sorted by partition key, as on AWS ...
    assert parts != sorted(parts)
    # ... but each partition is contiguous and sorted by sort key.
    order = list(dict.fromkeys(parts))
    assert len(order) == 40
    for p in order:
        assert [s for q, s in got if q == p] == [1, 2, 10]
    assert [x for p in order for x in got if x[0] == p] == got
    # The order is stable: pages with Limit read the same sequence.
    assert scan_all(ddb, Limit=7) == got


def test_parallel_segments_tile_the_scan(ddb):
    full = scan_all(ddb)
    for total in (2, 3, 7):
        segments = [scan_all(ddb, Segment=s, TotalSegments=total, Limit=5) for s in range(total)]
        assert [k for seg in segments for k in seg] == full
        # A start key from another segment is refused, naming the segment it belongs to.
        if total == 3:
            page = ddb.scan(TableName="Events", Segment=0, TotalSegments=3, Limit=1)
            with pytest.raises(ClientError) as e:
                ddb.scan(TableName="Events", Segment=1, TotalSegments=3,
                         ExclusiveStartKey=page["LastEvaluatedKey"])
            assert e.value.response["Error"]["Message"] == (
                "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
                "ExclusiveStartKey with correct Segment. TotalSegments: 3 Segment: 0")
        # A partition never spans two segments.
        owners = {}
        for i, seg in enumerate(segments):
            for p, _ in seg:
                assert owners.setdefault(p, i) == i


def test_pagination_survives_writes_between_pages(ddb):
    before = scan_all(ddb)
    seen, start, n = [], None, 0
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        page = ddb.scan(TableName="Events", Limit=10, **kw)
        seen += keys(page["Items"])
        # New partitions and items land wherever their hash puts them; existing items are
        # still read exactly once.
        ddb.put_item(TableName="Events", Item={"pk": {"S": f"new{n}"}, "sk": {"N": "0"}})
        n += 1
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    old = [k for k in seen if not k[0].startswith("new")]
    assert old == before
    assert len(set(seen)) == len(seen)


def test_index_scan_is_in_hash_order_too(aloft):
    c = aloft.client("dynamodb")
    c.create_table(
        TableName="Grp", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
    )
    for i in range(30):
        c.put_item(TableName="Grp", Item={"id": {"S": f"i{i:02}"}, "g": {"S": f"g{i % 10}"}})
    got = [i["g"]["S"] for i in c.scan(TableName="Grp", IndexName="byG")["Items"]]
    assert len(got) == 30 and got != sorted(got)
    order = list(dict.fromkeys(got))
    assert len(order) == 10  # each index partition together
    segs = []
    for s in range(3):
        segs += [i["g"]["S"] for i in c.scan(TableName="Grp", IndexName="byG", Segment=s, TotalSegments=3)["Items"]]
    assert segs == got
