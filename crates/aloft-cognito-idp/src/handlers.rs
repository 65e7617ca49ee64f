//! Operation dispatch: decode → the operation's handler → encode.

use aloft_core::{AwsRequest, RequestContext, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Code, Result};
use crate::state::Inner;
use crate::{
    admin_users, auth, groups, mfa, own_account, pools, resource_servers, user_filter, users, wire,
};

pub async fn handle(inner: &Inner, mut req: AwsRequest) -> Response {
    let rid = req.ctx.request_id.clone();
    let (op, input) = match wire::decode(&mut req).await {
        Ok(d) => d,
        Err(e) => return wire::error(&rid, &e),
    };
    match dispatch(inner, &req.ctx, op, input).await {
        Ok(v) => wire::ok(op, &rid, &v),
        Err(e) => wire::error(&rid, &e),
    }
}

/// Deserializes an operation's input into its typed struct.
pub fn parse<T: DeserializeOwned>(input: Value) -> Result<T> {
    serde_json::from_value(input).map_err(|e| {
        let msg = e.to_string();
        if let Some(field) = msg.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            let mut camel = field.to_string();
            if let Some(f) = camel.get_mut(0..1) {
                f.make_ascii_lowercase();
            }
            Code::InvalidParameterException.msg(format!(
                "1 validation error detected: Value null at '{camel}' failed to satisfy constraint: Member must not be null"
            ))
        } else {
            Code::SerializationException.msg(msg)
        }
    })
}

async fn dispatch(inner: &Inner, ctx: &RequestContext, op: &str, input: Value) -> Result<Value> {
    match op {
        "CreateUserPool" => pools::create_user_pool(inner, ctx, parse(input)?).await,
        "DescribeUserPool" => pools::describe_user_pool(inner, ctx, parse(input)?),
        "UpdateUserPool" => pools::update_user_pool(inner, ctx, input).await,
        "DeleteUserPool" => pools::delete_user_pool(inner, ctx, parse(input)?).await,
        "ListUserPools" => pools::list_user_pools(inner, ctx, parse(input)?),
        "CreateUserPoolClient" => pools::create_user_pool_client(inner, ctx, input).await,
        "DescribeUserPoolClient" => pools::describe_user_pool_client(inner, ctx, parse(input)?),
        "UpdateUserPoolClient" => pools::update_user_pool_client(inner, ctx, input).await,
        "DeleteUserPoolClient" => pools::delete_user_pool_client(inner, ctx, parse(input)?).await,
        "ListUserPoolClients" => pools::list_user_pool_clients(inner, ctx, parse(input)?),
        "CreateUserPoolDomain" => pools::create_user_pool_domain(inner, ctx, parse(input)?).await,
        "DescribeUserPoolDomain" => pools::describe_user_pool_domain(inner, ctx, parse(input)?),
        "DeleteUserPoolDomain" => pools::delete_user_pool_domain(inner, ctx, parse(input)?).await,
        "CreateResourceServer" => {
            resource_servers::create_resource_server(inner, ctx, parse(input)?).await
        }
        "DescribeResourceServer" => {
            resource_servers::describe_resource_server(inner, ctx, parse(input)?)
        }
        "UpdateResourceServer" => {
            resource_servers::update_resource_server(inner, ctx, parse(input)?).await
        }
        "DeleteResourceServer" => {
            resource_servers::delete_resource_server(inner, ctx, parse(input)?).await
        }
        "ListResourceServers" => resource_servers::list_resource_servers(inner, ctx, parse(input)?),
        "SetUserPoolMfaConfig" => mfa::set_user_pool_mfa_config(inner, ctx, input).await,
        "GetUserPoolMfaConfig" => mfa::get_user_pool_mfa_config(inner, ctx, parse(input)?),
        "SignUp" => users::sign_up(inner, ctx, parse(input)?).await,
        "ConfirmSignUp" => users::confirm_sign_up(inner, ctx, parse(input)?).await,
        "ResendConfirmationCode" => {
            users::resend_confirmation_code(inner, ctx, parse(input)?).await
        }
        "AdminCreateUser" => users::admin_create_user(inner, ctx, parse(input)?).await,
        "AdminGetUser" => admin_users::admin_get_user(inner, ctx, parse(input)?),
        "AdminDeleteUser" => admin_users::admin_delete_user(inner, ctx, parse(input)?).await,
        "AdminDisableUser" => {
            admin_users::admin_set_enabled(inner, ctx, parse(input)?, false).await
        }
        "AdminEnableUser" => admin_users::admin_set_enabled(inner, ctx, parse(input)?, true).await,
        "AdminSetUserPassword" => {
            admin_users::admin_set_user_password(inner, ctx, parse(input)?).await
        }
        "AdminConfirmSignUp" => admin_users::admin_confirm_sign_up(inner, ctx, parse(input)?).await,
        "AdminUpdateUserAttributes" => {
            admin_users::admin_update_user_attributes(inner, ctx, parse(input)?).await
        }
        "AdminDeleteUserAttributes" => {
            admin_users::admin_delete_user_attributes(inner, ctx, parse(input)?).await
        }
        "AdminResetUserPassword" => {
            admin_users::admin_reset_user_password(inner, ctx, parse(input)?).await
        }
        "AdminUserGlobalSignOut" => {
            admin_users::admin_user_global_sign_out(inner, ctx, parse(input)?).await
        }
        "ListUsers" => user_filter::list_users(inner, ctx, parse(input)?),
        "GetUser" => own_account::get_user(inner, parse(input)?).await,
        "UpdateUserAttributes" => own_account::update_user_attributes(inner, parse(input)?).await,
        "DeleteUserAttributes" => own_account::delete_user_attributes(inner, parse(input)?).await,
        "GetUserAttributeVerificationCode" => {
            own_account::get_user_attribute_verification_code(inner, parse(input)?).await
        }
        "VerifyUserAttribute" => own_account::verify_user_attribute(inner, parse(input)?).await,
        "DeleteUser" => own_account::delete_user(inner, parse(input)?).await,
        "ChangePassword" => own_account::change_password(inner, parse(input)?).await,
        "ForgotPassword" => own_account::forgot_password(inner, parse(input)?).await,
        "ConfirmForgotPassword" => own_account::confirm_forgot_password(inner, parse(input)?).await,
        "GlobalSignOut" => own_account::global_sign_out(inner, parse(input)?).await,
        "RevokeToken" => own_account::revoke_token(inner, parse(input)?).await,
        "CreateGroup" => groups::create_group(inner, ctx, parse(input)?).await,
        "GetGroup" => groups::get_group(inner, ctx, parse(input)?),
        "UpdateGroup" => groups::update_group(inner, ctx, parse(input)?).await,
        "DeleteGroup" => groups::delete_group(inner, ctx, parse(input)?).await,
        "ListGroups" => groups::list_groups(inner, ctx, parse(input)?),
        "AdminAddUserToGroup" => {
            groups::admin_add_user_to_group(inner, ctx, parse(input)?, true).await
        }
        "AdminRemoveUserFromGroup" => {
            groups::admin_add_user_to_group(inner, ctx, parse(input)?, false).await
        }
        "AdminListGroupsForUser" => groups::admin_list_groups_for_user(inner, ctx, parse(input)?),
        "ListUsersInGroup" => groups::list_users_in_group(inner, ctx, parse(input)?),
        "InitiateAuth" => auth::initiate_auth(inner, ctx, parse(input)?, false).await,
        "AdminInitiateAuth" => auth::initiate_auth(inner, ctx, parse(input)?, true).await,
        "RespondToAuthChallenge" => {
            auth::respond_to_auth_challenge(inner, ctx, parse(input)?, false).await
        }
        "AdminRespondToAuthChallenge" => {
            auth::respond_to_auth_challenge(inner, ctx, parse(input)?, true).await
        }
        "AssociateSoftwareToken" => mfa::associate_software_token(inner, parse(input)?).await,
        "VerifySoftwareToken" => mfa::verify_software_token(inner, parse(input)?).await,
        "SetUserMFAPreference" => {
            mfa::set_user_mfa_preference(inner, ctx, parse(input)?, false).await
        }
        "AdminSetUserMFAPreference" => {
            mfa::set_user_mfa_preference(inner, ctx, parse(input)?, true).await
        }
        _ => Err(Code::UnknownOperationException.msg(format!(
            "Operation {op} is not supported by Aloft's cognito-idp"
        ))),
    }
}
