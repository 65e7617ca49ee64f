//! DynamoDB's expression grammar (condition, filter and key conditions, update, projection):
//! never a panic. The first byte picks the expression kind.
#![no_main]

use aloft_dynamodb::expr::parser::{
    parse_condition_expression, parse_projection_expression, parse_update_expression,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else {
        return;
    };
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 3 {
        0 => drop(parse_condition_expression(src)),
        1 => drop(parse_update_expression(src)),
        _ => drop(parse_projection_expression(src)),
    }
});
