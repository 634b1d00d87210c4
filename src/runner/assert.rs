//! Checking a response against a step's expectations: status, headers,
//! the body (equal or containing), and matchers at JSON pointers. What each
//! matcher means is the matcher's own (`scenario::matcher`).

use super::http::Incoming;
use crate::report::{Check, Failure};
use crate::scenario::Expectation;
use crate::scenario::matcher::{Matcher, holds, same};
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
