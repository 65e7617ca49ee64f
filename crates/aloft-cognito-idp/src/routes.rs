//! The issuer's unsigned documents: `/{poolId}/.well-known/jwks.json` and
//! `/{poolId}/.well-known/openid-configuration`, so JWT libraries can verify our tokens.

use aloft_core::{AwsRequest, Response};
use serde_json::json;

use crate::state::Inner;
use crate::wire;

pub async fn issuer_document(inner: &Inner, req: &AwsRequest) -> Option<Response> {
    if req.header("x-amz-target").is_some() {
        return None;
    }
    let path = req.path().trim_start_matches('/');
    let (pool_id, rest) = path.split_once('/')?;
    let doc = rest.strip_prefix(".well-known/")?;
    if !pool_id.contains('_') {
        return None;
    }
    let exists = inner.lock().pools.contains_key(pool_id);
    if !exists {
        return Some(wire::json(
            404,
            &json!({"message": format!("User pool {pool_id} does not exist.")}),
        ));
    }
    let iss = format!("{}/{pool_id}", req.ctx.base_url.trim_end_matches('/'));
    // The OAuth endpoints live on the pool's domain (by path, which resolves everywhere);
    // without one, under the issuer, where they answer 404 as Cognito's would not exist.
    let domain = inner
        .lock()
        .pools
        .get(pool_id)
        .and_then(|p| p.domain.clone());
    let site = match &domain {
        Some(d) => crate::oauth::domain_base(&req.ctx.base_url, d),
        None => iss.clone(),
    };
    match doc {
        "jwks.json" => {
            let key = match inner.key(pool_id).await {
                Ok(k) => k,
                Err(e) => return Some(wire::json(500, &json!({"message": e.message}))),
            };
            Some(wire::json(200, &json!({"keys": [key.jwk()]})))
        }
        "openid-configuration" => Some(wire::json(
            200,
            &json!({
                "issuer": iss,
                "jwks_uri": format!("{iss}/.well-known/jwks.json"),
                "authorization_endpoint": format!("{site}/oauth2/authorize"),
                "token_endpoint": format!("{site}/oauth2/token"),
                "userinfo_endpoint": format!("{site}/oauth2/userInfo"),
                "revocation_endpoint": format!("{site}/oauth2/revoke"),
                "end_session_endpoint": format!("{site}/logout"),
                "response_types_supported": ["code", "token"],
                "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
                "code_challenge_methods_supported": ["S256"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "phone", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }),
        )),
        _ => Some(wire::json(404, &json!({"message": "Not found"}))),
    }
}
