//! DynamoDB's expression language: lexer, parser (with AWS's messages), evaluation, updates.

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod names;
pub mod parser;
pub mod update;

pub use parser::{
    ExprContext, ExprKind, parse_condition, parse_condition_expression, parse_projection,
    parse_projection_expression, parse_update, parse_update_expression,
};
