//! Answers for requests the mock refuses, in the API's own error shape.
//!
//! The fixture's rules for the failure's kind are tried in order and the
//! first whose `when` holds renders the body; with no fixture rule the
//! operation's documented error response carries the refusal
//! ([`super::spec_error`]), and only when it documents none is the answer
//! RFC 9457 `application/problem+json` listing every violation. An answer
//! of the fixture's that breaks the spec is itself refused, as a 500 that
//! names the rule.

use super::failure::Failure;
use super::reply::Reply;
use super::spec_error::{Documented, answer};
use super::violation::Violation;
use crate::behaviour::template::{RenderError, jinja_value};
use crate::behaviour::{ErrorKind, Fixture};
use serde_json::{Value, json};

/// Renders `failure` for a request to `method path`; `documented` is the
/// operation it was routed to, when there is one.
pub fn render(
    fixture: &Fixture,
    mut failure: Failure,
    method: &str,
    path: &str,
    documented: Option<&Documented<'_>>,
) -> Reply {
    let operation = documented.map_or("", |d| d.operation.id.as_str());
    if let Err(error) = reword(fixture, &mut failure.violations) {
        return fixture_template_failed(fixture, &error, operation);
    }
    let status = failure.kind.default_status();
    let missing: Vec<&str> = failure
        .violations
        .iter()
        .filter(|v| v.keyword == "required" && v.pointer.is_empty())
        .map(|v| v.field.as_str())
        // A body that is required but absent names no field.
        .filter(|field| !field.is_empty())
        .collect();
    let mut context = json!({
        "status": status,
        "title": failure.kind.title(),
        "detail": failure.detail,
        "violations": failure.violations,
        "missing": missing,
        "method": method,
        "path": path,
        "allowed": failure.allowed,
        "schemes": failure.schemes,
        "fields": failure.fields,
        "vars": fixture.model.vars,
    });
    if let Value::Object(map) = &mut context {
        for (k, v) in failure.extra.iter() {
            map.insert(k.clone(), v.clone());
        }
    }
    let context = jinja_value(context);
    let mut reply = match fixture.errors.get(&failure.kind).and_then(|rules| {
        rules.iter().find(|rule| {
            rule.when
                .as_ref()
                .is_none_or(|w| w.holds(&context).unwrap_or(false))
        })
    }) {
        Some(rule) => {
            let body = match rule.body.render(&context) {
                Ok(body) => body,
                Err(error) => return fixture_template_failed(fixture, &error, operation),
            };
            let status = rule.status.unwrap_or(status);
            if let Some(documented) = documented
                && let Some(errors) = breaks_spec(documented, status, &rule.content_type, &body)
            {
                return fixture_broke_spec(
                    &rule.pointer,
                    status,
                    &errors,
                    &documented.operation.id,
                );
            }
            let mut reply = Reply::of(status, &rule.content_type, &body);
            reply.headers.extend(rule.headers.iter().cloned());
            reply
        }
        None => documented
            .and_then(|d| answer(d, failure.kind, &failure.detail, &failure.violations))
            .unwrap_or_else(|| {
                Reply::json(
                    status,
                    "application/problem+json",
                    &problem(&failure, status),
                )
            }),
    };
    // A fixture that declares `Allow` for every answer words it itself.
    let declares_allow = fixture
        .conventions
        .headers
        .iter()
        .any(|(name, _)| name == "allow");
    if failure.kind == ErrorKind::MethodNotAllowed && !declares_allow {
        reply
            .headers
            .push(("allow".into(), failure.allowed.join(", ")));
    }
    if failure.kind == ErrorKind::Unauthorized
        && !reply
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
    {
        reply
            .headers
            .push(("www-authenticate".into(), "Bearer".into()));
    }
    // The reason goes in the log line too: a refusal with no violations
    // (401, 404, 405, 409) would otherwise show only its status.
    if failure.violations.is_empty() && reply.note.is_none() && !failure.detail.is_empty() {
        reply.note = Some(failure.detail);
    }
    reply.violations = failure.violations;
    reply
}

/// The schema errors of an error rule's `body` against what the operation
/// documents for `status` in `content_type`, or `None` when it fits or the
/// spec documents no schema for it: an error rule's answer keeps the
/// contract as every other answer of the mock does.
fn breaks_spec(
    documented: &Documented<'_>,
    status: u16,
    content_type: &str,
    body: &Value,
) -> Option<Vec<String>> {
    let errors = crate::contract::body_errors(
        documented.api,
        documented.operation,
        status,
        content_type,
        body,
        5,
    );
    (!errors.is_empty()).then_some(errors)
}

fn problem(failure: &Failure, status: u16) -> Value {
    let mut body = json!({
        "type": "about:blank",
        "title": failure.kind.title(),
        "status": status,
        "detail": failure.detail,
    });
    if !failure.violations.is_empty() {
        body["errors"] = Value::Array(
            failure
                .violations
                .iter()
                .map(|v| {
                    let mut e = json!({"in": v.location, "pointer": format!("#{}", v.pointer), "detail": v.message});
                    if let Some(name) = &v.name {
                        e["name"] = json!(name);
                    }
                    e
                })
                .collect(),
        );
    }
    body
}

/// Applies the fixture's `messages`: `field.keyword` first, then `keyword`.
fn reword(fixture: &Fixture, violations: &mut [Violation]) -> Result<(), RenderError> {
    if fixture.messages.is_empty() {
        return Ok(());
    }
    for v in violations.iter_mut() {
        let specific = format!("{}.{}", v.field, v.keyword);
        let Some(template) = fixture
            .messages
            .get(&specific)
            .or_else(|| fixture.messages.get(&v.keyword))
        else {
            continue;
        };
        let context = jinja_value(json!({"v": v}));
        match template.render(&context)? {
            Value::String(s) => v.message = s,
            other => v.message = other.to_string(),
        }
    }
    Ok(())
}

/// The 500 for a fixture template that failed while answering (out of
/// `--template-fuel`, a filter given the wrong type): where it is in the
/// fixture and why, never a body built around the error.
pub(super) fn fixture_template_failed(
    fixture: &Fixture,
    error: &RenderError,
    operation: &str,
) -> Reply {
    let place = match &fixture.source {
        Some(document) => document.locate(&error.at).to_string(),
        None => "the fixture".to_string(),
    };
    let answering = match operation {
        "" => String::new(),
        id => format!(" answering `{id}`"),
    };
    let detail = format!("{place}: {error}{answering}");
    let body = json!({
        "type": "about:blank",
        "title": "A fixture template failed",
        "status": 500,
        "detail": detail,
        "at": error.at,
    });
    let mut reply = Reply::json(500, "application/problem+json", &body);
    reply.note = Some(detail);
    reply
}

/// The 500 for a fixture rule (an operation rule or an error rule) whose
/// answer breaks the spec: the rule and the schema errors, never the body.
pub(super) fn fixture_broke_spec(
    rule: &str,
    status: u16,
    errors: &[String],
    operation: &str,
) -> Reply {
    let body = json!({
        "type": "about:blank",
        "title": "The fixture's answer breaks the spec",
        "status": 500,
        "detail": format!(
            "fixture rule {rule} answered {status} for `{operation}` with a body the spec forbids: {}",
            errors.join("; ")
        ),
        "errors": errors.iter().map(|e| Value::String(e.clone())).collect::<Vec<_>>(),
    });
    let mut reply = Reply::json(500, "application/problem+json", &body);
    reply.note = Some(format!(
        "fixture rule {rule} broke the spec: {}",
        errors.join("; ")
    ));
    reply
}
