//! Cognito's SRP-6a (the `USER_SRP_AUTH` / `PASSWORD_VERIFIER` exchange), server side.
//!
//! Cognito's variant, as Amplify and amazon-cognito-identity-js implement the client:
//! N is the RFC 3526 3072-bit group, g = 2, k = H(pad(N) | pad(g)); every number is hashed in
//! its "padded hex" form (even length, a leading `00` when the top bit is set); the password
//! hash is x = H(pad(salt) | H(poolName | userIdForSrp | ":" | password)) where poolName is the
//! pool id after the `_`; the session key is a one-block HKDF-SHA256 of pad(S) salted with
//! pad(u) and the info "Caldera Derived Key", 16 bytes; the client's claim is
//! HMAC(key, poolName | userIdForSrp | secretBlock | timestamp), base64.

use hmac::{Hmac, Mac};
use rsa::BigUint;
use sha2::{Digest, Sha256};

const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

type HmacSha256 = Hmac<Sha256>;

/// The group constants, computed once.
pub struct Group {
    pub n: BigUint,
    pub g: BigUint,
    pub k: BigUint,
}

pub fn group() -> &'static Group {
    static GROUP: std::sync::OnceLock<Group> = std::sync::OnceLock::new();
    GROUP.get_or_init(|| {
        let n = BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("the RFC 3526 modulus parses");
        let g = BigUint::from(2u32);
        let k = hash_to_int(&[&pad(&n), &pad(&g)]);
        Group { n, g, k }
    })
}

/// The "padded hex" bytes of `n`: big-endian, with a leading zero byte when the top bit is
/// set, so the number reads as positive (Java's `BigInteger.toByteArray`).
pub fn pad(n: &BigUint) -> Vec<u8> {
    let mut bytes = n.to_bytes_be();
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    bytes
}

fn hash_to_int(parts: &[&[u8]]) -> BigUint {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    BigUint::from_bytes_be(&h.finalize())
}

/// The pool's "name" in SRP: the pool id after the region and `_`.
pub fn pool_name(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(pool_id, |(_, n)| n)
}

/// x = H(pad(salt) | H(poolName | userId | ":" | password)).
pub fn private_key(pool_name: &str, user_id: &str, password: &str, salt: &BigUint) -> BigUint {
    let inner = Sha256::digest(format!("{pool_name}{user_id}:{password}").as_bytes());
    hash_to_int(&[&pad(salt), &inner])
}

/// The verifier v = g^x mod N stored instead of the password.
pub fn verifier(pool_name: &str, user_id: &str, password: &str, salt: &BigUint) -> BigUint {
    let grp = group();
    grp.g
        .modpow(&private_key(pool_name, user_id, password, salt), &grp.n)
}

/// B = (k·v + g^b) mod N for a fresh secret b.
pub fn server_public(v: &BigUint, b: &BigUint) -> BigUint {
    let grp = group();
    (&grp.k * v + grp.g.modpow(b, &grp.n)) % &grp.n
}

/// u = H(pad(A) | pad(B)).
pub fn scrambler(a_pub: &BigUint, b_pub: &BigUint) -> BigUint {
    hash_to_int(&[&pad(a_pub), &pad(b_pub)])
}

/// The 16-byte session key from S and u.
pub fn session_key(s: &BigUint, u: &BigUint) -> [u8; 16] {
    let mut mac = HmacSha256::new_from_slice(&pad(u)).expect("HMAC takes any key length");
    mac.update(&pad(s));
    let prk = mac.finalize().into_bytes();
    let mut mac = HmacSha256::new_from_slice(&prk).expect("HMAC takes any key length");
    mac.update(b"Caldera Derived Key\x01");
    let okm = mac.finalize().into_bytes();
    let mut key = [0u8; 16];
    key.copy_from_slice(&okm[..16]);
    key
}

/// The server's S = (A · v^u)^b mod N; `None` when A is a multiple of N (an attack, or garbage).
pub fn server_secret(
    a_pub: &BigUint,
    b_pub: &BigUint,
    b: &BigUint,
    v: &BigUint,
) -> Option<BigUint> {
    let grp = group();
    if (a_pub % &grp.n) == BigUint::from(0u32) {
        return None;
    }
    let u = scrambler(a_pub, b_pub);
    if u == BigUint::from(0u32) {
        return None;
    }
    Some((a_pub * v.modpow(&u, &grp.n) % &grp.n).modpow(b, &grp.n))
}

/// The claim the client must present: HMAC(key, poolName | userId | secretBlock | timestamp).
pub fn claim(
    key: &[u8; 16],
    pool_name: &str,
    user_id: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(pool_name.as_bytes());
    mac.update(user_id.as_bytes());
    mac.update(secret_block);
    mac.update(timestamp.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Checks a client's `PASSWORD_CLAIM_SIGNATURE` in constant time.
#[allow(clippy::too_many_arguments)]
pub fn verify_claim(
    pool_name: &str,
    user_id: &str,
    v: &BigUint,
    b: &BigUint,
    b_pub: &BigUint,
    a_pub: &BigUint,
    secret_block: &[u8],
    timestamp: &str,
    signature: &[u8],
) -> bool {
    let Some(s) = server_secret(a_pub, b_pub, b, v) else {
        return false;
    };
    let key = session_key(&s, &scrambler(a_pub, b_pub));
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(pool_name.as_bytes());
    mac.update(user_id.as_bytes());
    mac.update(secret_block);
    mac.update(timestamp.as_bytes());
    mac.verify_slice(signature).is_ok()
}

/// Checks the `TIMESTAMP` Cognito's clients send: `EEE MMM d HH:mm:ss UTC yyyy` (Amplify leaves
/// the day unpadded; some clients pad it). Returns its epoch seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let parts: Vec<&str> = s.split(' ').filter(|p| !p.is_empty()).collect();
    let [wd, mon, day, hms, "UTC", year] = parts.as_slice() else {
        return None;
    };
    if !DAYS.contains(wd) {
        return None;
    }
    let month = MONTHS.iter().position(|m| m == mon)? as u8 + 1;
    let day: u8 = day.parse().ok()?;
    let year: i32 = year.parse().ok()?;
    let mut it = hms.split(':');
    let (h, m, sec): (u8, u8, u8) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let t = date.with_hms(h, m, sec).ok()?.assume_utc();
    Some(t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client side, as amazon-cognito-identity-js computes it, to check the exchange closes.
    #[allow(clippy::too_many_arguments)]
    fn client_claim(
        pool: &str,
        user: &str,
        password: &str,
        salt: &BigUint,
        a: &BigUint,
        b_pub: &BigUint,
        block: &[u8],
        ts: &str,
    ) -> Vec<u8> {
        let grp = group();
        let a_pub = grp.g.modpow(a, &grp.n);
        let u = scrambler(&a_pub, b_pub);
        let x = private_key(pool, user, password, salt);
        let gx = grp.g.modpow(&x, &grp.n);
        let kgx = (&grp.k * gx) % &grp.n;
        let base = (b_pub + &grp.n - kgx) % &grp.n;
        let s = base.modpow(&(a + &u * &x), &grp.n);
        claim(&session_key(&s, &u), pool, user, block, ts)
    }

    #[test]
    fn pad_adds_a_zero_byte_for_high_bits() {
        assert_eq!(pad(&BigUint::from(0x7fu32)), vec![0x7f]);
        assert_eq!(pad(&BigUint::from(0x80u32)), vec![0, 0x80]);
        assert_eq!(pad(&group().n)[0], 0);
        assert_eq!(pad(&group().n).len(), 385);
    }

    #[test]
    fn the_exchange_closes_and_rejects_wrong_passwords() {
        let salt = BigUint::from_bytes_be(&[0x5a; 16]);
        let v = verifier("AbC123", "alice", "Passw0rd!", &salt);
        let b = BigUint::from_bytes_be(&[0x33; 128]);
        let b_pub = server_public(&v, &b);
        let a = BigUint::from_bytes_be(&[0x44; 128]);
        let a_pub = group().g.modpow(&a, &group().n);
        let ts = "Sat Nov 21 7:05:09 UTC 2026";
        let good = client_claim(
            "AbC123",
            "alice",
            "Passw0rd!",
            &salt,
            &a,
            &b_pub,
            b"blk",
            ts,
        );
        assert!(verify_claim(
            "AbC123", "alice", &v, &b, &b_pub, &a_pub, b"blk", ts, &good
        ));
        let bad = client_claim("AbC123", "alice", "wrong", &salt, &a, &b_pub, b"blk", ts);
        assert!(!verify_claim(
            "AbC123", "alice", &v, &b, &b_pub, &a_pub, b"blk", ts, &bad
        ));
        assert!(!verify_claim(
            "AbC123",
            "alice",
            &v,
            &b,
            &b_pub,
            &group().n.clone(),
            b"blk",
            ts,
            &good
        ));
    }

    #[test]
    fn timestamps_parse_padded_or_not() {
        assert_eq!(
            parse_timestamp("Sat Nov 21 7:05:09 UTC 2026"),
            parse_timestamp("Sat Nov 21 07:05:09 UTC 2026")
        );
        assert_eq!(parse_timestamp("Thu Jan 1 00:00:00 UTC 1970"), Some(0));
        assert!(parse_timestamp("2026-11-21T07:05:09Z").is_none());
    }

    #[test]
    fn pool_name_is_the_part_after_the_region() {
        assert_eq!(pool_name("us-east-1_AbC123"), "AbC123");
    }
}
