//! RotateSecret: the rotation Lambda is invoked (synchronously, through the `lambda`
//! target) for `createSecret`, `setSecret`, `testSecret` and `finishSecret` in turn, with
//! the new version's token; the function itself calls PutSecretValue (AWSPENDING) and
//! UpdateSecretVersionStage (AWSCURRENT) back through the API, as with AWS.

use aloft_core::clock;
use aloft_events::Delivery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Result, SmError};
use crate::values::CURRENT;
use crate::{Out, SecretsManager, parse};

const PENDING: &str = "AWSPENDING";
const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

impl SecretsManager {
    pub(crate) async fn rotate_secret(&self, account: &str, region: &str, input: Value) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
            client_request_token: Option<String>,
            #[serde(rename = "RotationLambdaARN")]
            rotation_lambda_arn: Option<String>,
            rotation_rules: Option<Value>,
            rotate_immediately: Option<bool>,
        }
        let i: In = parse(input)?;
        let token = i
            .client_request_token
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let (arn, name, lambda) = self
            .update(account, region, &i.secret_id, |s| {
                if s.deleted_ms.is_some() {
                    return Err(SmError::deleted());
                }
                let lambda = i
                    .rotation_lambda_arn
                    .clone()
                    .or_else(|| s.rotation_lambda.clone())
                    .ok_or_else(|| {
                        SmError::request(
                            "No Lambda rotation function ARN is associated with this secret.",
                        )
                    })?;
                if let Some(p) = s.staged(PENDING)
                    && s.staged(CURRENT) != Some(p)
                {
                    return Err(SmError::request(
                        "A previous rotation isn't complete. That rotation will be reattempted.",
                    ));
                }
                s.rotation_lambda = Some(lambda.clone());
                if let Some(r) = &i.rotation_rules {
                    s.rotation_rules = Some(r.clone());
                }
                s.rotation_enabled = true;
                Ok((s.arn.clone(), s.name.clone(), lambda))
            })
            .await?;
        if i.rotate_immediately.unwrap_or(true) {
            self.run_rotation(account, region, &arn, &lambda, &token)
                .await?;
        }
        Ok(json!({"ARN": arn, "Name": name, "VersionId": token}))
    }

    /// Rotates, on the one clock, every secret whose schedule came round.
    pub(crate) async fn rotate_due(&self) {
        let now = clock::now_secs_f64();
        let due: Vec<(String, String, String, String)> = {
            let m = self.state.lock();
            m.values()
                .filter(|s| s.rotation_enabled && s.deleted_ms.is_none())
                .filter(|s| next_rotation(s).is_some_and(|t| t <= now))
                .filter_map(|s| {
                    let l = s.rotation_lambda.clone()?;
                    Some((s.account.clone(), s.region.clone(), s.arn.clone(), l))
                })
                .collect()
        };
        for (account, region, arn, lambda) in due {
            let token = uuid::Uuid::new_v4().to_string();
            if let Err(e) = self
                .run_rotation(&account, &region, &arn, &lambda, &token)
                .await
            {
                tracing::warn!(secret = arn, error = %e.message, "scheduled rotation failed");
            }
            // A failed rotation waits for its next window rather than retrying at once.
            let _ = self
                .update(&account, &region, &arn, |s| {
                    if s.rotated_s.is_none_or(|r| r < now) {
                        s.rotated_s = Some(now);
                    }
                    Ok(())
                })
                .await;
        }
    }

    async fn run_rotation(
        &self,
        account: &str,
        region: &str,
        arn: &str,
        lambda: &str,
        token: &str,
    ) -> Result<()> {
        for step in STEPS {
            let payload = json!({"Step": step, "SecretId": arn, "ClientRequestToken": token,
                                 "RotationToken": uuid::Uuid::new_v4().to_string()});
            let d = Delivery {
                payload: payload.to_string().into(),
                sync: true,
                source_arn: Some(arn.to_string()),
                account: account.into(),
                region: region.into(),
                ..Delivery::default()
            };
            let out = self.targets.deliver(lambda, d).await.map_err(|e| {
                SmError::request(format!(
                    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com. ({})",
                    e.message
                ))
            })?;
            if let Some(err) = out.info.get("FunctionError") {
                // AWS reports the failure only through the secret's state: AWSPENDING stays.
                tracing::warn!(secret = arn, step, ?err, "rotation function failed");
                return Ok(());
            }
        }
        let done = {
            let m = self.state.lock();
            m.get(arn).is_some_and(|s| s.staged(CURRENT) == Some(token))
        };
        if done {
            self.update(account, region, arn, |s| {
                s.rotated_s = Some(clock::now_secs_f64());
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn cancel_rotate_secret(
        &self,
        account: &str,
        region: &str,
        input: Value,
    ) -> Out {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct In {
            secret_id: String,
        }
        let i: In = parse(input)?;
        self.update(account, region, &i.secret_id, |s| {
            if s.deleted_ms.is_some() {
                return Err(SmError::deleted());
            }
            s.rotation_enabled = false;
            let mut out = json!({"ARN": s.arn, "Name": s.name});
            if let Some(p) = s.staged(PENDING) {
                out["VersionId"] = json!(p);
            }
            Ok(out)
        })
        .await
    }
}

/// When a secret's rotation schedule next comes round (epoch seconds): `AutomaticallyAfterDays`
/// or `ScheduleExpression` `rate(N days|hours)` after the last rotation (or creation).
pub(crate) fn next_rotation(s: &crate::state::Secret) -> Option<f64> {
    let rules = s.rotation_rules.as_ref()?;
    let from = s.rotated_s.unwrap_or(s.created_s);
    if let Some(days) = rules.get("AutomaticallyAfterDays").and_then(Value::as_f64) {
        return Some(from + days * 86_400.0);
    }
    let expr = rules.get("ScheduleExpression").and_then(Value::as_str)?;
    let inner = expr.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.split_once(' ')?;
    let n: f64 = n.trim().parse().ok()?;
    let secs = match unit.trim() {
        "day" | "days" => 86_400.0,
        "hour" | "hours" => 3_600.0,
        _ => return None,
    };
    Some(from + n * secs)
}
