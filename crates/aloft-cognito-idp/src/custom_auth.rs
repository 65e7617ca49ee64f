//! CUSTOM_AUTH: the challenge loop driven by the pool's Lambda triggers. DefineAuthChallenge
//! sees the session so far and decides (issue tokens, fail, or another challenge);
//! CreateAuthChallenge makes a CUSTOM_CHALLENGE (public parameters go to the client, private
//! ones stay here); VerifyAuthChallengeResponse judges the client's ANSWER.

use std::collections::BTreeMap;

use aloft_core::RequestContext;
use serde_json::{Value, json};

use crate::access::{check_secret_hash, find_username};
use crate::auth::{
    InitiateAuthInput, RespondInput, Session, check_locked, issue_tokens, missing, new_session,
    pre_authentication, session_ttl, take_session, unknown_user,
};
use crate::challenges::{check_challenge, end_session};
use crate::error::{Code, Result, bad_credentials, invalid};
use crate::state::Inner;
use crate::triggers::{self, Call};

/// The challenge loop's state, carried in the session between calls.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// DefineAuthChallenge's `request.session`: one entry per answered challenge.
    pub history: Vec<Value>,
    pub private: Value,
    pub metadata: Option<String>,
}

struct Calls {
    define: Call,
    create: Option<Call>,
    attrs: Value,
}

fn calls(inner: &Inner, pool_id: &str, client_id: &str, username: &str) -> Result<Calls> {
    inner.read_any(pool_id, |p| {
        let u = p.users.get(username).ok_or_else(bad_credentials)?;
        let define = Call::of(p, "DefineAuthChallenge", Some(client_id)).ok_or_else(|| {
            invalid("Custom auth lambda trigger is not configured for the user pool.")
        })?;
        Ok(Calls {
            define,
            create: Call::of(p, "CreateAuthChallenge", Some(client_id)),
            attrs: triggers::attributes(u),
        })
    })
}

pub async fn initiate(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    input: &InitiateAuthInput,
    params: &BTreeMap<String, String>,
) -> Result<Value> {
    let given = params.get("USERNAME").ok_or_else(|| missing("USERNAME"))?;
    if params.contains_key("SRP_A") {
        return Err(invalid(
            "CUSTOM_AUTH with SRP_A (a password verifier inside the custom flow) is not supported by Aloft",
        ));
    }
    let username = inner.read_any(pool_id, |p| {
        check_secret_hash(
            p,
            &input.client_id,
            params.get("SECRET_HASH").map(String::as_str),
            &[given],
        )?;
        let name = find_username(p, given).ok_or_else(|| unknown_user(p, &input.client_id))?;
        let u = &p.users[&name];
        if !u.enabled {
            return Err(Code::NotAuthorizedException.msg("User is disabled."));
        }
        check_locked(u)?;
        Ok(name)
    })?;
    pre_authentication(
        inner,
        pool_id,
        &input.client_id,
        &username,
        &input.client_metadata,
    )
    .await?;
    let metadata = input.client_metadata.clone().unwrap_or(json!({}));
    step(
        inner,
        ctx,
        pool_id,
        &input.client_id,
        &username,
        Progress::default(),
        &metadata,
    )
    .await
}

/// Asks DefineAuthChallenge what comes next and answers with it.
async fn step(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    client_id: &str,
    username: &str,
    mut progress: Progress,
    metadata: &Value,
) -> Result<Value> {
    let c = calls(inner, pool_id, client_id, username)?;
    let decided = triggers::invoke(
        inner,
        &c.define,
        "DefineAuthChallenge",
        "DefineAuthChallenge_Authentication",
        username,
        json!({"userAttributes": c.attrs, "session": progress.history, "clientMetadata": metadata, "userNotFound": false}),
        json!({"challengeName": null, "issueTokens": false, "failAuthentication": false}),
    )
    .await?;
    let flag = |n: &str| decided.get(n).and_then(Value::as_bool).unwrap_or(false);
    if flag("failAuthentication") {
        return Err(bad_credentials());
    }
    if flag("issueTokens") {
        let result = issue_tokens(
            inner,
            ctx,
            pool_id,
            client_id,
            username,
            None,
            "TokenGeneration_Authentication",
        )
        .await?;
        return Ok(json!({"ChallengeParameters": {}, "AuthenticationResult": result}));
    }
    let challenge = decided
        .get("challengeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if challenge != "CUSTOM_CHALLENGE" {
        return Err(Code::InvalidLambdaResponseException.msg(format!(
            "Invalid lambda response received: DefineAuthChallenge returned challengeName '{challenge}'; Aloft runs CUSTOM_CHALLENGE only"
        )));
    }
    let create = c.create.ok_or_else(|| {
        invalid("CreateAuthChallenge lambda trigger is not configured for the user pool.")
    })?;
    let created = triggers::invoke(
        inner,
        &create,
        "CreateAuthChallenge",
        "CreateAuthChallenge_Authentication",
        username,
        json!({"userAttributes": c.attrs, "challengeName": challenge, "session": progress.history, "clientMetadata": metadata, "userNotFound": false}),
        json!({"publicChallengeParameters": {}, "privateChallengeParameters": {}, "challengeMetadata": null}),
    )
    .await?;
    progress.private = created
        .get("privateChallengeParameters")
        .cloned()
        .unwrap_or(json!({}));
    progress.metadata = created
        .get("challengeMetadata")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut public = serde_json::Map::new();
    for (k, v) in created
        .get("publicChallengeParameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        // Challenge parameters are a map of strings on the wire.
        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
        public.insert(k.clone(), Value::String(text));
    }
    public.insert("USERNAME".into(), Value::String(username.to_string()));
    let expires = inner.read_any(pool_id, |p| Ok(session_ttl(p, client_id)))?;
    let id = new_session(
        inner,
        Session {
            pool_id: pool_id.to_string(),
            client_id: client_id.to_string(),
            username: username.to_string(),
            challenge: "CUSTOM_CHALLENGE".into(),
            expires,
            srp: None,
            sms_code: None,
            setup_secret: None,
            setup_verified: false,
            custom: Some(Box::new(progress)),
        },
    );
    Ok(json!({"ChallengeName": "CUSTOM_CHALLENGE", "Session": id, "ChallengeParameters": public}))
}

pub async fn respond(
    inner: &Inner,
    ctx: &RequestContext,
    pool_id: &str,
    input: &RespondInput,
) -> Result<Value> {
    let s = take_session(inner, input.session.as_deref(), &input.client_id)?;
    check_challenge(&s, "CUSTOM_CHALLENGE")?;
    let r = &input.challenge_responses;
    let answer = r.get("ANSWER").ok_or_else(|| missing("ANSWER"))?;
    inner.read_any(pool_id, |p| {
        check_secret_hash(
            p,
            &input.client_id,
            r.get("SECRET_HASH").map(String::as_str),
            &[&s.username, r.get("USERNAME").map_or("", String::as_str)],
        )
    })?;
    let mut progress = s.custom.clone().map(|b| *b).unwrap_or_default();
    let (verify, attrs) = inner.read_any(pool_id, |p| {
        let u = p.users.get(&s.username).ok_or_else(bad_credentials)?;
        Ok((
            Call::of(p, "VerifyAuthChallengeResponse", Some(&input.client_id)),
            triggers::attributes(u),
        ))
    })?;
    let verify = verify.ok_or_else(|| {
        invalid("VerifyAuthChallengeResponse lambda trigger is not configured for the user pool.")
    })?;
    let metadata = input.client_metadata.clone().unwrap_or(json!({}));
    let verdict = triggers::invoke(
        inner,
        &verify,
        "VerifyAuthChallengeResponse",
        "VerifyAuthChallengeResponse_Authentication",
        &s.username,
        json!({"userAttributes": attrs, "privateChallengeParameters": progress.private, "challengeAnswer": answer, "clientMetadata": metadata, "userNotFound": false}),
        json!({"answerCorrect": false}),
    )
    .await?;
    let correct = verdict
        .get("answerCorrect")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    progress.history.push(json!({
        "challengeName": "CUSTOM_CHALLENGE",
        "challengeResult": correct,
        "challengeMetadata": progress.metadata,
    }));
    end_session(inner, input.session.as_deref());
    step(
        inner,
        ctx,
        pool_id,
        &input.client_id,
        &s.username,
        progress,
        &metadata,
    )
    .await
}
