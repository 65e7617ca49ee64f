//! Password policy and the stored SRP verifier.

use aloft_core::clock;
use rsa::BigUint;
use serde_json::Value;

use crate::error::{Code, Result};
use crate::model::{Password, Pool};
use crate::srp;

const SYMBOLS: &str = "^$*.[]{}()?-\"!@#%&/\\,><':;|_~`+= ";

/// Checks `password` against the pool's policy, with Cognito's messages.
pub fn check_policy(pool: &Pool, password: &str) -> Result<()> {
    let policy = pool.setting(&["Policies", "PasswordPolicy"]);
    let get_bool = |k: &str| {
        policy
            .and_then(|p| p.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let min = policy
        .and_then(|p| p.get("MinimumLength"))
        .and_then(Value::as_u64)
        .unwrap_or(8) as usize;
    let fail = |why: &str| {
        Err(Code::InvalidPasswordException
            .msg(format!("Password did not conform with policy: {why}")))
    };
    if password.chars().count() < min {
        return fail("Password not long enough");
    }
    if password.chars().count() > 256 {
        return fail("Password must have length less than or equal to 256");
    }
    if password.starts_with(' ') || password.ends_with(' ') {
        return fail("Password must not contain leading or trailing space");
    }
    if get_bool("RequireLowercase") && !password.chars().any(|c| c.is_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if get_bool("RequireUppercase") && !password.chars().any(|c| c.is_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if get_bool("RequireNumbers") && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    if get_bool("RequireSymbols") && !password.chars().any(|c| SYMBOLS.contains(c)) {
        return fail("Password must have symbol characters");
    }
    Ok(())
}

/// The stored form of a password: salt and SRP verifier for `username` in `pool_id`.
pub fn make(
    pool_id: &str,
    username: &str,
    password: &str,
    temporary_days: Option<i64>,
) -> Password {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    salt[0] |= 0x01;
    let salt = BigUint::from_bytes_be(&salt);
    let v = srp::verifier(srp::pool_name(pool_id), username, password, &salt);
    Password {
        salt: salt.to_str_radix(16),
        verifier: v.to_str_radix(16),
        expires: temporary_days.map(|d| clock::now_millis() + d * 86_400_000),
    }
}

pub fn matches(pool_id: &str, username: &str, stored: &Password, password: &str) -> bool {
    let (Some(salt), Some(v)) = (
        BigUint::parse_bytes(stored.salt.as_bytes(), 16),
        BigUint::parse_bytes(stored.verifier.as_bytes(), 16),
    ) else {
        return false;
    };
    srp::verifier(srp::pool_name(pool_id), username, password, &salt) == v
}

/// A temporary password that satisfies any policy (AdminCreateUser without one).
pub fn generate_temporary() -> String {
    format!(
        "{}aA1!{}",
        aloft_core::ids::random_string(6, aloft_core::ids::ALNUM),
        aloft_core::ids::random_string(6, aloft_core::ids::ALNUM)
    )
}
