//! Checking a response against the spec itself, whatever the scenario
//! expects: the operation is found by method and path, and the response
//! must be one it documents, with a body its schema accepts.
//!
//! A status the spec does not list is a note, not a failure: real specs
//! document less than their services answer (Waldur's 409 on delete), and
//! the runner says so rather than blaming the implementation.

use super::http::Incoming;
use crate::report::{Check, Failure};
use crate::spec::operation::is_json_media_type;
use crate::spec::{Api, Route};

/// What the spec says of one response.
#[derive(Debug, Default)]
pub struct Conformance {
    /// The operation matched, as `operationId`.
    pub operation: Option<String>,
    pub failures: Vec<Failure>,
    pub notes: Vec<String>,
}

/// Schema errors shown per response; more are counted, not listed.
const MAX_SCHEMA_ERRORS: usize = 5;

pub fn check(api: &Api, method: &hyper::Method, path: &str, response: &Incoming) -> Conformance {
    let mut out = Conformance::default();
    let operation = match api.route(method, path) {
        Route::Found { operation, .. } => operation,
        Route::MethodNotAllowed { .. } | Route::NotFound => {
            out.notes.push(format!(
                "{method} {path} is no operation of the spec; the response was not checked against it"
            ));
            return out;
        }
    };
    out.operation = Some(operation.id.clone());
    let status = response.status;
    let Some(documented) = operation.response_for(status) else {
        let listed: Vec<String> = operation
            .responses
            .iter()
            .map(|r| match r.status {
                crate::spec::StatusKey::Code(c) => c.to_string(),
                crate::spec::StatusKey::Range(d) => format!("{d}XX"),
                crate::spec::StatusKey::Default => "default".into(),
            })
            .collect();
        out.notes.push(format!(
            "undocumented status {status} for `{}` (the spec lists {})",
            operation.id,
            listed.join(", ")
        ));
        return out;
    };
    for header in documented.headers.iter().filter(|h| h.required) {
        if !response.headers.contains_key(header.name.as_str()) {
            out.failures.push(Failure::new(
                Check::Schema,
                format!(
                    "the spec requires the header `{}` on {status} of `{}`; the response has none",
                    header.name, operation.id
                ),
            ));
        }
    }
    let no_body = crate::contract::has_no_body(status) || *method == hyper::Method::HEAD;
    if no_body || documented.media.is_empty() {
        return out;
    }
    let content_type = response
        .header("content-type")
        .map(crate::contract::media::essence)
        .unwrap_or_default();
    if response.body.is_empty() {
        out.failures.push(Failure::new(
            Check::Schema,
            format!(
                "the spec documents a body ({}) for {status} of `{}`; the response has none",
                names(&documented.media),
                operation.id
            ),
        ));
        return out;
    }
    let media = crate::contract::media::documented(&documented.media, &content_type);
    let Some(media) = media else {
        out.failures.push(Failure::new(
            Check::Schema,
            format!(
                "content type `{}` is not documented for {status} of `{}` (documented: {})",
                if content_type.is_empty() {
                    "(none)"
                } else {
                    &content_type
                },
                operation.id,
                names(&documented.media)
            ),
        ));
        return out;
    };
    if !is_json_media_type(&content_type) && !media.is_json() {
        return out;
    }
    let Some(body) = &response.json else {
        out.failures.push(Failure::new(
            Check::Schema,
            format!("the {content_type} body of {status} is not valid JSON"),
        ));
        return out;
    };
    let Some(schema) = &media.schema else {
        return out;
    };
    let compiled = match api.compiled(schema) {
        Ok(c) => c,
        Err(e) => {
            out.notes.push(format!(
                "the schema for {status} of `{}` could not be used: {e}",
                operation.id
            ));
            return out;
        }
    };
    let errors = crate::contract::schema_errors(&compiled, body, usize::MAX);
    for error in errors.iter().take(MAX_SCHEMA_ERRORS) {
        out.failures.push(Failure::new(
            Check::Schema,
            format!("{status} of `{}` breaks the spec: {error}", operation.id),
        ));
    }
    if errors.len() > MAX_SCHEMA_ERRORS {
        out.failures.push(Failure::new(
            Check::Schema,
            format!(
                "… and {} more schema errors",
                errors.len() - MAX_SCHEMA_ERRORS
            ),
        ));
    }
    out
}

fn names(media: &[crate::spec::operation::MediaType]) -> String {
    media
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
