//! Taking values out of a response into variables for later steps.

use super::http::Incoming;
use crate::scenario::{Capture, CaptureSource};
use serde_json::Value;

/// Why a capture found no value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaptureError {
    #[error("the response has no `{0}` header")]
    NoHeader(String),
    #[error("the body is not JSON")]
    NotJson,
    #[error("the body has nothing at `{}`", if .0.is_empty() { "/" } else { .0 })]
    NothingAt(String),
    #[error("{text:?} does not match /{regex}/")]
    NoMatch { text: String, regex: String },
}

/// The captured value, or why there is none.
pub fn take(capture: &Capture, response: &Incoming) -> Result<Value, CaptureError> {
    let value = match &capture.source {
        CaptureSource::Status => Value::from(response.status),
        CaptureSource::Header(name) => match response.header(name) {
            Some(v) => Value::String(v.to_string()),
            None => return Err(CaptureError::NoHeader(name.clone())),
        },
        CaptureSource::Body(pointer) => {
            let Some(body) = &response.json else {
                return Err(CaptureError::NotJson);
            };
            match body.pointer(pointer) {
                Some(v) => v.clone(),
                None => return Err(CaptureError::NothingAt(pointer.clone())),
            }
        }
    };
    let Some(regex) = &capture.regex else {
        return Ok(value);
    };
    let text = match &value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let Some(found) = regex.captures(&text) else {
        return Err(CaptureError::NoMatch {
            text,
            regex: regex.as_str().to_string(),
        });
    };
    let kept = found.get(1).or_else(|| found.get(0)).map(|m| m.as_str());
    Ok(Value::String(kept.unwrap_or_default().to_string()))
}
