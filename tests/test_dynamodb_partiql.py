"""DynamoDB PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction with boto3
and the AWS CLI, planned onto the native operations (Query, Scan, Put/Update/DeleteItem)."""

import pytest
from botocore.exceptions import ClientError


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"]


@pytest.fixture
def ddb(aloft):
    c = aloft.client("dynamodb")
    c.create_table(
        TableName="Music", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                              {"AttributeName": "Song", "AttributeType": "S"},
                              {"AttributeName": "Year", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}, {"AttributeName": "Song", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "byYear", "KeySchema": [{"AttributeName": "Year", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
    )
    return c


def run(ddb, stmt, *params, **kw):
    if params:
        kw["Parameters"] = list(params)
    return ddb.execute_statement(Statement=stmt, **kw)


def test_insert_select_update_delete(ddb):
    run(ddb, "INSERT INTO Music VALUE {'Artist': 'Acme', 'Song': 'One', 'Year': 2001, 'Tags': <<'rock', 'pop'>>}")
    run(ddb, "INSERT INTO \"Music\" VALUE {'Artist': ?, 'Song': ?, 'Year': ?, 'Plays': 0}",
        {"S": "Acme"}, {"S": "Two"}, {"N": "2005"})
    run(ddb, "INSERT INTO Music VALUE {'Artist': 'Other', 'Song': 'It''s', 'Year': 2005}")

    got = run(ddb, "SELECT * FROM Music WHERE Artist = 'Acme'")["Items"]
    assert [i["Song"]["S"] for i in got] == ["One", "Two"]
    assert got[0]["Tags"]["SS"] and sorted(got[0]["Tags"]["SS"]) == ["pop", "rock"]

    got = run(ddb, "SELECT Song, Year FROM Music WHERE Artist = ? AND Song >= 'T' ORDER BY Song DESC", {"S": "Acme"})
    assert got["Items"] == [{"Song": {"S": "Two"}, "Year": {"N": "2005"}}]

    got = run(ddb, 'SELECT Song FROM "Music"."byYear" WHERE "Year" = 2005')["Items"]
    assert sorted(i["Song"]["S"] for i in got) == ["It's", "Two"]

    # Without the partition key the statement scans, filter applied.
    got = run(ddb, "SELECT Artist FROM Music WHERE Year > 2002 AND Plays IS NOT MISSING")["Items"]
    assert got == [{"Artist": {"S": "Acme"}}]
    got = run(ddb, "SELECT * FROM Music WHERE begins_with(Song, 'O') OR contains(Tags, 'pop')")["Items"]
    assert [i["Song"]["S"] for i in got] == ["One"]

    out = run(ddb, "UPDATE Music SET Plays = Plays + 5 SET Note = 'x' REMOVE Tags "
                   "WHERE Artist = 'Acme' AND Song = 'Two' RETURNING ALL NEW *")
    assert out["Items"][0]["Plays"] == {"N": "5"} and out["Items"][0]["Note"] == {"S": "x"}
    run(ddb, "UPDATE Music SET Tags = set_add(Tags, <<'jazz'>>) WHERE Artist = 'Acme' AND Song = 'One'")
    item = ddb.get_item(TableName="Music", Key={"Artist": {"S": "Acme"}, "Song": {"S": "One"}})["Item"]
    assert sorted(item["Tags"]["SS"]) == ["jazz", "pop", "rock"]

    # UPDATE of a missing item, or with a false condition, fails the condition.
    with pytest.raises(ClientError) as e:
        run(ddb, "UPDATE Music SET Plays = 1 WHERE Artist = 'Nobody' AND Song = 'x'")
    assert err(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    with pytest.raises(ClientError) as e:
        run(ddb, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'Two' AND Plays > 100")
    assert err(e)[0] == "ConditionalCheckFailedException"

    out = run(ddb, "DELETE FROM Music WHERE Artist = 'Acme' AND Song = 'Two' RETURNING ALL OLD *")
    assert out["Items"][0]["Song"] == {"S": "Two"}
    assert len(run(ddb, "SELECT * FROM Music")["Items"]) == 2


def test_errors(ddb):
    run(ddb, "INSERT INTO Music VALUE {'Artist': 'a', 'Song': 's'}")
    with pytest.raises(ClientError) as e:
        run(ddb, "INSERT INTO Music VALUE {'Artist': 'a', 'Song': 's'}")
    assert err(e) == ("DuplicateItemException", "Duplicate primary key exists in table")
    with pytest.raises(ClientError) as e:
        run(ddb, "SELEC * FROM Music")
    assert err(e) == ("ValidationException",
                      "Statement wasn't well formed, can't be processed: Expected data manipulation")
    with pytest.raises(ClientError) as e:
        run(ddb, "SELECT * FROM Music WHERE Artist = ?")
    assert err(e) == ("ValidationException", "Number of parameters in request and statement don't match.")
    with pytest.raises(ClientError) as e:
        run(ddb, "UPDATE Music SET x = 1 WHERE Artist = 'a'")
    assert err(e) == ("ValidationException",
                      "Where clause does not contain a mandatory equality on all key attributes")
    with pytest.raises(ClientError) as e:
        run(ddb, "SELECT * FROM Nope")
    assert err(e)[0] == "ResourceNotFoundException"
    # The longest statements (8 KB, deeply nested or long chains) are answered, never crash.
    long = "SELECT * FROM Music WHERE " + "Year = 1 OR " * 680 + "Year = 2"
    try:
        run(ddb, long)
    except ClientError as ce:
        assert ce.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        run(ddb, "SELECT * FROM Music WHERE " + "(" * 4000 + "Year = 1" + ")" * 4000)
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        run(ddb, "SELECT * FROM Music WHERE Artist = 'a' AND")
    assert err(e)[1] == "Statement wasn't well formed, can't be processed: Unexpected end of statement"


def test_pagination_with_next_token(ddb):
    for i in range(7):
        run(ddb, "INSERT INTO Music VALUE {'Artist': 'p', 'Song': ?}", {"S": f"s{i}"})
    seen, token = [], None
    while True:
        kw = {"Limit": 3}
        if token:
            kw["NextToken"] = token
        page = run(ddb, "SELECT Song FROM Music WHERE Artist = 'p'", **kw)
        seen += [i["Song"]["S"] for i in page["Items"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [f"s{i}" for i in range(7)]
    # A scan pages the same way.
    total, token, rounds = 0, None, 0
    while True:
        page = run(ddb, "SELECT * FROM Music", Limit=2, **({"NextToken": token} if token else {}))
        total += len(page["Items"])
        rounds += 1
        token = page.get("NextToken")
        if not token:
            break
    assert total == 7 and rounds >= 4
    with pytest.raises(ClientError) as e:
        run(ddb, "SELECT * FROM Music", NextToken="garbage!")
    assert err(e)[0] == "ValidationException"


def test_batch_execute_statement(ddb):
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": "INSERT INTO Music VALUE {'Artist': 'b', 'Song': '1'}"},
        {"Statement": "INSERT INTO Music VALUE {'Artist': 'b', 'Song': ?}", "Parameters": [{"S": "2"}]},
        {"Statement": "INSERT INTO Music VALUE {'Artist': 'b', 'Song': '1'}"},
    ])["Responses"]
    assert "Error" not in out[0] and "Error" not in out[1]
    assert out[2]["Error"]["Code"] == "DuplicateItem" and out[2]["TableName"] == "Music"
    out = ddb.batch_execute_statement(Statements=[
        {"Statement": "SELECT * FROM Music WHERE Artist = 'b' AND Song = '2'"},
        {"Statement": "SELECT Song FROM Music WHERE Artist = 'b' AND Song = 'none'"},
    ])["Responses"]
    assert out[0]["Item"]["Song"] == {"S": "2"}
    assert "Item" not in out[1] and "Error" not in out[1]
    with pytest.raises(ClientError) as e:
        ddb.batch_execute_statement(Statements=[
            {"Statement": "SELECT * FROM Music WHERE Artist = 'b' AND Song = '2'"},
            {"Statement": "DELETE FROM Music WHERE Artist = 'b' AND Song = '2'"}])
    assert err(e)[0] == "ValidationException"


def test_execute_transaction(ddb):
    run(ddb, "INSERT INTO Music VALUE {'Artist': 't', 'Song': 'a', 'n': 1}")
    # A transaction with a failing EXISTS changes nothing.
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO Music VALUE {'Artist': 't', 'Song': 'b'}"},
            {"Statement": "EXISTS(SELECT * FROM Music WHERE Artist = 't' AND Song = 'a' AND n = 2)"},
        ])
    assert err(e)[0] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert len(run(ddb, "SELECT * FROM Music WHERE Artist = 't'")["Items"]) == 1

    ddb.execute_transaction(TransactStatements=[
        {"Statement": "INSERT INTO Music VALUE {'Artist': 't', 'Song': 'b'}"},
        {"Statement": "UPDATE Music SET n = n + 1 WHERE Artist = 't' AND Song = 'a'"},
    ])
    out = ddb.execute_transaction(TransactStatements=[
        {"Statement": "SELECT * FROM Music WHERE Artist = 't' AND Song = 'a'"},
        {"Statement": "SELECT * FROM Music WHERE Artist = ? AND Song = ?", "Parameters": [{"S": "t"}, {"S": "b"}]},
    ])["Responses"]
    assert out[0]["Item"]["n"] == {"N": "2"} and out[1]["Item"]["Song"] == {"S": "b"}

    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO Music VALUE {'Artist': 't', 'Song': 'b'}"}])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["DuplicateItem"]


def test_cli_execute_statement(aloft, ddb):
    aloft.cli("dynamodb", "execute-statement", "--statement",
              "INSERT INTO Music VALUE {'Artist': 'cli', 'Song': 'x', 'Year': 1999}")
    out = aloft.cli_json("dynamodb", "execute-statement", "--statement",
                         "SELECT Year FROM Music WHERE Artist = ?", "--parameters", '[{"S": "cli"}]')
    assert out["Items"] == [{"Year": {"N": "1999"}}]


def test_in_on_the_partition_key_reads_only_those_partitions(ddb):
    for a in range(20):
        for s in range(2):
            ddb.put_item(TableName="Music", Item={"Artist": {"S": f"A{a:02}"}, "Song": {"S": f"s{s}"},
                                                  "Year": {"N": str(2000 + a)}, "Pad": {"S": "x" * 2000}})
    ddb.put_item(TableName="Music", Item={"Artist": {"S": "small"}, "Song": {"S": "s0"}, "Year": {"N": "1"}})
    ddb.put_item(TableName="Music", Item={"Artist": {"S": "tiny"}, "Song": {"S": "s0"}, "Year": {"N": "1"}})
    ddb.put_item(TableName="Music", Item={"Artist": {"S": "tiny"}, "Song": {"S": "s1"}, "Year": {"N": "2"}})
    scan = ddb.scan(TableName="Music", ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]["CapacityUnits"]
    assert scan >= 5
    for stmt in ["SELECT * FROM Music WHERE Artist IN ('tiny', 'small', 'none')",
                 "SELECT * FROM Music WHERE Artist = 'tiny' OR Artist = 'small' OR Artist = 'none'",
                 "SELECT * FROM Music WHERE Artist IN ['tiny', 'small', 'none', 'tiny']"]:
        got = run(ddb, stmt, ReturnConsumedCapacity="TOTAL")
        # Partitions in the list's order, each sorted by sort key.
        assert [(i["Artist"]["S"], i["Song"]["S"]) for i in got["Items"]] == \
            [("tiny", "s0"), ("tiny", "s1"), ("small", "s0")], stmt
        # Three key reads of half a unit each, not a scan of the table.
        assert got["ConsumedCapacity"]["CapacityUnits"] == 1.5, stmt
        assert "NextToken" not in got
    # With a sort key condition and a filter, and parameters.
    got = run(ddb, "SELECT Song FROM Music WHERE Artist IN (?, ?) AND Song >= 's1' AND \"Year\" > 1",
              {"S": "tiny"}, {"S": "A03"})
    assert got["Items"] == [{"Song": {"S": "s1"}}, {"Song": {"S": "s1"}}]
    # A list of sort key values: one key read each, in sort key order within the partition.
    got = run(ddb, "SELECT Song FROM Music WHERE Artist = 'tiny' AND Song IN ('s1', 'zz', 's0')",
              ReturnConsumedCapacity="TOTAL")
    assert got["Items"] == [{"Song": {"S": "s0"}}, {"Song": {"S": "s1"}}]
    assert got["ConsumedCapacity"]["CapacityUnits"] == 1.5
    got = run(ddb, "SELECT Artist, Song FROM Music WHERE Artist IN ('tiny', 'A05') AND "
                   "(Song = 's0' OR Song = 's1') ORDER BY Song DESC")
    assert [(i["Artist"]["S"], i["Song"]["S"]) for i in got["Items"]] == \
        [("tiny", "s1"), ("tiny", "s0"), ("A05", "s1"), ("A05", "s0")]
    # Pages by Limit across partitions.
    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = run(ddb, "SELECT Artist, Song FROM Music WHERE Artist IN ('A01', 'tiny', 'A02')", Limit=1, **kw)
        seen += [(i["Artist"]["S"], i["Song"]["S"]) for i in page["Items"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [("A01", "s0"), ("A01", "s1"), ("tiny", "s0"), ("tiny", "s1"), ("A02", "s0"), ("A02", "s1")]
    many = ", ".join(f"'k{i}'" for i in range(51))
    with pytest.raises(ClientError) as e:
        run(ddb, f"SELECT * FROM Music WHERE Artist IN ({many})")
    assert err(e)[0] == "ValidationException"
