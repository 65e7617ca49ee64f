//! Lambda triggers: Cognito's event shapes, delivered synchronously through Aloft's Lambda,
//! and the response handling (errors become `UserLambdaValidationException`).

use aloft_events::Delivery;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::error::{Code, Result};
use crate::model::{Pool, User};
use crate::state::Inner;

/// What a trigger needs to know about the pool, taken under the lock.
pub struct Call {
    pub arn: String,
    pub pool_id: String,
    pub region: String,
    pub account: String,
    pub client_id: Option<String>,
}

impl Call {
    /// The trigger `name` of `pool`, if configured.
    pub fn of(pool: &Pool, name: &str, client_id: Option<&str>) -> Option<Self> {
        pool.trigger(name).map(|arn| Self {
            arn,
            pool_id: pool.id.clone(),
            region: pool.region.clone(),
            account: pool.account.clone(),
            client_id: client_id.map(str::to_string),
        })
    }
}

/// `userAttributes` as triggers see them: a map of strings.
pub fn attributes(user: &User) -> Value {
    let mut m = Map::new();
    m.insert("cognito:user_status".into(), user.status.as_str().into());
    for (k, v) in &user.attributes {
        m.insert(k.clone(), v.clone().into());
    }
    Value::Object(m)
}

/// Invokes the trigger and returns the event's `response` member.
pub async fn invoke(
    inner: &Inner,
    call: &Call,
    trigger: &str,
    source: &str,
    username: &str,
    request: Value,
    response: Value,
) -> Result<Value> {
    let event = json!({
        "version": "1",
        "region": call.region,
        "userPoolId": call.pool_id,
        "userName": username,
        "callerContext": {
            "awsSdkVersion": "aws-sdk-unknown-unknown",
            "clientId": call.client_id.clone().unwrap_or_else(|| "CLIENT_ID_NOT_APPLICABLE".into()),
        },
        "triggerSource": source,
        "request": request,
        "response": response,
    });
    let delivery = Delivery {
        payload: Bytes::from(event.to_string()),
        sync: true,
        source_arn: Some(aloft_core::arn::build(
            "cognito-idp",
            &call.region,
            &call.account,
            &format!("userpool/{}", call.pool_id),
        )),
        account: call.account.clone(),
        region: call.region.clone(),
        ..Default::default()
    };
    let out = inner
        .targets
        .deliver(&call.arn, delivery)
        .await
        .map_err(|e| {
            Code::UnexpectedLambdaException.msg(format!(
                "{trigger} invocation failed due to error {}.",
                e.message
            ))
        })?;
    let payload: Value = out
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_slice(p).ok())
        .unwrap_or(Value::Null);
    if out.info.contains_key("FunctionError") {
        let msg = payload
            .get("errorMessage")
            .and_then(Value::as_str)
            .unwrap_or("Unhandled");
        return Err(
            Code::UserLambdaValidationException.msg(format!("{trigger} failed with error {msg}."))
        );
    }
    match payload.get("response") {
        Some(r @ Value::Object(_)) => Ok(r.clone()),
        Some(Value::Null) | None => Ok(json!({})),
        Some(_) => Err(Code::InvalidLambdaResponseException
            .msg(format!("Invalid lambda response received: {trigger}"))),
    }
}
