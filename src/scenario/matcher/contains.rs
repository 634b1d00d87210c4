//! `contains`: text that contains the given text, an object whose given
//! keys contain their values, a list in which each given item is contained
//! by some item.

use super::{Matcher, Unmet, same, show};
use serde_json::Value;

pub(super) fn parse(arg: &Value) -> Matcher {
    Matcher::Contains(arg.clone())
}

/// Strings: a substring. Objects: each expected key is there and contains
/// its value. Arrays: each expected item is contained by some item.
/// Anything else: equal.
pub(super) fn holds(actual: &Value, expected: &Value) -> Result<(), Unmet> {
    match (actual, expected) {
        (Value::String(a), Value::String(e)) => {
            if a.contains(e.as_str()) {
                Ok(())
            } else {
                Err(Unmet(format!(
                    "expected text containing {}, got {}",
                    show(expected),
                    show(actual)
                )))
            }
        }
        (Value::Object(a), Value::Object(e)) => {
            for (key, value) in e {
                let Some(found) = a.get(key) else {
                    return Err(Unmet(format!("`{key}` is missing")));
                };
                contains_nested(found, value).map_err(|why| Unmet(format!("`{key}`: {why}")))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            for (i, wanted) in e.iter().enumerate() {
                if !a.iter().any(|item| contains_nested(item, wanted).is_ok()) {
                    return Err(Unmet(format!(
                        "no item matches expected item {i}: {}",
                        show(wanted)
                    )));
                }
            }
            Ok(())
        }
        _ => contains_nested(actual, expected),
    }
}

/// Inside a containment, strings compare whole.
fn contains_nested(actual: &Value, expected: &Value) -> Result<(), Unmet> {
    match (actual, expected) {
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_)) => {
            holds(actual, expected)
        }
        _ if same(actual, expected) => Ok(()),
        _ => Err(Unmet(format!(
            "expected {}, got {}",
            show(expected),
            show(actual)
        ))),
    }
}

pub(super) fn describe(expected: &Value) -> String {
    format!("something containing {}", show(expected))
}
