//! The request body: media type (415), syntax and schema.

use super::failure::Failure;

use super::violation::Violation;
use crate::behaviour::ErrorKind;
use crate::spec::operation::is_json_media_type;
use crate::spec::{Api, Operation};
use serde_json::Value;

/// Checks the body; returns it parsed when it is JSON or a form.
/// Schema violations go to `violations`; a media type the operation does
/// not accept is a [`Failure`] of its own (415).
pub fn check(
    api: &Api,
    operation: &Operation,
    content_type: Option<&str>,
    bytes: &[u8],
    max_values: usize,
    violations: &mut Vec<Violation>,
) -> Result<Option<Value>, Failure> {
    let Some(spec) = &operation.request_body else {
        return Ok(None);
    };
    if bytes.is_empty() {
        if spec.required {
            violations.push(body_violation("", "required", "a request body is required"));
        }
        return Ok(None);
    }
    if spec.media.is_empty() {
        return Ok(None);
    }
    let given = content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
    let Some(media) = given
        .as_deref()
        .and_then(|g| crate::contract::media::documented(&spec.media, g))
    else {
        let accepted: Vec<&str> = spec.media.iter().map(|m| m.name.as_str()).collect();
        let mut failure = Failure::new(
            ErrorKind::UnsupportedMediaType,
            match &given {
                Some(g) => format!(
                    "content type `{g}` is not accepted; send one of: {}",
                    accepted.join(", ")
                ),
                None => format!(
                    "the request has a body but no Content-Type; send one of: {}",
                    accepted.join(", ")
                ),
            },
        );
        failure.extra.insert(
            "content_type".into(),
            Value::String(content_type.unwrap_or_default().to_string()),
        );
        return Err(failure);
    };
    let value = if media.is_json() || given.as_deref().is_some_and(is_json_media_type) {
        if super::json_syntax::more_values_than(bytes, max_values) {
            return Err(Failure::new(
                ErrorKind::PayloadTooLarge,
                format!("the body holds more than {max_values} JSON values (--max-body-values)"),
            ));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => v,
            Err(e) => {
                let mut violation =
                    body_violation("", "syntax", &format!("the body is not valid JSON: {e}"));
                violation.syntax = super::json_syntax::first_error(bytes).or_else(|| {
                    // Python reads what serde refuses (NaN): keep serde's place.
                    Some(super::json_syntax::SyntaxError {
                        line: e.line(),
                        column: e.column(),
                        offset: 0,
                        reason: e.to_string(),
                        python: e.to_string(),
                    })
                });
                violations.push(violation);
                return Ok(None);
            }
        }
    } else if media.name == "application/x-www-form-urlencoded" {
        let schema = media.schema.as_ref().map(|s| s.raw());
        super::form::decode(api, schema, &String::from_utf8_lossy(bytes))
    } else {
        return Ok(None);
    };
    let mut value = value;
    if let Some(slot) = &media.schema
        && let Ok(compiled) = api.compiled(slot)
        && !compiled.holds(&mut value)
    {
        for error in compiled.errors(&value) {
            let pointer = error.pointer.clone();
            let keyword = error.error.kind().keyword().to_string();
            let missing = match error.error.kind() {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    property.as_str().map(str::to_string)
                }
                _ => None,
            };
            let field = match &missing {
                Some(property) if pointer.is_empty() => property.clone(),
                _ => first_segment(&pointer),
            };
            let mut violation =
                Violation::new("body", None, pointer, field, keyword, error.to_string())
                    .with_error(&error.error);
            if let Some(property) = missing {
                violation.path.push('.');
                violation.path.push_str(&property);
            }
            violations.push(violation);
        }
    }
    Ok(Some(value))
}

fn body_violation(pointer: &str, keyword: &str, message: &str) -> Violation {
    Violation::new(
        "body",
        None,
        pointer.to_string(),
        first_segment(pointer),
        keyword.to_string(),
        message.to_string(),
    )
}

fn first_segment(pointer: &str) -> String {
    pointer
        .split('/')
        .nth(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .unwrap_or_default()
}
