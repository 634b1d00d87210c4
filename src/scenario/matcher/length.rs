//! `length`: the length of a list, text (in characters) or object (in
//! keys) matches the inner predicate (`length: 2`, `length: {gte: 1}`).

use super::{Matcher, Unmet, holds as inner_holds, parse as parse_inner, show};
use serde_json::Value;

pub(super) fn parse(arg: &Value) -> Result<Matcher, (String, String)> {
    Ok(Matcher::Length(Box::new(parse_inner(arg)?)))
}

pub(super) fn holds(inner: &Matcher, actual: &Value) -> Result<(), Unmet> {
    let length = match actual {
        Value::Array(items) => items.len(),
        Value::String(s) => s.chars().count(),
        Value::Object(map) => map.len(),
        _ => {
            return Err(Unmet(format!(
                "expected something with a length, got {}",
                show(actual)
            )));
        }
    };
    inner_holds(inner, Some(&Value::from(length)))
        .map_err(|why| Unmet(format!("length {length}: {why}")))
}

pub(super) fn describe(inner: &Matcher) -> String {
    format!("a length of {}", super::describe(inner))
}
