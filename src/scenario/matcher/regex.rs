//! `regex`: text (or a number or boolean, as text) that the expression
//! matches somewhere. A pattern with `${…}` is compiled once it is filled.

use super::Matcher;
use serde_json::Value;

pub(super) fn parse(arg: &Value) -> Result<Matcher, (String, String)> {
    let Value::String(pattern) = arg else {
        return Err((String::new(), "`regex` takes a string".into()));
    };
    if pattern.contains("${") {
        return Ok(Matcher::RegexTemplate(pattern.clone()));
    }
    ::regex::Regex::new(pattern)
        .map(Matcher::Regex)
        .map_err(|e| (String::new(), format!("the regex does not compile: {e}")))
}

/// Whether the expression matches the value's text. A pattern still
/// holding a `${…}` (never reached: expectations are filled in before they
/// are checked) matches nothing.
pub(super) fn holds(matcher: &Matcher, actual: &Value) -> bool {
    let Matcher::Regex(regex) = matcher else {
        return false;
    };
    match actual {
        Value::String(s) => regex.is_match(s),
        Value::Number(_) | Value::Bool(_) => regex.is_match(&actual.to_string()),
        _ => false,
    }
}

pub(super) fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Regex(regex) => format!("text matching /{}/", regex.as_str()),
        Matcher::RegexTemplate(pattern) => format!("text matching /{pattern}/"),
        _ => String::new(),
    }
}
