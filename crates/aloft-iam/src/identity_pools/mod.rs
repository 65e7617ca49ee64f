//! Amazon Cognito identity pools (`cognito-identity`, json 1.1): pools and their roles and role
//! mappings, identities, and the exchange of login tokens for temporary credentials minted by
//! the shared STS/IAM [`Identity`] (so the gateway knows the keys and their role).

mod identities;
mod logins;
mod pools;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aloft_core::{
    AwsError, AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec,
};
use aloft_store::{Batch, Store};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::state::{Identity, durable};

const POOLS: &str = "cognito-identity/pools";

pub static SPEC: ServiceSpec = ServiceSpec {
    name: "cognito-identity",
    signing_names: &["cognito-identity"],
    target_prefixes: &["AWSCognitoIdentityService"],
    host_labels: &[],
    path_prefixes: &[],
    // The model's `authtype: none` operations: a device's calls, made with login tokens.
    unsigned_actions: &[
        "GetId",
        "GetCredentialsForIdentity",
        "GetOpenIdToken",
        "UnlinkIdentity",
    ],
};

macro_rules! codes {
    ($($name:ident = $status:literal),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($name),* }
        impl Code {
            pub fn msg(self, message: impl Into<String>) -> AwsError {
                match self { $(Code::$name => AwsError::new(stringify!($name), $status, message)),* }
            }
        }
    };
}

codes! {
    ResourceNotFoundException = 400,
    NotAuthorizedException = 400,
    InvalidParameterException = 400,
    ResourceConflictException = 400,
    InvalidIdentityPoolConfigurationException = 400,
    LimitExceededException = 400,
    ExternalServiceException = 400,
    InternalErrorException = 500,
    UnknownOperationException = 400,
}

pub type Result<T> = std::result::Result<T, AwsError>;

/// One identity pool, as `DescribeIdentityPool` shows it, plus its roles and identities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pool {
    /// The `IdentityPool` shape's members (model names).
    pub config: serde_json::Map<String, Value>,
    /// `authenticated` / `unauthenticated` → role ARN.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// Provider name (`cognito-idp.{region}.amazonaws.com/{poolId}:{clientId}`) → mapping.
    #[serde(default)]
    pub role_mappings: serde_json::Map<String, Value>,
    #[serde(default)]
    pub identities: BTreeMap<String, IdentityRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityRecord {
    /// Provider name → the subject it knows this identity by.
    pub logins: BTreeMap<String, String>,
    pub created: f64,
    pub modified: f64,
}

/// Pools keyed by `{account}/{pool id}` (the id names its region).
#[derive(Default)]
pub struct PoolsState {
    pub pools: BTreeMap<String, Pool>,
}

pub struct IdentityPools {
    state: Mutex<PoolsState>,
    store: Arc<dyn Store>,
    pub identity: Arc<Identity>,
    /// Where the user pools' issuer documents are served (`ctx.config.internal_url`).
    pub internal_url: String,
    pub keys: logins::KeyCache,
}

impl IdentityPools {
    pub fn load(ctx: &ServiceContext, identity: Arc<Identity>) -> Arc<Self> {
        let mut st = PoolsState::default();
        for (k, v) in ctx.store.load(POOLS, b"").unwrap_or_default() {
            if let Ok(p) = serde_json::from_slice(&v) {
                st.pools.insert(String::from_utf8_lossy(&k).into_owned(), p);
            }
        }
        Arc::new(Self {
            state: Mutex::new(st),
            store: ctx.store.clone(),
            identity,
            internal_url: ctx.config.internal_url.clone(),
            keys: logins::KeyCache::default(),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, PoolsState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads a pool of the caller's account.
    pub fn read<T>(
        &self,
        ctx: &RequestContext,
        pool_id: &str,
        f: impl FnOnce(&Pool) -> Result<T>,
    ) -> Result<T> {
        let st = self.lock();
        let p = st
            .pools
            .get(&key(&ctx.account_id, pool_id))
            .ok_or_else(|| not_found_pool(pool_id))?;
        f(p)
    }

    /// Changes (or with `f` returning `None`, deletes) a pool and journals it.
    pub async fn write<T>(
        &self,
        account: &str,
        pool_id: &str,
        create: Option<Pool>,
        f: impl FnOnce(&mut Pool) -> Result<(T, bool)>,
    ) -> Result<T> {
        let k = key(account, pool_id);
        let (out, commit) = {
            let mut st = self.lock();
            if let Some(p) = create {
                st.pools.insert(k.clone(), p);
            }
            let p = st
                .pools
                .get_mut(&k)
                .ok_or_else(|| not_found_pool(pool_id))?;
            let (out, keep) = f(p)?;
            let mut b = Batch::new();
            if keep {
                b.put(
                    POOLS,
                    k.clone().into_bytes(),
                    serde_json::to_vec(&*p).unwrap_or_default(),
                );
            } else {
                st.pools.remove(&k);
                b.delete(POOLS, k.into_bytes());
            }
            (out, self.store.submit(b))
        };
        durable(commit).await?;
        Ok(out)
    }

    pub async fn reset(&self) {
        let commit = {
            let mut st = self.lock();
            *st = PoolsState::default();
            self.store.clear(POOLS, b"")
        };
        let _ = commit.await;
    }
}

fn key(account: &str, pool_id: &str) -> String {
    format!("{account}/{pool_id}")
}

pub fn not_found_pool(pool_id: &str) -> AwsError {
    Code::ResourceNotFoundException.msg(format!("IdentityPool '{pool_id}' not found."))
}

pub struct CognitoIdentity(pub Arc<IdentityPools>);

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Code::InvalidParameterException.msg(e.to_string()))
}

async fn dispatch(
    p: &IdentityPools,
    ctx: &RequestContext,
    op: &str,
    input: Value,
) -> Result<Value> {
    match op {
        "CreateIdentityPool" => pools::create_identity_pool(p, ctx, input).await,
        "DescribeIdentityPool" => pools::describe_identity_pool(p, ctx, &input),
        "UpdateIdentityPool" => pools::update_identity_pool(p, ctx, input).await,
        "DeleteIdentityPool" => pools::delete_identity_pool(p, ctx, &input).await,
        "ListIdentityPools" => pools::list_identity_pools(p, ctx, &input),
        "SetIdentityPoolRoles" => pools::set_identity_pool_roles(p, ctx, &input).await,
        "GetIdentityPoolRoles" => pools::get_identity_pool_roles(p, ctx, &input),
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            pools::tags(p, ctx, op, &input).await
        }
        "GetId" => identities::get_id(p, ctx, parse(input)?).await,
        "GetCredentialsForIdentity" => {
            identities::get_credentials_for_identity(p, ctx, parse(input)?).await
        }
        "GetOpenIdToken" => identities::get_open_id_token(p, ctx, parse(input)?).await,
        "GetOpenIdTokenForDeveloperIdentity" => {
            identities::get_open_id_token_for_developer_identity(p, ctx, parse(input)?).await
        }
        "DescribeIdentity" => identities::describe_identity(p, ctx, &input),
        "ListIdentities" => identities::list_identities(p, ctx, &input),
        "DeleteIdentities" => identities::delete_identities(p, ctx, &input).await,
        _ => Err(Code::UnknownOperationException.msg(format!(
            "Operation {op} is not supported by Aloft's cognito-identity"
        ))),
    }
}

#[async_trait]
impl Service for CognitoIdentity {
    fn spec(&self) -> &'static ServiceSpec {
        &SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let p = self.0.clone();
        crate::serve("cognito-identity", req, move |ctx, op, input| {
            Box::pin(async move { dispatch(&p, ctx, op, input).await })
        })
        .await
    }

    async fn internal(&self, _req: AwsRequest, path: &str) -> Option<Response> {
        // The OpenID tokens' keys, as https://cognito-identity.amazonaws.com/.well-known/jwks_uri.
        if path != "jwks.json" && path != ".well-known/jwks_uri" {
            return None;
        }
        Some(match logins::openid_key().await {
            Ok(k) => aloft_core::json_response(
                http::StatusCode::OK,
                &serde_json::json!({"keys": [k.jwk()]}),
            ),
            Err(e) => aloft_core::json_response(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                &serde_json::json!({"message": e.message}),
            ),
        })
    }

    async fn reset(&self) {
        self.0.reset().await;
    }
}
