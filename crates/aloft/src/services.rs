//! The one place services are wired: each service crate contributes one line.

use std::sync::Arc;

use aloft_core::{Service, ServiceContext};

/// Builds every service. Cross-service targets are registered by each service's constructor
/// on `ctx.targets`, so the order here does not matter.
pub async fn build(ctx: &ServiceContext) -> Vec<Arc<dyn Service>> {
    let services: Vec<Arc<dyn Service>> = vec![
        aloft_s3::S3::start(ctx).await,
    ];
    services
}
