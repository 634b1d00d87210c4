//! `every`: a list each of whose items matches the inner predicate.

use super::{Matcher, Unmet, holds as inner_holds, parse as parse_inner, show};
use serde_json::Value;

pub(super) fn parse(arg: &Value) -> Result<Matcher, (String, String)> {
    Ok(Matcher::Every(Box::new(parse_inner(arg)?)))
}

pub(super) fn holds(inner: &Matcher, actual: &Value) -> Result<(), Unmet> {
    let Value::Array(items) = actual else {
        return Err(Unmet(format!("expected a list, got {}", show(actual))));
    };
    for (i, item) in items.iter().enumerate() {
        inner_holds(inner, Some(item)).map_err(|why| Unmet(format!("item {i}: {why}")))?;
    }
    Ok(())
}

pub(super) fn describe(inner: &Matcher) -> String {
    format!("a list where every item is {}", super::describe(inner))
}
