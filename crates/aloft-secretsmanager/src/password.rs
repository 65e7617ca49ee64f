//! GetRandomPassword with AWS's character classes and its RequireEachIncludedType rule.

use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::SmError;
use crate::{Out, parse};

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const PUNCT: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct Options {
    pub password_length: Option<usize>,
    pub exclude_characters: Option<String>,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub include_space: bool,
    pub require_each_included_type: Option<bool>,
}

pub fn generate(o: &Options) -> Result<String, SmError> {
    let len = o.password_length.unwrap_or(32);
    if !(1..=4096).contains(&len) {
        return Err(SmError::param(
            "Password length must be between 1 and 4096 characters.",
        ));
    }
    let excluded = o.exclude_characters.as_deref().unwrap_or("");
    let mut classes: Vec<Vec<char>> = Vec::new();
    for (on, set) in [
        (!o.exclude_lowercase, LOWER),
        (!o.exclude_uppercase, UPPER),
        (!o.exclude_numbers, DIGITS),
        (!o.exclude_punctuation, PUNCT),
        (o.include_space, " "),
    ] {
        if on {
            let chars: Vec<char> = set.chars().filter(|c| !excluded.contains(*c)).collect();
            if !chars.is_empty() {
                classes.push(chars);
            }
        }
    }
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    if all.is_empty() {
        return Err(SmError::param(
            "The password can't be generated because all character types are excluded.",
        ));
    }
    let require = o.require_each_included_type.unwrap_or(true);
    if require && len < classes.len() {
        return Err(SmError::param(
            "The password length is too short to include a character from each included type.",
        ));
    }
    let mut rng = rand::rng();
    loop {
        let pw: String = (0..len)
            .map(|_| all[rng.random_range(0..all.len())])
            .collect();
        if !require || classes.iter().all(|c| pw.chars().any(|x| c.contains(&x))) {
            return Ok(pw);
        }
    }
}

pub(crate) fn get_random_password(input: Value) -> Out {
    let o: Options = parse(input)?;
    Ok(json!({ "RandomPassword": generate(&o)? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honours_exclusions_and_requires_each_type() {
        for _ in 0..50 {
            let pw = generate(&Options {
                password_length: Some(8),
                exclude_punctuation: true,
                exclude_characters: Some("abc".into()),
                ..Options::default()
            })
            .unwrap();
            assert_eq!(pw.len(), 8);
            assert!(
                pw.chars()
                    .all(|c| c.is_ascii_alphanumeric() && !"abc".contains(c))
            );
            assert!(pw.chars().any(|c| c.is_ascii_digit()));
            assert!(pw.chars().any(|c| c.is_ascii_uppercase()));
            assert!(pw.chars().any(|c| c.is_ascii_lowercase()));
        }
        let all_out = Options {
            exclude_numbers: true,
            exclude_punctuation: true,
            exclude_uppercase: true,
            exclude_lowercase: true,
            ..Options::default()
        };
        assert!(generate(&all_out).is_err());
        assert_eq!(generate(&Options::default()).unwrap().len(), 32);
    }
}
