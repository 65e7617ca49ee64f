//! Tests of the expression parser: AWS's messages, precedence, unused names and values.
use super::super::names::reserved;
use super::*;
use serde_json::{Value as Json, json};

fn ctx(names: Json, values: Json) -> ExprContext {
    ExprContext::new(Some(&names), Some(&values)).unwrap()
}

fn cond_err(src: &str) -> String {
    let mut c = ctx(
        json!({"#n": "name"}),
        json!({":v": {"S": "x"}, ":w": {"N": "1"}}),
    );
    parse_condition(src, ExprKind::Condition, &mut c)
        .unwrap_err()
        .message
}

#[test]
fn reserved_word_count_is_awss() {
    assert_eq!(reserved().len(), 573);
    assert!(is_reserved("status") && is_reserved("Name") && !is_reserved("id"));
}

#[test]
fn parses_conditions_with_precedence() {
    let mut c = ctx(
        json!({"#n": "name"}),
        json!({":v": {"S": "x"}, ":w": {"N": "1"}}),
    );
    let cond = parse_condition(
        "a = :v OR NOT #n.b[2] < :w AND attribute_exists(c)",
        ExprKind::Condition,
        &mut c,
    )
    .unwrap();
    let Cond::Or(_, right) = cond else {
        panic!("OR binds loosest: {cond:?}")
    };
    assert!(matches!(*right, Cond::And(_, _)));
    c.check_unused().unwrap();
}

#[test]
fn syntax_errors_name_token_and_neighbours() {
    assert_eq!(
        cond_err("a = :v x"),
        "Invalid ConditionExpression: Syntax error; token: \"x\", near: \":v x\""
    );
    assert_eq!(
        cond_err("a ="),
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\""
    );
    assert_eq!(
        cond_err("a $ :v"),
        "Invalid ConditionExpression: Syntax error; token: \"$\", near: \"a $ :v\""
    );
}

#[test]
fn reserved_and_undefined_are_reported() {
    assert_eq!(
        cond_err("status = :v"),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    assert_eq!(
        cond_err("#x = :v"),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"
    );
    assert_eq!(
        cond_err("a = :zz"),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :zz"
    );
    assert_eq!(
        cond_err("foo(a)"),
        "Invalid ConditionExpression: Invalid function name; function: foo"
    );
    assert_eq!(
        cond_err("begins_with(a)"),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"
    );
}

#[test]
fn unused_names_and_values_are_errors() {
    let mut c = ctx(json!({"#n": "name", "#m": "x"}), json!({":v": {"S": "x"}}));
    parse_condition("#n = :v", ExprKind::Condition, &mut c).unwrap();
    assert_eq!(
        c.check_unused().unwrap_err().message,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#m}"
    );
}

#[test]
fn unused_keys_are_listed_sorted_and_odd_keys_never_match() {
    // Keys without their sigil are legal but can never be used; a key that is a prefix of
    // another must not match it.
    let mut c = ctx(
        json!({"#zz": "a", "#b": "b", "x": "y", "#": "e", "#bb": "c"}),
        json!({":v2": {"S": "x"}, ":v": {"N": "1"}, ":a": {"BOOL": true}}),
    );
    parse_condition("#bb = :v", ExprKind::Condition, &mut c).unwrap();
    assert_eq!(
        c.check_unused().unwrap_err().message,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#, #b, #zz, x}"
    );
    let mut c = ExprContext::default();
    assert!(c.define_value(":b", crate::domain::value::AttrValue::Null));
    assert!(c.define_value(":a", crate::domain::value::AttrValue::Bool(true)));
    assert!(!c.define_value(":a", crate::domain::value::AttrValue::Null));
    assert!(c.define_name("#n", "name"));
    assert!(!c.define_name("#n", "other"));
    parse_condition("#n = :a", ExprKind::Condition, &mut c).unwrap();
    assert_eq!(
        c.check_unused().unwrap_err().message,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"
    );
}

#[test]
fn parses_updates() {
    let mut c = ctx(
        json!({"#c": "count"}),
        json!({":one": {"N": "1"}, ":l": {"L": []}, ":s": {"SS": ["a"]}}),
    );
    let u = parse_update(
        "SET #c = if_not_exists(#c, :one) + :one, l = list_append(l, :l) REMOVE a[1], b ADD s :s DELETE t :s",
        &mut c,
    )
    .unwrap();
    assert_eq!(u.actions.len(), 6);
    c.check_unused().unwrap();
}

#[test]
fn update_errors() {
    let mut c = ExprContext::new(None, Some(&json!({":v": {"S": "x"}}))).unwrap();
    let e = parse_update("SET a = :v SET b = :v", &mut c).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
    );
    let e = parse_update("SET a = :v, a.b = :v", &mut c).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
    let e = parse_update("ADD a :v", &mut c).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"
    );
    let e = parse_update("SET a = VALUE 1", &mut c).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid UpdateExpression: Syntax error; token: \"1\", near: \"VALUE 1\""
    );
    let e = parse_update("", &mut c).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid UpdateExpression: The expression can not be empty;"
    );
}

#[test]
fn projections() {
    let mut c = ExprContext::default();
    let p = parse_projection("a, b.c[3], d", &mut c).unwrap();
    assert_eq!(p[1].to_string(), "[b, c, [3]]");
    let e = parse_projection("a, a.b", &mut c).unwrap_err();
    assert!(e.message.contains("overlap"));
    let e = parse_projection("a,", &mut c).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\""
    );
}

#[test]
fn fuzz_entry_points_never_panic() {
    for s in [
        "",
        "(",
        ")",
        "a[",
        "a[99999999999999999999]",
        "#",
        ":",
        "SET",
        "a.",
        "NOT",
        "size(",
        "a IN ()",
        "ä = :v",
        "SET a = list_append(",
        "a BETWEEN :x",
    ] {
        let _ = parse_condition_expression(s);
        let _ = parse_update_expression(s);
        let _ = parse_projection_expression(s);
    }
}
