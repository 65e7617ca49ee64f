//! AWS IAM and STS (query protocol): IAM's users, roles, groups, managed policies with
//! versions, inline and attached policies, access keys; STS's caller identity and temporary
//! credentials. Both share one [`state::Identity`]: STS reads IAM's roles, IAM reads STS's
//! callers, and [`Identity::credential`] is how an access key maps to a secret and principal.

mod authority;
mod error;
mod iam;
pub mod identity_pools;
mod instance_profiles;
mod managed_policies;
pub mod policy;
mod saml;
pub mod service_roles;
mod simulate;
pub mod state;
mod sts;
mod wire;

use std::sync::Arc;

use aloft_core::{AwsRequest, RequestContext, Response, Service, ServiceContext, ServiceSpec};
use async_trait::async_trait;
use serde_json::Value;

use crate::error::{Code, Result};
use crate::iam::Kind;
pub use crate::state::Identity;
pub use crate::sts::encode_authorization_message;

pub static STS_SPEC: ServiceSpec = ServiceSpec {
    name: "sts",
    signing_names: &["sts"],
    target_prefixes: &[],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &["AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"],
};

pub static IAM_SPEC: ServiceSpec = ServiceSpec {
    name: "iam",
    signing_names: &["iam"],
    target_prefixes: &[],
    host_labels: &[],
    path_prefixes: &[],
    unsigned_actions: &[],
};

pub struct Sts(Arc<Identity>);
pub struct Iam(Arc<Identity>);

/// Starts IAM, STS and Cognito identity pools over one shared state: `services.extend(aloft_iam::start(ctx).await)`.
pub async fn start(ctx: &ServiceContext) -> Vec<Arc<dyn Service>> {
    let id = Identity::load(ctx);
    let pools = identity_pools::IdentityPools::load(ctx, id.clone());
    ctx.targets.register_target(
        "iam",
        Arc::new(service_roles::RoleTarget(Arc::downgrade(&id))),
    );
    vec![
        Arc::new(Sts(id.clone())),
        Arc::new(Iam(id)),
        Arc::new(identity_pools::CognitoIdentity(pools)),
    ]
}

async fn serve<F>(model_name: &str, mut req: AwsRequest, f: F) -> Response
where
    F: for<'a> FnOnce(
        &'a RequestContext,
        &'static str,
        Value,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Value>> + Send + 'a>,
    >,
{
    let model = wire::model(model_name);
    let rid = req.ctx.request_id.clone();
    let (op, input, protocol) = match wire::decode(model, &mut req).await {
        Ok(d) => d,
        Err((p, mut e)) => {
            // Cognito words every constraint violation as InvalidParameterException.
            if model_name == "cognito-identity" && e.code == "ValidationException" {
                e.code = "InvalidParameterException";
            }
            return wire::error(model, p, &rid, &e);
        }
    };
    match f(&req.ctx, op, input).await {
        Ok(v) => wire::ok(model, op, protocol, &rid, &v),
        Err(e) => wire::error(model, protocol, &rid, &e),
    }
}

#[async_trait]
impl Service for Sts {
    fn spec(&self) -> &'static ServiceSpec {
        &STS_SPEC
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let id = self.0.clone();
        serve("sts", req, move |ctx, op, input| {
            Box::pin(async move { sts_dispatch(&id, ctx, op, input).await })
        })
        .await
    }

    async fn reset(&self) {
        self.0.reset().await;
    }
}

#[async_trait]
impl Service for Iam {
    fn spec(&self) -> &'static ServiceSpec {
        &IAM_SPEC
    }

    fn authority(&self) -> Option<Arc<dyn aloft_core::auth::Authority>> {
        Some(self.0.clone())
    }

    async fn handle(&self, req: AwsRequest) -> Response {
        let id = self.0.clone();
        serve("iam", req, move |ctx, op, input| {
            Box::pin(async move { iam_dispatch(&id, ctx, op, input).await })
        })
        .await
    }

    async fn reset(&self) {
        self.0.reset().await;
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Code::ValidationError.msg(e.to_string()))
}

async fn sts_dispatch(
    id: &Identity,
    ctx: &RequestContext,
    op: &str,
    input: Value,
) -> Result<Value> {
    match op {
        "GetCallerIdentity" => sts::get_caller_identity(id, ctx),
        "AssumeRole" => sts::assume_role(id, ctx, parse(input)?).await,
        "AssumeRoleWithWebIdentity" => {
            sts::assume_role_with_web_identity(id, ctx, parse(input)?).await
        }
        "GetSessionToken" => sts::get_session_token(id, ctx, parse(input)?).await,
        "GetFederationToken" => sts::get_federation_token(id, ctx, parse(input)?).await,
        "GetAccessKeyInfo" => sts::get_access_key_info(id, ctx, parse(input)?),
        "AssumeRoleWithSAML" => saml::assume_role_with_saml(id, ctx, parse(input)?).await,
        "DecodeAuthorizationMessage" => sts::decode_authorization_message(&input),
        _ => Err(Code::InvalidAction.msg(format!(
            "The action {op} is not valid for this web service."
        ))),
    }
}

async fn iam_dispatch(
    id: &Identity,
    ctx: &RequestContext,
    op: &str,
    input: Value,
) -> Result<Value> {
    let i = &input;
    match op {
        "CreateUser" => iam::create(id, ctx, Kind::User, input).await,
        "CreateRole" => iam::create(id, ctx, Kind::Role, input).await,
        "CreateGroup" => iam::create(id, ctx, Kind::Group, input).await,
        "GetUser" => iam::get(id, ctx, Kind::User, i),
        "GetRole" => iam::get(id, ctx, Kind::Role, i),
        "GetGroup" => iam::get(id, ctx, Kind::Group, i),
        "ListUsers" => iam::list(id, ctx, Kind::User, i),
        "ListRoles" => iam::list(id, ctx, Kind::Role, i),
        "ListGroups" => iam::list(id, ctx, Kind::Group, i),
        "DeleteUser" => iam::delete(id, ctx, Kind::User, i).await,
        "DeleteRole" => iam::delete(id, ctx, Kind::Role, i).await,
        "DeleteGroup" => iam::delete(id, ctx, Kind::Group, i).await,
        "UpdateAssumeRolePolicy" => iam::update_assume_role_policy(id, ctx, i).await,
        "PutUserPolicy" => iam::put_inline(id, ctx, Kind::User, i).await,
        "PutRolePolicy" => iam::put_inline(id, ctx, Kind::Role, i).await,
        "PutGroupPolicy" => iam::put_inline(id, ctx, Kind::Group, i).await,
        "GetUserPolicy" => iam::get_inline(id, ctx, Kind::User, i),
        "GetRolePolicy" => iam::get_inline(id, ctx, Kind::Role, i),
        "GetGroupPolicy" => iam::get_inline(id, ctx, Kind::Group, i),
        "ListUserPolicies" => iam::list_inline(id, ctx, Kind::User, i),
        "ListRolePolicies" => iam::list_inline(id, ctx, Kind::Role, i),
        "ListGroupPolicies" => iam::list_inline(id, ctx, Kind::Group, i),
        "DeleteUserPolicy" => iam::delete_inline(id, ctx, Kind::User, i).await,
        "DeleteRolePolicy" => iam::delete_inline(id, ctx, Kind::Role, i).await,
        "DeleteGroupPolicy" => iam::delete_inline(id, ctx, Kind::Group, i).await,
        "AttachUserPolicy" => iam::attach(id, ctx, Kind::User, i, true).await,
        "AttachRolePolicy" => iam::attach(id, ctx, Kind::Role, i, true).await,
        "AttachGroupPolicy" => iam::attach(id, ctx, Kind::Group, i, true).await,
        "DetachUserPolicy" => iam::attach(id, ctx, Kind::User, i, false).await,
        "DetachRolePolicy" => iam::attach(id, ctx, Kind::Role, i, false).await,
        "DetachGroupPolicy" => iam::attach(id, ctx, Kind::Group, i, false).await,
        "ListAttachedUserPolicies" => iam::list_attached(id, ctx, Kind::User, i),
        "ListAttachedRolePolicies" => iam::list_attached(id, ctx, Kind::Role, i),
        "ListAttachedGroupPolicies" => iam::list_attached(id, ctx, Kind::Group, i),
        "CreatePolicy" => iam::create_policy(id, ctx, i).await,
        "GetPolicy" => iam::get_policy(id, ctx, i),
        "ListPolicies" => iam::list_policies(id, ctx, i),
        "DeletePolicy" => iam::delete_policy(id, ctx, i).await,
        "CreatePolicyVersion" => iam::create_policy_version(id, ctx, i).await,
        "GetPolicyVersion" => iam::get_policy_version(id, ctx, i),
        "ListPolicyVersions" => iam::list_policy_versions(id, ctx, i),
        "DeletePolicyVersion" => iam::delete_policy_version(id, ctx, i).await,
        "SetDefaultPolicyVersion" => iam::set_default_policy_version(id, ctx, i).await,
        "AddUserToGroup" => iam::group_membership(id, ctx, i, true).await,
        "RemoveUserFromGroup" => iam::group_membership(id, ctx, i, false).await,
        "ListGroupsForUser" => iam::list_groups_for_user(id, ctx, i),
        "SimulateCustomPolicy" => simulate::simulate_custom_policy(i),
        "SimulatePrincipalPolicy" => simulate::simulate_principal_policy(id, ctx, i),
        "CreateAccessKey" => iam::create_access_key(id, ctx, i).await,
        "ListAccessKeys" => iam::list_access_keys(id, ctx, i),
        "UpdateAccessKey" => iam::update_or_delete_access_key(id, ctx, i, false).await,
        "DeleteAccessKey" => iam::update_or_delete_access_key(id, ctx, i, true).await,
        "CreateInstanceProfile" => instance_profiles::create(id, ctx, i).await,
        "GetInstanceProfile" => instance_profiles::get(id, ctx, i),
        "DeleteInstanceProfile" => instance_profiles::delete(id, ctx, i).await,
        "ListInstanceProfiles" => instance_profiles::list(id, ctx, i),
        "AddRoleToInstanceProfile" => instance_profiles::set_role(id, ctx, i, true).await,
        "RemoveRoleFromInstanceProfile" => instance_profiles::set_role(id, ctx, i, false).await,
        "ListInstanceProfilesForRole" => instance_profiles::list_for_role(id, ctx, i),
        "TagInstanceProfile" => instance_profiles::tag(id, ctx, i, true).await,
        "UntagInstanceProfile" => instance_profiles::tag(id, ctx, i, false).await,
        "ListInstanceProfileTags" => instance_profiles::list_tags(id, ctx, i),
        _ => Err(Code::InvalidAction.msg(format!(
            "The action {op} is not valid for this web service."
        ))),
    }
}
