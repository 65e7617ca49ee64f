//! The state of user pools: pools, app clients, groups and users, as journaled.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::tokens::StoredKey;

/// All pools, by id (ids are unique across accounts and regions).
#[derive(Default)]
pub struct State {
    pub pools: BTreeMap<String, Pool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pool {
    pub id: String,
    pub name: String,
    pub account: String,
    pub region: String,
    /// The `UserPoolType` settings members as given (and defaulted): `Policies`,
    /// `LambdaConfig`, `MfaConfiguration`, `SchemaAttributes`, ...
    pub settings: Map<String, Value>,
    pub created: f64,
    pub modified: f64,
    pub clients: BTreeMap<String, Client>,
    pub groups: BTreeMap<String, Group>,
    pub domain: Option<String>,
    /// Resource servers by identifier: the `ResourceServerType` members.
    #[serde(default)]
    pub resource_servers: BTreeMap<String, Value>,
    pub key: Option<StoredKey>,
    /// HMAC key of this pool's refresh tokens (hex).
    pub refresh_secret: String,
    #[serde(skip)]
    pub users: BTreeMap<String, User>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    /// The `UserPoolClientType` members, as returned by DescribeUserPoolClient.
    pub settings: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
    pub created: f64,
    pub modified: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
pub enum UserStatus {
    UNCONFIRMED,
    CONFIRMED,
    FORCE_CHANGE_PASSWORD,
    RESET_REQUIRED,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UNCONFIRMED => "UNCONFIRMED",
            Self::CONFIRMED => "CONFIRMED",
            Self::FORCE_CHANGE_PASSWORD => "FORCE_CHANGE_PASSWORD",
            Self::RESET_REQUIRED => "RESET_REQUIRED",
        }
    }
}

/// A password kept as Cognito's SRP verifier, so both sign-in flows check the same secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Password {
    pub salt: String,
    pub verifier: String,
    /// Temporary passwords (AdminCreateUser) expire: epoch millis.
    pub expires: Option<i64>,
}

/// A one-time code sent "by mail or SMS" (readable under `/_aloft/cognito-idp/codes`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingCode {
    pub code: String,
    pub expires: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Mfa {
    /// A secret from AssociateSoftwareToken, not yet verified.
    pub pending_secret: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub sms_enabled: bool,
    pub email_enabled: bool,
    pub preferred: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub attributes: BTreeMap<String, String>,
    pub status: UserStatus,
    pub enabled: bool,
    pub created: f64,
    pub modified: f64,
    pub password: Option<Password>,
    pub groups: BTreeSet<String>,
    pub mfa: Mfa,
    /// Codes by purpose: `signup`, `forgot`, `verify:email`, `verify:phone_number`.
    pub codes: BTreeMap<String, PendingCode>,
    pub failed_attempts: u32,
    pub locked_until: i64,
    /// Live token families (`origin_jti` → expiry millis of their refresh token).
    #[serde(default)]
    pub active: BTreeMap<String, i64>,
    /// Families revoked by GlobalSignOut or RevokeToken, kept until they would have expired.
    #[serde(default)]
    pub revoked: BTreeMap<String, i64>,
}

impl User {
    /// Starts a token family (a sign-in); forgets families that have expired.
    pub fn start_family(&mut self, origin_jti: &str, expires_ms: i64, now_ms: i64) {
        self.active.retain(|_, e| *e > now_ms);
        self.revoked.retain(|_, e| *e > now_ms);
        self.active.insert(origin_jti.to_string(), expires_ms);
    }

    /// Revokes one family, or all of them (GlobalSignOut).
    pub fn revoke(&mut self, origin_jti: Option<&str>) {
        match origin_jti {
            Some(j) => {
                let exp = self.active.remove(j).unwrap_or(i64::MAX);
                self.revoked.insert(j.to_string(), exp);
            }
            None => self.revoked.append(&mut self.active),
        }
    }

    pub fn sub(&self) -> &str {
        self.attributes.get("sub").map_or("", String::as_str)
    }

    pub fn attribute_list(&self, only: Option<&[String]>) -> Value {
        Value::Array(
            self.attributes
                .iter()
                .filter(|(k, _)| only.is_none_or(|o| o.iter().any(|n| n == *k)))
                .map(|(k, v)| json!({"Name": k, "Value": v}))
                .collect(),
        )
    }

    /// `MFAOptions`/`UserMFASettingList`/`PreferredMfaSetting` members.
    pub fn mfa_members(&self, out: &mut Map<String, Value>) {
        let mut list = Vec::new();
        if self.mfa.sms_enabled {
            list.push(json!("SMS_MFA"));
        }
        if self.mfa.totp_enabled {
            list.push(json!("SOFTWARE_TOKEN_MFA"));
        }
        if self.mfa.email_enabled {
            list.push(json!("EMAIL_OTP"));
        }
        if !list.is_empty() {
            out.insert("UserMFASettingList".into(), Value::Array(list));
        }
        if let Some(p) = &self.mfa.preferred {
            out.insert("PreferredMfaSetting".into(), p.clone().into());
        }
    }

    /// The `UserType` shape (ListUsers, AdminCreateUser).
    pub fn to_user_type(&self, only: Option<&[String]>) -> Value {
        json!({
            "Username": self.username,
            "Attributes": self.attribute_list(only),
            "UserCreateDate": self.created,
            "UserLastModifiedDate": self.modified,
            "Enabled": self.enabled,
            "UserStatus": self.status.as_str(),
        })
    }
}

impl Pool {
    pub fn arn(&self) -> String {
        aloft_core::arn::build(
            "cognito-idp",
            &self.region,
            &self.account,
            &format!("userpool/{}", self.id),
        )
    }

    pub fn setting(&self, path: &[&str]) -> Option<&Value> {
        let mut v = self.settings.get(path[0])?;
        for p in &path[1..] {
            v = v.get(p)?;
        }
        Some(v)
    }

    pub fn setting_list(&self, name: &str) -> Vec<String> {
        self.settings
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn trigger(&self, name: &str) -> Option<String> {
        self.setting(&["LambdaConfig", name])
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    pub fn mfa_configuration(&self) -> &str {
        self.setting(&["MfaConfiguration"])
            .and_then(Value::as_str)
            .unwrap_or("OFF")
    }

    /// The `UserPoolType` shape.
    pub fn describe(&self) -> Value {
        let mut m = self.settings.clone();
        m.insert("Id".into(), self.id.clone().into());
        m.insert("Name".into(), self.name.clone().into());
        m.insert("Arn".into(), self.arn().into());
        m.insert("CreationDate".into(), self.created.into());
        m.insert("LastModifiedDate".into(), self.modified.into());
        m.insert("EstimatedNumberOfUsers".into(), self.users.len().into());
        if let Some(d) = &self.domain {
            m.insert("Domain".into(), d.clone().into());
        }
        Value::Object(m)
    }
}

impl Client {
    pub fn id(&self) -> &str {
        self.str("ClientId").unwrap_or("")
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.settings.get(name).and_then(Value::as_str)
    }
    pub fn secret(&self) -> Option<&str> {
        self.str("ClientSecret")
    }
    pub fn list(&self, name: &str) -> Vec<String> {
        self.settings
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Whether `flow` (e.g. `USER_PASSWORD_AUTH`) is enabled; the legacy `ADMIN_NO_SRP_AUTH`,
    /// `CUSTOM_AUTH_FLOW_ONLY` and `USER_PASSWORD_AUTH` names map to the `ALLOW_` ones.
    pub fn allows(&self, flow: &str) -> bool {
        let flows = self.list("ExplicitAuthFlows");
        if flows.is_empty() {
            // Cognito's default when none is given: SRP, refresh and custom auth.
            return matches!(flow, "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH" | "CUSTOM_AUTH");
        }
        let allow = format!("ALLOW_{flow}");
        flows.iter().any(|f| {
            f == &allow
                || (flow == "ADMIN_USER_PASSWORD_AUTH" && f == "ADMIN_NO_SRP_AUTH")
                || (flow == "USER_PASSWORD_AUTH" && f == "USER_PASSWORD_AUTH")
                || (flow == "CUSTOM_AUTH" && f == "CUSTOM_AUTH_FLOW_ONLY")
                || (flow == "REFRESH_TOKEN_AUTH")
        })
    }
    /// Token validity in seconds for `which` (`AccessToken`, `IdToken`, `RefreshToken`).
    pub fn validity_secs(&self, which: &str) -> i64 {
        let (default, default_unit) = match which {
            "RefreshToken" => (30, "days"),
            _ => (60, "minutes"),
        };
        let member = format!("{which}Validity");
        let n = self
            .settings
            .get(&member)
            .and_then(Value::as_i64)
            .unwrap_or(default);
        let unit = self
            .settings
            .get("TokenValidityUnits")
            .and_then(|u| u.get(which))
            .and_then(Value::as_str)
            .unwrap_or(default_unit);
        n * match unit {
            "seconds" => 1,
            "minutes" => 60,
            "hours" => 3600,
            _ => 86400,
        }
    }
}
