//! Records in and out: PutRecord/PutRecords (MD5 hash-key routing to the open shard whose range
//! holds the key), shard iterators of every type (expiring after five minutes), GetRecords
//! with MillisBehindLatest and, at a closed shard's end, its ChildShards. Records older than the
//! retention period are trimmed when the stream is next touched.

use aloft_core::clock;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Code, KinesisError, Result};
use crate::keys::{self, Iterator};
use crate::metrics::shard_samples;
use crate::state::{Record, Stream, scoped};
use crate::streams::locate;
use crate::{Kinesis, Out, commit, parse};

/// Iterators live five minutes.
const ITERATOR_TTL_MS: i64 = 300_000;
/// PutRecords carries at most 5 MiB (data and partition keys).
const PUT_RECORDS_MAX_BYTES: usize = 5 * 1024 * 1024;
/// GetRecords answers at most 10 MiB.
const GET_RECORDS_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Per-shard write limits when throttling is on.
const SHARD_BYTES_PER_SEC: u64 = 1024 * 1024;
const SHARD_RECORDS_PER_SEC: u64 = 1000;
const SHARD_READS_PER_SEC: u64 = 5;
const SHARD_READ_BYTES_PER_SEC: u64 = 2 * 1024 * 1024;

/// One record to append.
pub struct Put<'a> {
    pub data: &'a str,
    pub partition_key: Option<&'a str>,
    pub explicit_hash_key: Option<&'a str>,
    /// Where the record sits in the request, for validation messages (`records.1.member`).
    pub field: String,
}

fn null_field(field: &str) -> KinesisError {
    KinesisError::validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A record that passed validation: its hash key, data size and partition key.
pub struct Checked<'a> {
    /// None under the AUTO distribution strategy: the service places the record.
    hash: Option<u128>,
    size: usize,
    partition_key: &'a str,
    data: &'a str,
}

/// Validates one record against the model's rules and the stream's record size.
pub fn check<'a>(s: &Stream, p: &Put<'a>) -> Result<Checked<'a>> {
    let prefix = if p.field.is_empty() {
        String::new()
    } else {
        format!("{}.", p.field)
    };
    let auto = s.distribution == "AUTO";
    // AUTO streams take records without a partition key and ignore the one given for placement.
    let pk = match (p.partition_key, auto) {
        (Some(pk), _) => pk,
        (None, true) => "",
        (None, false) => return Err(null_field(&format!("{prefix}partitionKey"))),
    };
    let size = STANDARD
        .decode(p.data)
        .map_err(|_| KinesisError::validation("Data is not valid base64."))?
        .len();
    let max = usize::try_from(s.max_record_kib).unwrap_or(1024) * 1024;
    if size > max {
        return Err(KinesisError::validation(format!(
            "1 validation error detected: Value at '{prefix}data' failed to satisfy constraint: Member must have length less than or equal to {max}"
        )));
    }
    let hash = match p.explicit_hash_key {
        _ if auto => None,
        Some(h) => Some(keys::parse_hash_key(h).ok_or_else(|| {
            KinesisError::invalid(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was {h}"
            ))
        })?),
        None => Some(keys::hash_key(pk)),
    };
    Ok(Checked {
        hash,
        size,
        partition_key: pk,
        data: p.data,
    })
}

/// Appends one record to the stream, returning the shard index and the record.
pub fn append(s: &mut Stream, now: i64, throttle: bool, p: &Put<'_>) -> Result<(u32, Record)> {
    let c = check(s, p)?;
    append_checked(s, now, throttle, &c)
}

/// Appends a checked record; with throttling on it may fail with
/// ProvisionedThroughputExceededException (and nothing changes).
pub fn append_checked(
    s: &mut Stream,
    now: i64,
    throttle: bool,
    c: &Checked<'_>,
) -> Result<(u32, Record)> {
    let (name, account) = (s.name.clone(), s.account.clone());
    let counter = s.counter + 1;
    let open: Vec<u32> = s
        .shards
        .iter()
        .filter(|sh| sh.is_open())
        .map(|sh| sh.index)
        .collect();
    let target = match c.hash {
        Some(hash) => s
            .shards
            .iter()
            .find(|sh| sh.is_open() && sh.contains(hash))
            .map(|sh| sh.index),
        // Evenly, in turn, as the sequence counter advances.
        None => open
            .get(usize::try_from(counter % open.len().max(1) as u128).unwrap_or(0))
            .copied(),
    };
    let shard = target
        .and_then(|i| s.shards.iter_mut().find(|sh| sh.index == i))
        .ok_or_else(|| {
            KinesisError::new(
                Code::InternalFailureException,
                format!("No open shard of stream {name} takes the record."),
            )
        })?;
    if throttle {
        let second = now.div_euclid(1000);
        if shard.window.0 != second {
            shard.window = (second, 0, 0);
        }
        let size = (c.size + c.partition_key.len()) as u64;
        if shard.window.1 + size > SHARD_BYTES_PER_SEC || shard.window.2 + 1 > SHARD_RECORDS_PER_SEC
        {
            return Err(KinesisError::new(
                Code::ProvisionedThroughputExceededException,
                format!(
                    "Rate exceeded for shard {} in stream {name} under account {account}.",
                    shard.id()
                ),
            ));
        }
        shard.window.1 += size;
        shard.window.2 += 1;
    }
    let record = Record {
        seq: counter,
        data: c.data.to_string(),
        size: c.size,
        partition_key: c.partition_key.to_string(),
        arrival_ms: now,
    };
    shard.records.push_back(record.clone());
    let index = shard.index;
    s.counter = counter;
    Ok((index, record))
}

pub fn record_json(r: &Record, encrypted: bool) -> Value {
    let mut j = json!({
        "SequenceNumber": keys::sequence_number(r.seq),
        "ApproximateArrivalTimestamp": r.arrival_ms as f64 / 1000.0,
        "Data": r.data,
    });
    if !r.partition_key.is_empty() {
        j["PartitionKey"] = json!(r.partition_key);
    }
    if encrypted {
        j["EncryptionType"] = json!("KMS");
    }
    j
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordInput {
    data: String,
    partition_key: Option<String>,
    explicit_hash_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    data: String,
    partition_key: Option<String>,
    explicit_hash_key: Option<String>,
}

impl Kinesis {
    /// Appends records under the state lock, journals them, and answers after the commit.
    pub(crate) async fn append_all(
        &self,
        acct: &str,
        region: &str,
        name: &str,
        puts: &[Put<'_>],
    ) -> Result<(Vec<Result<(String, String)>>, bool)> {
        let now = clock::now_millis();
        let (results, encrypted, per_shard, c) = {
            let mut st = self.state.lock();
            let s = st
                .by_key
                .get_mut(&scoped(acct, region, name))
                .ok_or_else(|| KinesisError::stream_not_found(name, acct))?;
            // A bad record fails the whole request before anything is written.
            let checked = puts
                .iter()
                .map(|p| check(s, p))
                .collect::<Result<Vec<_>>>()?;
            let trimmed = s.trim(now);
            let mut added = Vec::new();
            let mut results = Vec::new();
            for c in &checked {
                match append_checked(s, now, self.throttle, c) {
                    Ok((shard, r)) => {
                        results.push(Ok((keys::shard_id(shard), keys::sequence_number(r.seq))));
                        added.push((shard, r));
                    }
                    Err(e) if e.code == Code::ProvisionedThroughputExceededException => {
                        results.push(Err(e));
                    }
                    Err(e) => results.push(Err(e)),
                }
            }
            let refs: Vec<(u32, &Record)> = added.iter().map(|(i, r)| (*i, r)).collect();
            let c = self.state.save_records(s, &refs, &trimmed);
            let per_shard =
                shard_samples(s, added.iter().map(|(i, r)| (*i, 1, r.size)), "Incoming");
            (results, s.key_id.is_some(), per_shard, c)
        };
        self.meter_shards(acct, region, name, &per_shard);
        commit(c).await?;
        let ok: Vec<usize> = puts
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_ok())
            .map(|(p, _)| STANDARD.decode(p.data).map_or(0, |b| b.len()))
            .collect();
        let throttled = results.len() - ok.len();
        self.meter(
            acct,
            region,
            name,
            &[
                ("IncomingRecords", "Count", ok.len() as f64),
                ("IncomingBytes", "Bytes", ok.iter().sum::<usize>() as f64),
                (
                    "WriteProvisionedThroughputExceeded",
                    "Count",
                    throttled as f64,
                ),
            ],
        );
        Ok((results, encrypted))
    }

    pub(crate) async fn put_record(&self, a: &str, r: &str, input: Value) -> Out {
        let (acct, region, name) = locate(a, r, &input)?;
        let i: PutRecordInput = parse(input)?;
        let put = Put {
            data: &i.data,
            partition_key: i.partition_key.as_deref(),
            explicit_hash_key: i.explicit_hash_key.as_deref(),
            field: String::new(),
        };
        let (mut results, encrypted) = self
            .append_all(&acct, &region, &name, std::slice::from_ref(&put))
            .await?;
        let (shard, seq) = results.remove(0)?;
        let bytes = STANDARD.decode(&i.data).map_or(0, |b| b.len());
        self.meter(
            &acct,
            &region,
            &name,
            &[
                ("PutRecord.Success", "Count", 1.0),
                ("PutRecord.Bytes", "Bytes", bytes as f64),
            ],
        );
        let mut out = json!({"ShardId": shard, "SequenceNumber": seq});
        // AWS names the encryption only for encrypted streams.
        if encrypted {
            out["EncryptionType"] = json!("KMS");
        }
        Ok(out)
    }

    pub(crate) async fn put_records(&self, a: &str, r: &str, input: Value) -> Out {
        let (acct, region, name) = locate(a, r, &input)?;
        let entries: Vec<Entry> = parse(input.get("Records").cloned().unwrap_or_default())?;
        let total: usize = entries
            .iter()
            .map(|e| e.data.len() / 4 * 3 + e.partition_key.as_ref().map_or(0, String::len))
            .sum();
        if total > PUT_RECORDS_MAX_BYTES {
            return Err(KinesisError::invalid(format!(
                "Records size exceeds 5 MB limit: the request carries {total} bytes."
            )));
        }
        let puts: Vec<Put<'_>> = entries
            .iter()
            .enumerate()
            .map(|(n, e)| Put {
                data: &e.data,
                partition_key: e.partition_key.as_deref(),
                explicit_hash_key: e.explicit_hash_key.as_deref(),
                field: format!("records.{}.member", n + 1),
            })
            .collect();
        let (results, encrypted) = self.append_all(&acct, &region, &name, &puts).await?;
        let failed = results.iter().filter(|x| x.is_err()).count();
        let out: Vec<Value> = results
            .into_iter()
            .map(|x| match x {
                Ok((shard, seq)) => json!({"ShardId": shard, "SequenceNumber": seq}),
                Err(e) => json!({"ErrorCode": e.code.as_str(), "ErrorMessage": e.message}),
            })
            .collect();
        self.meter(
            &acct,
            &region,
            &name,
            &[
                ("PutRecords.TotalRecords", "Count", out.len() as f64),
                (
                    "PutRecords.SuccessfulRecords",
                    "Count",
                    (out.len() - failed) as f64,
                ),
                ("PutRecords.ThrottledRecords", "Count", failed as f64),
                ("PutRecords.FailedRecords", "Count", 0.0),
                ("PutRecords.Success", "Count", 1.0),
            ],
        );
        let mut body = json!({"FailedRecordCount": failed, "Records": out});
        if encrypted {
            body["EncryptionType"] = json!("KMS");
        }
        Ok(body)
    }

    pub(crate) fn get_shard_iterator(&self, a: &str, r: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            shard_id: String,
            shard_iterator_type: String,
            starting_sequence_number: Option<String>,
            timestamp: Option<Value>,
        }
        let i: In = parse(input.clone())?;
        let now = clock::now_millis();
        self.read(a, r, &input, |s| {
            let after = position(
                s,
                &i.shard_id,
                &i.shard_iterator_type,
                i.starting_sequence_number.as_deref(),
                i.timestamp.as_ref().and_then(timestamp_ms),
            )?;
            let it = Iterator {
                account: s.account.clone(),
                region: s.region.clone(),
                stream: s.name.clone(),
                created_ms: s.created_ms,
                shard: i.shard_id.clone(),
                after,
                issued_ms: now,
            };
            Ok(json!({"ShardIterator": it.encode()}))
        })
    }

    /// The iterator names the stream (its account and region too), so the caller's do not count.
    pub(crate) async fn get_records(&self, input: Value) -> Out {
        let raw = input
            .get("ShardIterator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let limit = input
            .get("Limit")
            .and_then(Value::as_u64)
            .map_or(10_000, |l| usize::try_from(l).unwrap_or(10_000));
        let it = Iterator::decode(raw)
            .ok_or_else(|| KinesisError::invalid(format!("Invalid ShardIterator: {raw}")))?;
        let now = clock::now_millis();
        if now - it.issued_ms > ITERATOR_TTL_MS {
            return Err(KinesisError::new(
                Code::ExpiredIteratorException,
                format!(
                    "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_TTL_MS} milliseconds.",
                    java_date(it.issued_ms),
                    java_date(now)
                ),
            ));
        }
        let (out, bytes, count, behind, per_shard, c) = {
            let mut st = self.state.lock();
            let s = st
                .by_key
                .get_mut(&scoped(&it.account, &it.region, &it.stream))
                .filter(|s| s.created_ms == it.created_ms)
                .ok_or_else(|| KinesisError::stream_not_found(&it.stream, &it.account))?;
            if self.throttle {
                read_admitted(s, &it.shard, now)?;
            }
            let trimmed = s.trim(now);
            let c = self.state.forget_records(&trimmed);
            let (out, bytes, count) = read_shard(s, &it, limit, now)?;
            if let Some(sh) = s.shard_mut(&it.shard) {
                sh.read_window.1 += bytes as u64;
            }
            let behind = out["MillisBehindLatest"].as_f64().unwrap_or_default();
            let mut per_shard = Vec::new();
            if let Some(index) = s.shard(&it.shard).map(|sh| sh.index) {
                per_shard = shard_samples(s, std::iter::once((index, count, bytes)), "Outgoing");
                if s.shard_metrics
                    .iter()
                    .any(|m| m == "IteratorAgeMilliseconds")
                {
                    let age = ("IteratorAgeMilliseconds", "Milliseconds", behind);
                    match per_shard.first_mut() {
                        Some((_, samples)) => samples.push(age),
                        None => per_shard.push((it.shard.clone(), vec![age])),
                    }
                }
            }
            (out, bytes, count, behind, per_shard, c)
        };
        self.meter_shards(&it.account, &it.region, &it.stream, &per_shard);
        commit(c).await?;
        self.meter(
            &it.account,
            &it.region,
            &it.stream,
            &[
                ("GetRecords.Records", "Count", count as f64),
                ("GetRecords.Bytes", "Bytes", bytes as f64),
                ("GetRecords.Success", "Count", 1.0),
                ("GetRecords.IteratorAgeMilliseconds", "Milliseconds", behind),
            ],
        );
        Ok(out)
    }
}

/// Per-shard read limits when throttling is on: five GetRecords a second, 2 MiB a second.
fn read_admitted(s: &mut Stream, shard_id: &str, now: i64) -> Result<()> {
    if s.shard(shard_id).is_none() {
        return Err(shard_not_found(s, shard_id));
    }
    let (account, name) = (s.account.clone(), s.name.clone());
    let Some(sh) = s.shard_mut(shard_id) else {
        return Ok(());
    };
    let second = now.div_euclid(1000);
    if sh.read_window.0 != second {
        sh.read_window = (second, 0, 0);
    }
    if sh.read_window.2 >= SHARD_READS_PER_SEC || sh.read_window.1 >= SHARD_READ_BYTES_PER_SEC {
        // The wording AWS uses for reads differs from the one for writes.
        return Err(KinesisError::new(
            Code::ProvisionedThroughputExceededException,
            format!("Rate exceeded for Shard - {account}/{name}/{shard_id}"),
        ));
    }
    sh.read_window.2 += 1;
    Ok(())
}

/// Reads from the iterator's position: the answer, its bytes and record count.
fn read_shard(s: &Stream, it: &Iterator, limit: usize, now: i64) -> Result<(Value, usize, usize)> {
    let shard = s
        .shard(&it.shard)
        .ok_or_else(|| shard_not_found(s, &it.shard))?;
    let encrypted = s.key_id.is_some();
    let start = shard.first_after(it.after);
    let mut records = Vec::new();
    let mut bytes = 0;
    let mut last = it.after;
    for r in shard.records.iter().skip(start).take(limit) {
        if !records.is_empty() && bytes + r.size > GET_RECORDS_MAX_BYTES {
            break;
        }
        bytes += r.size;
        last = r.seq;
        records.push(record_json(r, encrypted));
    }
    let next = shard.records.get(start + records.len());
    let behind = next.map_or(0, |r| (now - r.arrival_ms).max(0));
    let count = records.len();
    let mut out = json!({"Records": records, "MillisBehindLatest": behind});
    if shard.is_open() || next.is_some() {
        let next_it = Iterator {
            after: last,
            issued_ms: now,
            ..it.clone()
        };
        out["NextShardIterator"] = json!(next_it.encode());
    } else {
        // The end of a closed shard: no next iterator, but where to go on.
        out["ChildShards"] = json!(child_shards(s, shard.index));
    }
    Ok((out, bytes, count))
}

/// A time as Java's `Date.toString()` prints it (AWS's iterator messages do):
/// `Wed Jul 18 22:50:06 UTC 2018`.
fn java_date(ms: i64) -> String {
    // From the HTTP date `Wed, 18 Jul 2018 22:50:06 GMT`.
    let http = clock::http_date(ms);
    let p: Vec<&str> = http.split_whitespace().collect();
    match p[..] {
        [day, d, mon, y, t, _] => format!("{} {mon} {d} {t} UTC {y}", day.trim_end_matches(',')),
        _ => http,
    }
}

pub fn child_shards(s: &Stream, parent: u32) -> Vec<Value> {
    s.shards
        .iter()
        .filter(|c| c.parent == Some(parent) || c.adjacent_parent == Some(parent))
        .map(|c| {
            let parents: Vec<String> = c
                .parent
                .iter()
                .chain(c.adjacent_parent.iter())
                .map(|p| keys::shard_id(*p))
                .collect();
            json!({
                "ShardId": c.id(),
                "ParentShards": parents,
                "HashKeyRange": {
                    "StartingHashKey": c.start_hash.to_string(),
                    "EndingHashKey": c.end_hash.to_string(),
                },
            })
        })
        .collect()
}

pub fn shard_not_found(s: &Stream, id: &str) -> KinesisError {
    KinesisError::not_found(format!(
        "Shard {id} in stream {} under account {} does not exist",
        s.name, s.account
    ))
}

/// Epoch milliseconds of a model timestamp (epoch seconds, or an ISO 8601 / HTTP date string).
pub fn timestamp_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0) as i64),
        Value::String(s) => aloft_protocol::parse_timestamp(s).map(|s| (s * 1000.0) as i64),
        _ => None,
    }
}

/// The sequence counter an iterator of `kind` starts after.
pub fn position(
    s: &Stream,
    shard_id: &str,
    kind: &str,
    seq: Option<&str>,
    ts: Option<i64>,
) -> Result<u128> {
    let shard = s
        .shard(shard_id)
        .ok_or_else(|| shard_not_found(s, shard_id))?;
    let latest = shard.end_seq.unwrap_or(s.counter);
    match kind {
        "TRIM_HORIZON" => Ok(shard.start_seq),
        "LATEST" => Ok(latest),
        "AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER" => {
            let raw = seq.ok_or_else(|| {
                KinesisError::invalid(format!(
                    "Must specify StartingSequenceNumber for iterator of type {kind}."
                ))
            })?;
            let invalid = || {
                KinesisError::invalid(format!(
                    "StartingSequenceNumber {raw} used in GetShardIterator on shard {shard_id} in stream {} under account {} is invalid.",
                    s.name, s.account
                ))
            };
            let n = keys::parse_sequence_number(raw).ok_or_else(invalid)?;
            if n < shard.start_seq || shard.end_seq.is_some_and(|e| n > e) || n > s.counter {
                return Err(KinesisError::invalid(format!(
                    "StartingSequenceNumber {raw} used in GetShardIterator on shard {shard_id} in stream {} under account {} is invalid because it did not come from this stream.",
                    s.name, s.account
                )));
            }
            Ok(if kind == "AT_SEQUENCE_NUMBER" {
                n - 1
            } else {
                n
            })
        }
        "AT_TIMESTAMP" => {
            let ts = ts.ok_or_else(|| {
                KinesisError::invalid(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
                )
            })?;
            let now = aloft_core::clock::now_millis();
            if ts > now {
                return Err(KinesisError::invalid(format!(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: {ts}, currentTimestampInMillis: {now}"
                )));
            }
            Ok(shard
                .records
                .iter()
                .find(|r| r.arrival_ms >= ts)
                .map_or(latest, |r| r.seq - 1))
        }
        other => Err(KinesisError::invalid(format!(
            "Invalid ShardIteratorType: {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(shards: u32) -> Stream {
        Stream::for_test(shards)
    }

    fn put<'a>(pk: &'a str, data: &'a str) -> Put<'a> {
        Put {
            data,
            partition_key: Some(pk),
            explicit_hash_key: None,
            field: String::new(),
        }
    }

    #[test]
    fn records_route_by_md5_and_sequence_numbers_increase() {
        let mut s = stream(4);
        // MD5("a") starts 0x0c: the first quarter; MD5("b") starts 0x92: the third.
        let (a, ra) = append(&mut s, 1, false, &put("a", "AA==")).unwrap();
        let (b, rb) = append(&mut s, 2, false, &put("b", "AA==")).unwrap();
        assert_eq!((a, b), (0, 2));
        assert!(rb.seq > ra.seq);
        let explicit = Put {
            explicit_hash_key: Some("340282366920938463463374607431768211455"),
            ..put("a", "AA==")
        };
        assert_eq!(append(&mut s, 3, false, &explicit).unwrap().0, 3);
        let bad = Put {
            explicit_hash_key: Some("340282366920938463463374607431768211456"),
            ..put("a", "AA==")
        };
        assert_eq!(
            append(&mut s, 3, false, &bad).unwrap_err().code,
            Code::InvalidArgumentException
        );
    }

    #[test]
    fn iterator_positions() {
        let mut s = stream(1);
        let (_, r1) = append(&mut s, 1_000, false, &put("k", "AA==")).unwrap();
        let (_, r2) = append(&mut s, 2_000, false, &put("k", "AQ==")).unwrap();
        let id = keys::shard_id(0);
        let seq2 = keys::sequence_number(r2.seq);
        assert_eq!(
            position(&s, &id, "TRIM_HORIZON", None, None).unwrap(),
            s.shards[0].start_seq
        );
        assert_eq!(position(&s, &id, "LATEST", None, None).unwrap(), r2.seq);
        assert_eq!(
            position(&s, &id, "AT_SEQUENCE_NUMBER", Some(&seq2), None).unwrap(),
            r1.seq
        );
        assert_eq!(
            position(&s, &id, "AFTER_SEQUENCE_NUMBER", Some(&seq2), None).unwrap(),
            r2.seq
        );
        assert_eq!(
            position(&s, &id, "AT_TIMESTAMP", None, Some(1_500)).unwrap(),
            r1.seq
        );
        assert!(position(&s, &id, "AT_SEQUENCE_NUMBER", Some("1"), None).is_err());
        assert!(position(&s, "shardId-000000000009", "LATEST", None, None).is_err());
    }

    #[test]
    fn auto_distribution_spreads_records_and_needs_no_key() {
        let mut s = stream(3);
        s.mode = "ON_DEMAND".into();
        s.distribution = "AUTO".into();
        let keyless = Put {
            data: "AA==",
            partition_key: None,
            explicit_hash_key: Some("not-even-a-number"),
            field: String::new(),
        };
        let mut shards: Vec<u32> = (0..6)
            .map(|_| append(&mut s, 1, false, &keyless).unwrap().0)
            .collect();
        shards.sort_unstable();
        assert_eq!(shards, vec![0, 0, 1, 1, 2, 2]);
        s.distribution = "USER_PARTITION_KEY".into();
        assert_eq!(
            append(&mut s, 1, false, &keyless).unwrap_err().code,
            Code::ValidationException
        );
    }

    #[test]
    fn java_dates_as_aws_prints_them() {
        assert_eq!(java_date(1_531_954_206_000), "Wed Jul 18 22:50:06 UTC 2018");
    }

    #[test]
    fn retention_trims_old_records() {
        let mut s = stream(1);
        append(&mut s, 0, false, &put("k", "AA==")).unwrap();
        append(&mut s, 3_600_000 * 24, false, &put("k", "AA==")).unwrap();
        let gone = s.trim(3_600_000 * 24 + 1);
        assert_eq!(gone.len(), 1);
        assert_eq!(s.shards[0].records.len(), 1);
    }

    #[test]
    fn throttling_limits_records_per_shard_second() {
        let mut s = stream(1);
        for _ in 0..1000 {
            append(&mut s, 5_000, true, &put("k", "AA==")).unwrap();
        }
        let e = append(&mut s, 5_999, true, &put("k", "AA==")).unwrap_err();
        assert_eq!(e.code, Code::ProvisionedThroughputExceededException);
        assert!(append(&mut s, 6_000, true, &put("k", "AA==")).is_ok());
    }
}
