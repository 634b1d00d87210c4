//! `absent` and `present`: whether there is a value at all (`absent:
//! true` is also `present: false`).

use super::{Matcher, Unmet, show};
use serde_json::Value;

pub(super) fn parse(key: &str, arg: &Value) -> Result<Matcher, (String, String)> {
    let Value::Bool(flag) = arg else {
        return Err((String::new(), format!("`{key}` takes true or false")));
    };
    Ok(if (key == "absent") == *flag {
        Matcher::Absent
    } else {
        Matcher::Present
    })
}

pub(super) fn holds(matcher: &Matcher, actual: Option<&Value>) -> Result<(), Unmet> {
    match (matcher, actual) {
        (Matcher::Absent, Some(v)) => Err(Unmet(format!("expected no value, got {}", show(v)))),
        (Matcher::Present, None) => Err(Unmet("expected a value, got none".into())),
        _ => Ok(()),
    }
}

pub(super) fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Absent => "no value".into(),
        _ => "a value".into(),
    }
}
