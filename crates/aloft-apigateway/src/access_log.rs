//! Stage access logs: the stage's format with its `$context` variables filled in, delivered
//! to the CloudWatch Logs group of `destinationArn` after the response is sent.

use aloft_events::Delivery;
use serde_json::{Value, json};

use crate::ApiGateway;

/// Fills `$context.a.b` variables from `ctx`; a missing value prints `-`, as on AWS.
pub fn render(format: &str, ctx: &Value) -> String {
    let mut out = String::with_capacity(format.len() + 64);
    let mut rest = format;
    while let Some(i) = rest.find("$context.") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "$context.".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(after.len());
        let name = after[..end].trim_end_matches('.');
        if name.is_empty() {
            out.push_str("$context.");
            rest = after;
            continue;
        }
        let mut cur = Some(ctx);
        for part in name.split('.') {
            cur = cur.and_then(|v| v.get(part));
        }
        match cur {
            Some(Value::String(s)) if !s.is_empty() => out.push_str(s),
            Some(Value::Null) | None => out.push('-'),
            Some(Value::String(_)) => out.push('-'),
            Some(v) => out.push_str(&v.to_string()),
        }
        rest = &after[name.len()..];
    }
    out.push_str(rest);
    out
}

/// `destinationArn`/`format` (REST) or `DestinationArn`/`Format` (HTTP, WebSocket).
pub fn settings(s: Option<&Value>) -> Option<(String, String)> {
    let s = s?;
    let get = |a: &str, b: &str| {
        s.get(a)
            .or_else(|| s.get(b))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Some((
        get("destinationArn", "DestinationArn")?,
        get("format", "Format")?,
    ))
}

impl ApiGateway {
    /// Writes one access log line without holding up the response.
    pub(crate) fn access_log(&self, settings: Option<&Value>, ctx: &Value, stream: String) {
        let Some((arn, format)) = self::settings(settings) else {
            return;
        };
        let line = render(&format, ctx);
        let now = aloft_core::clock::now_millis();
        let mut options = serde_json::Map::new();
        options.insert("logStreamName".into(), json!(stream));
        options.insert(
            "logEvents".into(),
            json!([{"timestamp": now, "message": line}]),
        );
        options.insert("CreateIfMissing".into(), json!(true));
        let d = Delivery {
            options,
            account: ctx["accountId"].as_str().unwrap_or_default().to_string(),
            region: arn.split(':').nth(3).unwrap_or("us-east-1").to_string(),
            ..Default::default()
        };
        let targets = self.ctx.targets.clone();
        let arn = arn.trim_end_matches(":*").to_string();
        tokio::spawn(async move {
            if let Err(e) = targets.deliver(&arn, d).await {
                tracing::warn!("apigateway: access log to {arn} failed: {}", e.message);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_context_variables() {
        let ctx = json!({"requestId": "r1", "status": 200, "identity": {"sourceIp": "1.2.3.4", "user": null}, "empty": ""});
        assert_eq!(
            render(
                "$context.identity.sourceIp $context.identity.user [$context.requestTime] $context.status $context.requestId.",
                &ctx
            ),
            "1.2.3.4 - [-] 200 r1."
        );
        assert_eq!(
            render(r#"{"id":"$context.requestId","e":"$context.empty"}"#, &ctx),
            r#"{"id":"r1","e":"-"}"#
        );
        assert_eq!(render("cost $context.", &ctx), "cost $context.");
        assert_eq!(
            settings(Some(&json!({"destinationArn": "arn:x", "format": "f"}))),
            Some(("arn:x".into(), "f".into()))
        );
        assert_eq!(settings(Some(&json!({"Format": "f"}))), None);
    }
}
