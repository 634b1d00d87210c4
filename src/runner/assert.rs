//! Checking a response against a step's expectations: status, headers,
//! the body (equal or containing), and matchers at JSON pointers.

use super::http::Incoming;
use crate::report::{Check, Failure};
use crate::scenario::Expectation;
use crate::scenario::matcher::{Comparison, Matcher, ValueType};
use serde_json::Value;

/// Every expectation that does not hold, in the order written.
pub fn check(expect: &Expectation, response: &Incoming) -> Vec<Failure> {
    let mut failures = check_unplaced(expect, response);
    for failure in &mut failures {
        failure.line = expect.lines.get(&failure.check.to_string()).copied();
    }
    failures
}

fn check_unplaced(expect: &Expectation, response: &Incoming) -> Vec<Failure> {
    let mut failures = Vec::new();
    if !expect.status.is_empty() && !expect.status.contains(&response.status) {
        let wanted: Vec<String> = expect.status.iter().map(u16::to_string).collect();
        failures.push(
            Failure::new(
                Check::Status,
                format!("expected {}, got {}", wanted.join(" or "), response.status),
            )
            .with_values(
                Some(Value::from(expect.status[0])),
                Some(Value::from(response.status)),
            ),
        );
    }
    for (name, matcher) in &expect.headers {
        let actual = response.header(name).map(|v| Value::String(v.to_string()));
        if let Err(reason) = holds(matcher, actual.as_ref()) {
            failures.push(
                Failure::new(Check::Header(name.clone()), reason.0)
                    .with_values(expected_value(matcher), actual),
            );
        }
    }
    let body = response.json.clone().or_else(|| {
        (!response.body.is_empty())
            .then(|| Value::String(String::from_utf8_lossy(&response.body).into_owned()))
    });
    if let Some(expected) = &expect.body
        && !body.as_ref().is_some_and(|b| same(expected, b))
    {
        failures.push(
            Failure::new(Check::Body, "the body is not the one expected")
                .with_values(Some(expected.clone()), body.clone()),
        );
    }
    if let Some(expected) = &expect.body_contains
        && let Err(reason) = holds(&Matcher::Contains(expected.clone()), body.as_ref())
    {
        failures.push(
            Failure::new(Check::BodyContains, reason.0)
                .with_values(Some(expected.clone()), body.clone()),
        );
    }
    for (path, pointer, matcher) in &expect.json {
        let actual = response.json.as_ref().and_then(|b| b.pointer(pointer));
        if let Err(reason) = holds(matcher, actual) {
            let reason = if response.json.is_none() && !matches!(matcher, Matcher::Absent) {
                format!("{reason} (the body is not JSON)")
            } else {
                reason.0
            };
            failures.push(
                Failure::new(Check::Json(path.clone()), reason)
                    .with_values(expected_value(matcher), actual.cloned()),
            );
        }
    }
    failures
}

/// What to show as "expected" in a diff: only equality has a value.
fn expected_value(matcher: &Matcher) -> Option<Value> {
    match matcher {
        Matcher::Equals(v) | Matcher::Contains(v) => Some(v.clone()),
        _ => None,
    }
}

/// Why a matcher does not hold, in words for the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unmet(pub String);

/// Whether `matcher` holds for `actual` (`None`: absent); `Err` says why not.
pub fn holds(matcher: &Matcher, actual: Option<&Value>) -> Result<(), Unmet> {
    match matcher {
        Matcher::Absent => match actual {
            None => Ok(()),
            Some(v) => Err(Unmet(format!("expected no value, got {}", show(v)))),
        },
        Matcher::Present => actual
            .map(|_| ())
            .ok_or_else(|| Unmet("expected a value, got none".into())),
        Matcher::All(all) => all.iter().try_for_each(|m| holds(m, actual)),
        Matcher::Not(inner) => match holds(inner, actual) {
            Ok(()) => Err(Unmet(format!(
                "expected not {}, got {}",
                describe(inner),
                actual.map(show).unwrap_or_else(|| "nothing".into())
            ))),
            Err(_) => Ok(()),
        },
        _ => {
            let Some(actual) = actual else {
                return Err(Unmet(format!(
                    "expected {}, got nothing",
                    describe(matcher)
                )));
            };
            holds_present(matcher, actual)
        }
    }
}

fn holds_present(matcher: &Matcher, actual: &Value) -> Result<(), Unmet> {
    let fail = || {
        Err(Unmet(format!(
            "expected {}, got {}",
            describe(matcher),
            show(actual)
        )))
    };
    match matcher {
        Matcher::Equals(expected) => {
            if same(expected, actual) {
                Ok(())
            } else {
                fail()
            }
        }
        Matcher::Contains(expected) => contains(actual, expected),
        Matcher::Regex(re) => {
            let text = match actual {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => actual.to_string(),
                _ => return fail(),
            };
            if re.is_match(&text) { Ok(()) } else { fail() }
        }
        // Filled in before checking (`Matcher::filled`); never reached unfilled.
        Matcher::RegexTemplate(pattern) => Err(Unmet(format!(
            "the regex /{pattern}/ still holds a `${{…}}` that was not filled in"
        ))),
        Matcher::Type(kind) => {
            let is = ValueType::of(actual);
            let ok = is == *kind || (*kind == ValueType::Number && is == ValueType::Integer);
            if ok { Ok(()) } else { fail() }
        }
        Matcher::Format(format) => match actual {
            Value::String(s) if format.holds(s) => Ok(()),
            _ => fail(),
        },
        Matcher::Length(inner) => {
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
            holds(inner, Some(&Value::from(length)))
                .map_err(|why| Unmet(format!("length {length}: {why}")))
        }
        Matcher::OneOf(options) => {
            if options.iter().any(|o| same(o, actual)) {
                Ok(())
            } else {
                fail()
            }
        }
        Matcher::Compare(op, bound) => {
            let Some(n) = actual.as_f64() else {
                return fail();
            };
            let ok = match op {
                Comparison::Gt => n > *bound,
                Comparison::Gte => n >= *bound,
                Comparison::Lt => n < *bound,
                Comparison::Lte => n <= *bound,
            };
            if ok { Ok(()) } else { fail() }
        }
        Matcher::Every(inner) => {
            let Value::Array(items) = actual else {
                return Err(Unmet(format!("expected a list, got {}", show(actual))));
            };
            for (i, item) in items.iter().enumerate() {
                holds(inner, Some(item)).map_err(|why| Unmet(format!("item {i}: {why}")))?;
            }
            Ok(())
        }
        Matcher::Absent | Matcher::Present | Matcher::All(_) | Matcher::Not(_) => {
            holds(matcher, Some(actual))
        }
    }
}

/// JSON equality where `1` and `1.0` are the same number.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Strings: a substring. Objects: each expected key is there and contains
/// its value. Arrays: each expected item is contained by some item.
/// Anything else: equal.
fn contains(actual: &Value, expected: &Value) -> Result<(), Unmet> {
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
            contains(actual, expected)
        }
        _ if same(actual, expected) => Ok(()),
        _ => Err(Unmet(format!(
            "expected {}, got {}",
            show(expected),
            show(actual)
        ))),
    }
}

fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Equals(v) => show(v),
        Matcher::Contains(v) => format!("something containing {}", show(v)),
        Matcher::Regex(re) => format!("text matching /{}/", re.as_str()),
        Matcher::RegexTemplate(pattern) => format!("text matching /{pattern}/"),
        Matcher::Type(t) => format!("a value of type {}", t.name()),
        Matcher::Format(f) => format!("a {} string", f.name()),
        Matcher::Length(inner) => format!("a length of {}", describe(inner)),
        Matcher::Absent => "no value".into(),
        Matcher::Present => "a value".into(),
        Matcher::OneOf(options) => format!(
            "one of {}",
            options.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Matcher::Compare(op, n) => format!("a number {} {n}", op.symbol()),
        Matcher::Every(inner) => format!("a list where every item is {}", describe(inner)),
        Matcher::Not(inner) => format!("not {}", describe(inner)),
        Matcher::All(all) => all.iter().map(describe).collect::<Vec<_>>().join(" and "),
    }
}

/// A value in a message: short, JSON-quoted.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 120 {
        let mut cut = 117;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &text[..cut])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::matcher::parse;
    use rstest::rstest;
    use serde_json::json;

    fn check_one(matcher: Value, actual: Option<Value>) -> Result<(), Unmet> {
        let matcher = parse(&matcher).expect("a matcher");
        holds(&matcher, actual.as_ref())
    }

    #[rstest]
    #[case(json!(3), Some(json!(3.0)), true)]
    #[case(json!("a"), Some(json!("b")), false)]
    #[case(json!({"type": "integer"}), Some(json!(3)), true)]
    #[case(json!({"type": "number"}), Some(json!(3)), true)]
    #[case(json!({"type": "integer"}), Some(json!(3.5)), false)]
    #[case(json!({"format": "uuid"}), Some(json!("0b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e10")), true)]
    #[case(json!({"format": "uuid"}), Some(json!("0b7b8a5e")), false)]
    #[case(json!({"format": "date-time"}), Some(json!("2026-01-02T03:04:05Z")), true)]
    #[case(json!({"format": "date-time"}), Some(json!("yesterday")), false)]
    #[case(json!({"format": "uri"}), Some(json!("http://x/api/")), true)]
    #[case(json!({"regex": "^p-[a-z0-9]{6}$"}), Some(json!("p-abc123")), true)]
    #[case(json!({"regex": "^p-"}), Some(json!("q-1")), false)]
    #[case(json!({"length": 2}), Some(json!([1, 2])), true)]
    #[case(json!({"length": {"gte": 3}}), Some(json!([1, 2])), false)]
    #[case(json!({"absent": true}), None, true)]
    #[case(json!({"absent": true}), Some(json!(null)), false)]
    #[case(json!({"present": true}), None, false)]
    #[case(json!({"one_of": ["a", "b"]}), Some(json!("b")), true)]
    #[case(json!({"gt": 1, "lte": 2}), Some(json!(2)), true)]
    #[case(json!({"gt": 1, "lte": 2}), Some(json!(3)), false)]
    #[case(json!({"every": {"contains": {"a": 1}}}), Some(json!([{"a": 1, "b": 2}, {"a": 1}])), true)]
    #[case(json!({"every": {"contains": {"a": 1}}}), Some(json!([{"a": 1}, {"a": 2}])), false)]
    #[case(json!({"contains": [{"id": "x"}]}), Some(json!([{"id": "y"}, {"id": "x", "n": 1}])), true)]
    #[case(json!({"contains": "ready"}), Some(json!("not ready yet")), true)]
    #[case(json!({"not": {"equals": "x"}}), Some(json!("y")), true)]
    #[case(json!({"not": {"equals": "x"}}), Some(json!("x")), false)]
    fn matchers(#[case] matcher: Value, #[case] actual: Option<Value>, #[case] ok: bool) {
        let result = check_one(matcher.clone(), actual.clone());
        assert_eq!(result.is_ok(), ok, "{matcher} on {actual:?}: {result:?}");
    }

    #[test]
    fn failures_say_what_was_expected_and_what_came() {
        let why = check_one(json!({"type": "string"}), Some(json!(3))).expect_err("fails");
        assert_eq!(why.0, "expected a value of type string, got 3");
        let why = check_one(json!({"length": 1}), Some(json!([1, 2]))).expect_err("fails");
        assert_eq!(why.0, "length 2: expected 1, got 2");
        let why = check_one(
            json!({"contains": {"a": {"b": 1}}}),
            Some(json!({"a": {"b": 2}})),
        )
        .expect_err("fails");
        assert_eq!(why.0, "`a`: `b`: expected 1, got 2");
    }
}
