//! The one place services are wired: each service crate contributes one line.

use std::sync::Arc;

use aloft_core::{Service, ServiceContext};

/// Builds every service. Cross-service targets are registered by each service's constructor
/// on `ctx.targets`, so the order here does not matter.
pub async fn build(ctx: &ServiceContext) -> Vec<Arc<dyn Service>> {
    let mut services: Vec<Arc<dyn Service>> = vec![
        aloft_lambda::start(ctx).await,
        aloft_logs::start(ctx).await,
        aloft_sqs::start(ctx).await,
        aloft_sns::start(ctx).await,
        aloft_eventbridge::start(ctx).await,
        aloft_kms::start(ctx).await,
        aloft_secretsmanager::start(ctx).await,
        aloft_ssm::start(ctx).await,
        aloft_cloudwatch::start(ctx).await,
        aloft_scheduler::start(ctx).await,
        aloft_cognito_idp::start(ctx).await,
        aloft_dynamodb::start(ctx).await,
        aloft_apigateway::start(ctx).await,
        aloft_s3::start(ctx).await,
        aloft_kinesis::start(ctx).await,
    ];
    // STS and IAM share one identity state, so one start gives both.
    services.extend(aloft_iam::start(ctx).await);
    services
}
