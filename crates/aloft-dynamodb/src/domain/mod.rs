//! The data model: numbers, attribute values, keys and their order.

pub mod item;
pub mod key;
pub mod number;
pub mod rowkey;
pub mod text;
pub mod value;
