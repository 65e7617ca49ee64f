//! An SQS-like source feeds a Python function through an event source mapping: successful
//! records are acknowledged, `batchItemFailures` stay, filtered-out records are deleted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aloft_core::{AwsError, RequestContext, ServiceContext};
use aloft_events::{Source, SourceRecord, Targets};
use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{Value, json};

#[derive(Default)]
struct FakeQueue {
    pending: Mutex<Vec<Value>>,
    acked: Mutex<Vec<String>>,
}

#[async_trait]
impl Source for FakeQueue {
    async fn read(
        &self,
        _arn: &str,
        _position: Option<&str>,
        max: usize,
        _options: &serde_json::Map<String, Value>,
    ) -> Result<(Vec<SourceRecord>, Option<String>), AwsError> {
        let mut p = self.pending.lock().unwrap();
        let n = max.min(p.len());
        let out = p
            .drain(..n)
            .map(|r| SourceRecord {
                ack: r["messageId"].as_str().unwrap().to_string(),
                record: r,
            })
            .collect();
        Ok((out, None))
    }
    async fn ack(&self, _arn: &str, acks: &[String]) -> Result<(), AwsError> {
        self.acked.lock().unwrap().extend(acks.iter().cloned());
        Ok(())
    }
}

fn zip(files: &[(&str, &str)]) -> String {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, body) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
    base64::engine::general_purpose::STANDARD.encode(buf.into_inner())
}

fn ctx() -> RequestContext {
    RequestContext::local("lambda")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_mapping_acks_successes_and_keeps_reported_failures() {
    let targets = Targets::new();
    let queue = Arc::new(FakeQueue::default());
    for (id, body) in [
        ("m1", "{\"ok\":true}"),
        ("m2", "{\"ok\":false}"),
        ("m3", "{\"skip\":1}"),
    ] {
        queue
            .pending
            .lock()
            .unwrap()
            .push(json!({"messageId": id, "body": body, "eventSource": "aws:sqs"}));
    }
    targets.register_source("sqs", queue.clone());
    let sctx = ServiceContext {
        store: Arc::new(aloft_store::Ephemeral),
        blobs: Arc::new(aloft_store::Blobs::ephemeral().unwrap()),
        targets,
        config: Arc::new(aloft_core::service::Config {
            host: "127.0.0.1".into(),
            port: 4566,
            data_dir: None,
            internal_url: "http://127.0.0.1:4566".into(),
            settings: HashMap::new(),
        }),
        authority: Default::default(),
    };
    let lambda = aloft_lambda::start_lambda(&sctx).await;
    let code = "import json\ndef handler(e, c):\n    bad = [r['messageId'] for r in e['Records'] if not json.loads(r['body']).get('ok')]\n    return {'batchItemFailures': [{'itemIdentifier': i} for i in bad]}\n";
    lambda
        .dispatch(
            &ctx(),
            "CreateFunction",
            json!({"FunctionName": "consumer", "Runtime": "python3.12", "Role": "arn:aws:iam::000000000000:role/r",
                   "Handler": "app.handler", "Code": {"ZipFile": zip(&[("app.py", code)])}}),
        )
        .await
        .unwrap();
    let m = lambda
        .dispatch(
            &ctx(),
            "CreateEventSourceMapping",
            json!({"FunctionName": "consumer", "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q",
                   "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                   "FilterCriteria": {"Filters": [{"Pattern": "{\"body\": {\"ok\": [{\"exists\": true}]}}"}]}}),
        )
        .await
        .unwrap();
    assert_eq!(m["State"], "Creating");
    assert_eq!(m["BatchSize"], 10);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut acked = queue.acked.lock().unwrap().clone();
        acked.sort();
        if acked == ["m1", "m3"] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "acked so far: {acked:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let listed = lambda
        .dispatch(
            &ctx(),
            "ListEventSourceMappings",
            json!({"FunctionName": "consumer"}),
        )
        .await
        .unwrap();
    assert_eq!(listed["EventSourceMappings"].as_array().unwrap().len(), 1);
    let uuid = m["UUID"].as_str().unwrap();
    lambda
        .dispatch(&ctx(), "DeleteEventSourceMapping", json!({"UUID": uuid}))
        .await
        .unwrap();
    let err = lambda
        .dispatch(&ctx(), "GetEventSourceMapping", json!({"UUID": uuid}))
        .await
        .unwrap_err();
    assert_eq!(err.code, "ResourceNotFoundException");
    aloft_core::Service::shutdown(&*lambda).await;
}
