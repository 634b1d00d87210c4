//! `equals` (also what a bare scalar or list means) and `one_of`: the
//! value is the one given, or one of those given; numbers compare by value
//! (`1` and `1.0` are the same).

use super::{Matcher, same, show};
use serde_json::Value;

pub(super) fn parse(key: &str, arg: &Value) -> Result<Matcher, (String, String)> {
    if key == "equals" {
        return Ok(Matcher::Equals(arg.clone()));
    }
    let Value::Array(items) = arg else {
        return Err((String::new(), "`one_of` takes a list of values".into()));
    };
    Ok(Matcher::OneOf(items.clone()))
}

pub(super) fn holds(matcher: &Matcher, actual: &Value) -> bool {
    match matcher {
        Matcher::Equals(expected) => same(expected, actual),
        Matcher::OneOf(options) => options.iter().any(|o| same(o, actual)),
        _ => false,
    }
}

pub(super) fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Equals(v) => show(v),
        Matcher::OneOf(options) => format!(
            "one of {}",
            options.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        _ => String::new(),
    }
}
