// Drives Aloft with the AWS SDK for JavaScript v3: `node aws_sdk_v3.js <url> <scenario>`.
// Prints one JSON line of what the SDK observed; tests/test_node_sdk.py asserts on it.
// A failure the SDK raises where none was expected is reported as {"fatal": ...}.
"use strict";

const ddb = require("@aws-sdk/client-dynamodb");
const lib = require("@aws-sdk/lib-dynamodb");
const streams = require("@aws-sdk/client-dynamodb-streams");
const kinesis = require("@aws-sdk/client-kinesis");

const [url, scenario] = process.argv.slice(2);
const config = {
  endpoint: url,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
};

// An expected failure, as the SDK names it: class name, `name`, message, status, extra members.
async function failure(promise) {
  try {
    await promise;
    return { error: null };
  } catch (e) {
    return {
      error: e.name,
      className: e.constructor && e.constructor.name,
      message: e.message,
      status: e.$metadata && e.$metadata.httpStatusCode,
      fault: e.$fault,
      item: e.Item,
      reasons: e.CancellationReasons,
    };
  }
}

async function dynamodb() {
  const out = {};
  const client = new ddb.DynamoDBClient(config);
  const doc = lib.DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
    unmarshallOptions: { wrapNumbers: true },
  });
  const created = await client.send(
    new ddb.CreateTableCommand({
      TableName: "notes",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "N" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  out.createStatus = created.$metadata.httpStatusCode;
  out.createRequestId = created.$metadata.requestId || null;
  const waited = await ddb.waitUntilTableExists({ client, maxWaitTime: 20, minDelay: 1 }, { TableName: "notes" });
  out.waitState = waited.state;

  // Put, update (SET / ADD / if_not_exists / list_append), get.
  const put = await doc.send(
    new lib.PutCommand({
      TableName: "notes",
      Item: { pk: "u1", sk: 1, title: "first", tags: new Set(["a", "b"]), blob: new Uint8Array([0, 1, 2, 255]), list: [1] },
    }),
  );
  out.putStatus = put.$metadata.httpStatusCode;
  const upd = await doc.send(
    new lib.UpdateCommand({
      TableName: "notes",
      Key: { pk: "u1", sk: 1 },
      UpdateExpression:
        "SET title = :t, #v = if_not_exists(#v, :zero), #l = list_append(#l, :more), created = if_not_exists(created, :now) ADD likes :one, tags :newtags",
      ExpressionAttributeNames: { "#l": "list", "#v": "views" },
      ExpressionAttributeValues: {
        ":t": "renamed",
        ":zero": 0,
        ":more": [2, 3],
        ":now": 1700000000,
        ":one": 1,
        ":newtags": new Set(["c"]),
      },
      ReturnValues: "ALL_NEW",
    }),
  );
  const a = upd.Attributes;
  out.updated = {
    title: a.title,
    views: a.views.value,
    likes: a.likes.value,
    list: a.list.map((n) => n.value),
    tags: [...a.tags].sort(),
    created: a.created.value,
  };
  const got = await doc.send(new lib.GetCommand({ TableName: "notes", Key: { pk: "u1", sk: 1 }, ConsistentRead: true }));
  out.got = {
    blob: Array.from(got.Item.blob),
    blobIsUint8Array: got.Item.blob instanceof Uint8Array,
    tagsIsSet: got.Item.tags instanceof Set,
    title: got.Item.title,
  };
  const missing = await doc.send(new lib.GetCommand({ TableName: "notes", Key: { pk: "nobody", sk: 1 } }));
  out.missingItem = missing.Item === undefined ? "undefined" : missing.Item;

  // Numbers beyond a JS double: NumberValue carries the exact decimal string both ways.
  const big = "12345678901234567890.123456789012345678";
  await doc.send(
    new lib.PutCommand({
      TableName: "notes",
      Item: { pk: "num", sk: 1, big: lib.NumberValue.from(big), neg: lib.NumberValue.from("-0.000000000000000000000000000001"), nums: new Set([1, 2.5]) },
    }),
  );
  const n = await doc.send(new lib.GetCommand({ TableName: "notes", Key: { pk: "num", sk: 1 } }));
  out.numbers = {
    big: n.Item.big.toString(),
    neg: n.Item.neg.toString(),
    nums: [...n.Item.nums].map((x) => x.toString()).sort(),
  };
  const bigLow = await client.send(new ddb.GetItemCommand({ TableName: "notes", Key: { pk: { S: "num" }, sk: { N: "1" } } }));
  out.numbersLowLevel = bigLow.Item.big;

  // Conditional check failure with the old item returned.
  const ccf = await failure(
    doc.send(
      new lib.PutCommand({
        TableName: "notes",
        Item: { pk: "u1", sk: 1, title: "clobber" },
        ConditionExpression: "attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    ),
  );
  out.conditional = {
    error: ccf.error,
    className: ccf.className,
    message: ccf.message,
    status: ccf.status,
    fault: ccf.fault,
    itemTitle: ccf.item && ccf.item.title,
  };

  // A transaction cancelled by its second action's condition.
  const tx = await failure(
    doc.send(
      new lib.TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: "notes", Item: { pk: "tx", sk: 1, v: "x" } } },
          {
            Update: {
              TableName: "notes",
              Key: { pk: "u1", sk: 1 },
              UpdateExpression: "SET title = :x",
              ConditionExpression: "title = :nope",
              ExpressionAttributeValues: { ":x": "no", ":nope": "nope" },
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            },
          },
        ],
      }),
    ),
  );
  out.transaction = {
    error: tx.error,
    message: tx.message,
    status: tx.status,
    reasons: (tx.reasons || []).map((r) => ({ code: r.Code, message: r.Message || null, title: r.Item ? r.Item.title : null })),
  };
  const txItem = await doc.send(new lib.GetCommand({ TableName: "notes", Key: { pk: "tx", sk: 1 } }));
  out.transactionWroteNothing = txItem.Item === undefined;

  // BatchWrite / BatchGet.
  const bw = await doc.send(
    new lib.BatchWriteCommand({
      RequestItems: {
        notes: [1, 2, 3].map((i) => ({ PutRequest: { Item: { pk: "batch", sk: i, n: i * 10 } } })),
      },
    }),
  );
  out.batchWriteUnprocessed = bw.UnprocessedItems;
  const bg = await doc.send(
    new lib.BatchGetCommand({
      RequestItems: { notes: { Keys: [1, 2, 3, 4].map((i) => ({ pk: "batch", sk: i })), ProjectionExpression: "sk, n" } },
    }),
  );
  out.batchGet = bg.Responses.notes.map((it) => Number(it.n.value)).sort((x, y) => x - y);
  out.batchGetKeys = Object.keys(bg.Responses.notes[0]).sort();

  // Query with a key condition, projection and pagination over more than 1 MB.
  const filler = "x".repeat(100 * 1024);
  for (let start = 0; start < 25; start += 25) {
    await doc.send(
      new lib.BatchWriteCommand({
        RequestItems: {
          notes: Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: "page", sk: start + i, filler, i: start + i } } })),
        },
      }),
    );
  }
  const pages = [];
  let seen = [];
  for await (const page of lib.paginateQuery(
    { client: doc },
    {
      TableName: "notes",
      KeyConditionExpression: "pk = :p AND sk BETWEEN :lo AND :hi",
      ExpressionAttributeValues: { ":p": "page", ":lo": 2, ":hi": 22 },
      ProjectionExpression: "sk, #i",
      ExpressionAttributeNames: { "#i": "i" },
    },
  )) {
    pages.push({ count: page.Count, scanned: page.ScannedCount, hasKey: page.LastEvaluatedKey !== undefined });
    seen = seen.concat(page.Items.map((it) => Number(it.sk.value)));
    if (page.Items.length) out.queryItemKeys = Object.keys(page.Items[0]).sort();
  }
  out.queryPages = pages;
  out.querySeen = seen;

  // A ValidationException as the SDK surfaces it.
  const bad = await failure(
    client.send(
      new ddb.QueryCommand({
        TableName: "notes",
        KeyConditionExpression: "pk = :p AND",
        ExpressionAttributeValues: { ":p": { S: "x" } },
      }),
    ),
  );
  out.validation = bad;
  const missingTable = await failure(client.send(new ddb.DescribeTableCommand({ TableName: "ghost" })));
  out.missingTable = missingTable;
  return out;
}

async function dynamodbStreams() {
  const out = {};
  const client = new ddb.DynamoDBClient(config);
  const sc = new streams.DynamoDBStreamsClient(config);
  await client.send(
    new ddb.CreateTableCommand({
      TableName: "events",
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  await ddb.waitUntilTableExists({ client, maxWaitTime: 20, minDelay: 1 }, { TableName: "events" });
  const upd = await client.send(
    new ddb.UpdateTableCommand({ TableName: "events", StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" } }),
  );
  const streamArn = upd.TableDescription.LatestStreamArn;
  out.streamArn = streamArn;
  await client.send(new ddb.PutItemCommand({ TableName: "events", Item: { id: { S: "e1" }, n: { N: "1" }, b: { B: new Uint8Array([7, 8]) } } }));
  await client.send(
    new ddb.UpdateItemCommand({
      TableName: "events",
      Key: { id: { S: "e1" } },
      UpdateExpression: "SET n = :two",
      ExpressionAttributeValues: { ":two": { N: "2" } },
    }),
  );
  await client.send(new ddb.DeleteItemCommand({ TableName: "events", Key: { id: { S: "e1" } } }));

  const listed = await sc.send(new streams.ListStreamsCommand({ TableName: "events" }));
  out.listed = listed.Streams.map((s) => ({ arn: s.StreamArn, table: s.TableName, label: s.StreamLabel }));
  const desc = await sc.send(new streams.DescribeStreamCommand({ StreamArn: streamArn }));
  const sd = desc.StreamDescription;
  out.describe = {
    status: sd.StreamStatus,
    viewType: sd.StreamViewType,
    table: sd.TableName,
    creationIsDate: sd.CreationRequestDateTime instanceof Date,
    shards: sd.Shards.length,
    keySchema: sd.KeySchema,
  };
  const it = await sc.send(
    new streams.GetShardIteratorCommand({ StreamArn: streamArn, ShardId: sd.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON" }),
  );
  const recs = await sc.send(new streams.GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 100 }));
  out.records = recs.Records.map((r) => ({
    event: r.eventName,
    source: r.eventSource,
    keys: r.dynamodb.Keys,
    newN: r.dynamodb.NewImage ? r.dynamodb.NewImage.n.N : null,
    oldN: r.dynamodb.OldImage ? r.dynamodb.OldImage.n.N : null,
    newB: r.dynamodb.NewImage && r.dynamodb.NewImage.b ? Array.from(r.dynamodb.NewImage.b.B) : null,
    createdIsDate: r.dynamodb.ApproximateCreationDateTime instanceof Date,
    viewType: r.dynamodb.StreamViewType,
  }));
  out.nextIterator = typeof recs.NextShardIterator;
  const expired = await failure(sc.send(new streams.DescribeStreamCommand({ StreamArn: streamArn.replace("events", "ghost") })));
  out.missingStream = expired;
  return out;
}

async function kinesisScenario() {
  const out = {};
  const client = new kinesis.KinesisClient(config);
  const created = await client.send(new kinesis.CreateStreamCommand({ StreamName: "clicks", ShardCount: 2 }));
  out.createStatus = created.$metadata.httpStatusCode;
  const waited = await kinesis.waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 1 }, { StreamName: "clicks" });
  out.waitState = waited.state;
  const summary = await client.send(new kinesis.DescribeStreamSummaryCommand({ StreamName: "clicks" }));
  out.summary = {
    status: summary.StreamDescriptionSummary.StreamStatus,
    shards: summary.StreamDescriptionSummary.OpenShardCount,
    createdIsDate: summary.StreamDescriptionSummary.StreamCreationTimestamp instanceof Date,
  };
  const enc = new TextEncoder();
  const one = await client.send(new kinesis.PutRecordCommand({ StreamName: "clicks", PartitionKey: "user-1", Data: enc.encode("hello") }));
  out.putRecord = { shard: one.ShardId, seqIsString: typeof one.SequenceNumber === "string" };
  const many = await client.send(
    new kinesis.PutRecordsCommand({
      StreamName: "clicks",
      Records: [
        { PartitionKey: "user-1", Data: new Uint8Array([0, 1, 2, 250, 255]) },
        { PartitionKey: "user-1", Data: enc.encode("{\"k\":1}") },
      ],
    }),
  );
  out.putRecords = { failed: many.FailedRecordCount, count: many.Records.length, shards: [...new Set(many.Records.map((r) => r.ShardId))] };
  const it = await client.send(
    new kinesis.GetShardIteratorCommand({ StreamName: "clicks", ShardId: one.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
  );
  const got = await client.send(new kinesis.GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  out.records = got.Records.map((r) => ({
    isUint8Array: r.Data instanceof Uint8Array,
    bytes: Array.from(r.Data),
    partitionKey: r.PartitionKey,
    arrivalIsDate: r.ApproximateArrivalTimestamp instanceof Date,
  }));
  out.millisBehind = got.MillisBehindLatest;
  out.nextIterator = typeof got.NextShardIterator;
  // SubscribeToShard: an event stream over the HTTP/2 connection the client opened.
  const arn = (await client.send(new kinesis.DescribeStreamCommand({ StreamName: "clicks" }))).StreamDescription.StreamARN;
  const consumer = await client.send(new kinesis.RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: "node" }));
  const sub = await client.send(
    new kinesis.SubscribeToShardCommand({
      ConsumerARN: consumer.Consumer.ConsumerARN,
      ShardId: one.ShardId,
      StartingPosition: { Type: "TRIM_HORIZON" },
    }),
  );
  for await (const ev of sub.EventStream) {
    out.subscribed = {
      events: Object.keys(ev),
      data: ev.SubscribeToShardEvent.Records.map((r) => Array.from(r.Data)),
      continuation: typeof ev.SubscribeToShardEvent.ContinuationSequenceNumber,
    };
    break;
  }
  out.missing = await failure(client.send(new kinesis.DescribeStreamCommand({ StreamName: "ghost" })));
  out.missingPut = await failure(
    client.send(new kinesis.PutRecordCommand({ StreamName: "ghost", PartitionKey: "p", Data: enc.encode("x") })),
  );
  out.inUse = await failure(client.send(new kinesis.CreateStreamCommand({ StreamName: "clicks", ShardCount: 1 })));
  return out;
}

const scenarios = { dynamodb, "dynamodb-streams": dynamodbStreams, kinesis: kinesisScenario };

(async () => {
  const run = scenarios[scenario];
  if (!run) {
    console.log(JSON.stringify({ fatal: `unknown scenario ${scenario}` }));
    return;
  }
  try {
    console.log(JSON.stringify(await run()));
    // An event stream left open (SubscribeToShard) would keep Node alive until Aloft ends it.
    process.exit(0);
  } catch (e) {
    console.log(
      JSON.stringify({ fatal: e.name, message: e.message, status: e.$metadata && e.$metadata.httpStatusCode, stack: String(e.stack).split("\n").slice(0, 6) }),
    );
  }
})();
