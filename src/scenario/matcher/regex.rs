//! `regex`: text (or a number or boolean, as text) that the expression
//! matches somewhere. A pattern with `${…}` is compiled once it is filled.

use super::{Matcher, Unmet, show};
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

pub(super) fn holds(matcher: &Matcher, actual: &Value) -> Result<(), Unmet> {
    let regex = match matcher {
        Matcher::Regex(regex) => regex,
        // Filled in before checking (`Matcher::filled`); never reached unfilled.
        _ => {
            return Err(Unmet(format!(
                "{} still holds a `${{…}}` that was not filled in",
                describe(matcher)
            )));
        }
    };
    let text = match actual {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) => actual.to_string(),
        _ => String::new(),
    };
    if matches!(actual, Value::String(_) | Value::Number(_) | Value::Bool(_))
        && regex.is_match(&text)
    {
        Ok(())
    } else {
        Err(Unmet(format!(
            "expected {}, got {}",
            describe(matcher),
            show(actual)
        )))
    }
}

pub(super) fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Regex(regex) => format!("text matching /{}/", regex.as_str()),
        Matcher::RegexTemplate(pattern) => format!("text matching /{pattern}/"),
        _ => String::new(),
    }
}
