//! Refusals in the spec's own error shape.
//!
//! A client generated from a spec parses the errors that spec documents:
//! mittwald's `{"message", "type", "validationErrors": [...]}`, Stripe's
//! `{"error": {"message", "param", "type"}}`, Hetzner's `{"error": {"code",
//! "message"}}`. So, when no fixture rule words an error, the mock answers
//! with the operation's documented response for the refusal: the exact
//! status, then the other validation status (400 or 422), then `4XX`, then
//! `default`. Its body starts from one that fits the schema (the spec's
//! example or a generated one) and then carries the refusal: message-like
//! strings get the detail, arrays of errors get one entry per violation.
//! Every change is kept only if the body still fits the schema, so the
//! answer is always within the contract. RFC 9457 problem+json is left for
//! operations that document nothing that fits.

use super::reply::Reply;
use super::respond::{self, BodyCache};
use super::violation::Violation;
use crate::behaviour::ErrorKind;
use crate::spec::operation::{ResponseSpec, StatusKey};
use crate::spec::{Api, Operation};
use serde_json::{Map, Value, json};

/// What a refusal needs to be answered in the spec's shape.
#[derive(Clone, Copy)]
pub struct Documented<'a> {
    pub api: &'a Api,
    pub operation: &'a Operation,
    pub cache: &'a BodyCache,
    pub seed: u64,
}

/// The documented answer for a refusal of `kind`, or `None` when the
/// operation documents nothing that fits.
pub fn answer(
    documented: &Documented<'_>,
    kind: ErrorKind,
    detail: &str,
    violations: &[Violation],
) -> Option<Reply> {
    let (status, spec) = documented_response(documented.operation, kind)?;
    // One line that names every problem: many error shapes have room for
    // a single message only.
    let joined;
    let detail = if violations.len() > 1 {
        joined = violations
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        joined.as_str()
    } else {
        detail
    };
    let mut reply = match spec.media.is_empty() {
        true => Reply::empty(status),
        false => documented_body(documented, kind, status, spec, detail, violations)?,
    };
    respond::add_headers(
        documented.api,
        spec,
        &mut reply,
        &documented.cache.patterns,
        documented.seed,
    );
    Some(reply)
}

/// The documented body for the refusal, in the media type the operation
/// documents for it.
fn documented_body(
    documented: &Documented<'_>,
    kind: ErrorKind,
    status: u16,
    spec: &crate::spec::operation::ResponseSpec,
    detail: &str,
    violations: &[Violation],
) -> Option<Reply> {
    let media = crate::contract::media::negotiate(&spec.media, None)?;
    let content_type = if media.name.contains('*') {
        "application/json"
    } else {
        media.name.as_str()
    };
    let reply = if !crate::spec::operation::is_json_media_type(content_type) && !media.is_json() {
        Reply::bytes(status, content_type, detail.to_string().into())
    } else {
        let compiled = media
            .schema
            .as_ref()
            .and_then(|slot| documented.api.compiled(slot).ok());
        let fits = |value: &Value| compiled.as_ref().is_none_or(|c| c.is_valid(value));
        let base = respond::body_for(
            documented.api,
            documented.operation,
            status,
            media,
            documented.cache,
            documented.seed,
            |mut value| {
                if fits(&value) {
                    prune(&mut value, &fits);
                }
                value
            },
        );
        let body = match (base, &compiled) {
            (Some(mut body), Some(_)) => {
                name_the_kind(&mut body, kind, &fits);
                state_the_status(&mut body, status, &fits);
                carry(&mut body, detail, violations, &fits);
                body
            }
            // No schema: any JSON fits; say what was wrong plainly.
            _ => plain(detail, violations),
        };
        Reply::json(status, content_type, &body)
    };
    Some(reply)
}

/// The response to answer a refusal with, and the status to send.
fn documented_response(operation: &Operation, kind: ErrorKind) -> Option<(u16, &ResponseSpec)> {
    let status = kind.default_status();
    let exact = |code: u16| {
        operation
            .response_keyed(StatusKey::Code(code))
            .map(|r| (code, r))
    };
    let alternative = match kind {
        ErrorKind::Validation => exact(422),
        ErrorKind::UnsupportedMediaType => exact(400).or_else(|| exact(422)),
        _ => None,
    };
    exact(status).or(alternative).or_else(|| {
        operation
            .response_keyed(StatusKey::Range(status / 100))
            .or_else(|| operation.response_keyed(StatusKey::Default))
            .map(|r| (status, r))
    })
}

/// Leaves out what the schema does not ask for, keeping the places that
/// carry the refusal: an error answer is the message, not a generated
/// account of everything the schema allows (Stripe's error object embeds
/// whole payment intents).
fn prune(value: &mut Value, fits: &dyn Fn(&Value) -> bool) {
    // Every property that does not carry the refusal itself.
    let mut pointers = Vec::new();
    each_property(value, usize::MAX, &mut |pointer, lower, child| {
        if !is_carrier(lower, child) {
            pointers.push(pointer.to_string());
        }
    });
    // Shallowest first: a whole optional object goes in one try, and only
    // when it must stay are its own properties tried.
    pointers.sort_by_key(|p| p.matches('/').count());
    for pointer in pointers {
        let Some((parent, key)) = pointer.rsplit_once('/') else {
            continue;
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        let Some(Value::Object(map)) = value.pointer_mut(parent) else {
            continue;
        };
        let Some(removed) = map.shift_remove(&key) else {
            continue;
        };
        if !(fits(value) && holds_carrier(value, 0))
            && let Some(Value::Object(map)) = value.pointer_mut(parent)
        {
            map.insert(key, removed);
        }
    }
}

fn is_carrier(lower_key: &str, value: &Value) -> bool {
    (value.is_string() && MESSAGE_KEYS.contains(&lower_key))
        || (value.is_array() && LIST_KEYS.contains(&lower_key))
}

fn holds_carrier(value: &Value, depth: usize) -> bool {
    let Value::Object(map) = value else {
        return false;
    };
    depth < MAX_DEPTH
        && map.iter().any(|(key, child)| {
            is_carrier(&key.to_ascii_lowercase(), child) || holds_carrier(child, depth + 1)
        })
}

/// A body for an error response that documents no schema.
fn plain(detail: &str, violations: &[Violation]) -> Value {
    let mut body = json!({"message": detail});
    if !violations.is_empty() {
        body["errors"] = violations.iter().map(entry).collect();
    }
    body
}

fn entry(v: &Violation) -> Value {
    json!({"message": v.message, "in": v.location, "path": v.path})
}

/// Property names that hold an error's text.
const MESSAGE_KEYS: &[&str] = &[
    "message",
    "detail",
    "error_description",
    "errormessage",
    "error_message",
    "description",
    "msg",
    "reason",
    "title",
    "error",
];

/// Property names that hold a list of errors.
const LIST_KEYS: &[&str] = &[
    "errors",
    "validationerrors",
    "validation_errors",
    "violations",
    "details",
    "non_field_errors",
    "invalid_params",
    "issues",
    "problems",
];

/// Property names in an error entry that say where the problem is.
const FIELD_KEYS: &[&str] = &[
    "path", "field", "param", "pointer", "name", "property", "loc", "location",
];

/// Property names that hold an error's kind as a word.
const CODE_KEYS: &[&str] = &[
    "code",
    "type",
    "error_code",
    "errorcode",
    "error_type",
    "kind",
];

/// Words real APIs use for each kind of refusal (Hetzner's `invalid_input`,
/// Stripe's `invalid_request_error`, gRPC-style `INVALID_ARGUMENT`), tried
/// in order where the error has a code; the first the schema takes wins.
fn code_words(kind: ErrorKind) -> &'static [&'static str] {
    match kind {
        ErrorKind::Validation => &[
            "invalid_input",
            "invalid_request_error",
            "validation_error",
            "ValidationError",
            "invalid_request",
            "bad_request",
            "invalid_argument",
            "INVALID_ARGUMENT",
            "invalid",
        ],
        ErrorKind::Unauthorized => &[
            "unauthorized",
            "authentication_error",
            "unauthenticated",
            "Unauthorized",
            "UNAUTHENTICATED",
            "invalid_token",
        ],
        ErrorKind::NotFound => &["not_found", "resource_missing", "NotFound", "NOT_FOUND"],
        ErrorKind::Conflict => &[
            "conflict",
            "uniqueness_error",
            "already_exists",
            "Conflict",
            "ALREADY_EXISTS",
        ],
        ErrorKind::InsufficientStorage => &[
            "insufficient_storage",
            "resource_limit_exceeded",
            "limit_exceeded",
            "RESOURCE_EXHAUSTED",
        ],
        ErrorKind::MethodNotAllowed => &["method_not_allowed", "MethodNotAllowed"],
        ErrorKind::NotAcceptable => &["not_acceptable", "NotAcceptable"],
        ErrorKind::PayloadTooLarge => &["payload_too_large", "request_too_large"],
        ErrorKind::UnsupportedMediaType => &[
            "unsupported_media_type",
            "invalid_input",
            "invalid_request_error",
        ],
    }
}

/// Property names that hold the answer's HTTP status as a number
/// (RFC 9457's `status`, Google's `code`).
const STATUS_KEYS: &[&str] = &["status", "status_code", "statuscode", "http_status", "code"];

/// Sets each number named like a status to the answer's status, where the
/// schema takes it: `{"title": …, "status": 404}`, not the example's 49.
fn state_the_status(body: &mut Value, status: u16, fits: &dyn Fn(&Value) -> bool) {
    let mut places = Vec::new();
    each_property(body, MAX_DEPTH, &mut |pointer, lower, child| {
        if child.is_number() && STATUS_KEYS.contains(&lower) {
            places.push(pointer.to_string());
        }
    });
    for pointer in places {
        let Some(current) = body.pointer(&pointer).cloned() else {
            continue;
        };
        if let Some(slot) = body.pointer_mut(&pointer) {
            *slot = Value::from(status);
        }
        if !fits(body)
            && let Some(slot) = body.pointer_mut(&pointer)
        {
            *slot = current;
        }
    }
}

/// Sets each error code to the first word for `kind` the schema accepts.
fn name_the_kind(body: &mut Value, kind: ErrorKind, fits: &dyn Fn(&Value) -> bool) {
    let mut places = Vec::new();
    each_property(body, MAX_DEPTH, &mut |pointer, lower, child| {
        if child.is_string() && CODE_KEYS.contains(&lower) {
            places.push(pointer.to_string());
        }
    });
    for pointer in places {
        let Some(current) = body.pointer(&pointer).cloned() else {
            continue;
        };
        for word in code_words(kind) {
            if let Some(slot) = body.pointer_mut(&pointer) {
                *slot = Value::String((*word).to_string());
            }
            if fits(body) {
                break;
            }
            if let Some(slot) = body.pointer_mut(&pointer) {
                *slot = current.clone();
            }
        }
    }
}

/// Writes the refusal into `body` wherever the schema lets it: each change
/// is tried and kept only if the body still fits.
fn carry(body: &mut Value, detail: &str, violations: &[Violation], fits: &dyn Fn(&Value) -> bool) {
    let mut places = Vec::new();
    each_property(body, MAX_DEPTH, &mut |pointer, lower, child| {
        let kind = match child {
            Value::String(_) if MESSAGE_KEYS.contains(&lower) => PlaceKind::Message,
            Value::Array(_) if LIST_KEYS.contains(&lower) => PlaceKind::List,
            _ => return,
        };
        places.push(Place {
            pointer: pointer.to_string(),
            kind,
        });
    });
    for place in places {
        let Some(current) = body.pointer(&place.pointer).cloned() else {
            continue;
        };
        let replacement = match place.kind {
            PlaceKind::Message => Value::String(detail.to_string()),
            PlaceKind::List if violations.is_empty() => continue,
            PlaceKind::List => match list_of(&current, violations) {
                Some(list) => list,
                None => continue,
            },
        };
        if let Some(slot) = body.pointer_mut(&place.pointer) {
            *slot = replacement;
        }
        if !fits(body) {
            // Try the list as messages alone before giving up.
            let fallback = match place.kind {
                PlaceKind::List => Some(Value::Array(
                    violations
                        .iter()
                        .map(|v| Value::String(v.message.clone()))
                        .collect(),
                )),
                PlaceKind::Message => None,
            };
            let restored = match fallback {
                Some(alt) => {
                    if let Some(slot) = body.pointer_mut(&place.pointer) {
                        *slot = alt;
                    }
                    fits(body)
                }
                None => false,
            };
            if !restored && let Some(slot) = body.pointer_mut(&place.pointer) {
                *slot = current;
            }
        }
    }
}

enum PlaceKind {
    Message,
    List,
}

struct Place {
    pointer: String,
    kind: PlaceKind,
}

/// Deep enough for `{"error": {"details": {...}}}`, not a whole tree.
const MAX_DEPTH: usize = 3;

/// Calls `visit` with each property's JSON pointer, lower-case name and
/// value, depth first, through objects at most `max_depth` levels down.
fn each_property(value: &Value, max_depth: usize, visit: &mut dyn FnMut(&str, &str, &Value)) {
    fn walk(
        value: &Value,
        pointer: &mut String,
        depth: usize,
        max_depth: usize,
        visit: &mut dyn FnMut(&str, &str, &Value),
    ) {
        let Value::Object(map) = value else { return };
        for (key, child) in map {
            let len = pointer.len();
            pointer.push('/');
            pointer.push_str(&crate::source::reader::escape(key));
            visit(pointer, &key.to_ascii_lowercase(), child);
            if child.is_object() && depth < max_depth {
                walk(child, pointer, depth + 1, max_depth, visit);
            }
            pointer.truncate(len);
        }
    }
    walk(value, &mut String::new(), 0, max_depth, visit);
}

/// One entry per violation, shaped like the list's first entry (or as
/// plain messages when the list holds text or nothing yet).
fn list_of(current: &Value, violations: &[Violation]) -> Option<Value> {
    let template = current.as_array()?.first();
    let items = violations
        .iter()
        .map(|v| match template {
            Some(Value::Object(shape)) => {
                let mut item: Map<String, Value> = shape.clone();
                for (key, slot) in item.iter_mut() {
                    let lower = key.to_ascii_lowercase();
                    if !slot.is_string() {
                        continue;
                    }
                    if MESSAGE_KEYS.contains(&lower.as_str()) {
                        *slot = Value::String(v.message.clone());
                    } else if FIELD_KEYS.contains(&lower.as_str()) {
                        *slot = Value::String(where_of(v));
                    }
                }
                Value::Object(item)
            }
            Some(Value::String(_)) | None => Value::String(v.message.clone()),
            Some(_) => entry(v),
        })
        .collect();
    Some(Value::Array(items))
}

/// Where a violation is, as an error list names it: the parameter name, or
/// the body field's path without its leading dot.
fn where_of(v: &Violation) -> String {
    let path = v.path.trim_start_matches('.');
    if path.is_empty() {
        v.name.clone().unwrap_or_default()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(field: &str, message: &str) -> Violation {
        Violation::new(
            "body",
            None,
            format!("/{field}"),
            field.into(),
            "required".into(),
            message.into(),
        )
    }

    #[test]
    fn messages_and_lists_are_filled_where_the_schema_allows() {
        let mut body = json!({
            "message": "alpha",
            "type": "ValidationError",
            "validationErrors": [{"message": "x", "path": "y", "type": "z"}],
            "error": {"message": "nested", "code": 3}
        });
        let fits = |v: &Value| v["type"] == "ValidationError";
        let violations = [
            violation("name", "name is required"),
            violation("size", "size is too big"),
        ];
        carry(&mut body, "2 problems", &violations, &fits);
        assert_eq!(body["message"], "2 problems");
        assert_eq!(body["type"], "ValidationError");
        assert_eq!(body["error"]["message"], "2 problems");
        assert_eq!(
            body["validationErrors"],
            json!([
                {"message": "name is required", "path": "name", "type": "z"},
                {"message": "size is too big", "path": "size", "type": "z"}
            ])
        );
    }

    #[test]
    fn a_change_the_schema_refuses_is_undone() {
        let mut body = json!({"message": "ok", "errors": []});
        // A schema that pins the message and forbids any error entries.
        let fits = |v: &Value| v["message"] == "ok" && v["errors"] == json!([]);
        carry(&mut body, "refused", &[violation("a", "a is wrong")], &fits);
        assert_eq!(body, json!({"message": "ok", "errors": []}));
    }
}
