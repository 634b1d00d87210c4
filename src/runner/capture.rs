//! Taking values out of a response into variables for later steps.

use super::http::Incoming;
use crate::scenario::{Capture, CaptureSource};
use serde_json::Value;

/// The captured value, or why there is none.
pub fn take(capture: &Capture, response: &Incoming) -> Result<Value, String> {
    let value = match &capture.source {
        CaptureSource::Status => Value::from(response.status),
        CaptureSource::Header(name) => match response.header(name) {
            Some(v) => Value::String(v.to_string()),
            None => return Err(format!("the response has no `{name}` header")),
        },
        CaptureSource::Body(pointer) => {
            let Some(body) = &response.json else {
                return Err("the body is not JSON".into());
            };
            match body.pointer(pointer) {
                Some(v) => v.clone(),
                None => {
                    return Err(format!(
                        "the body has nothing at `{}`",
                        if pointer.is_empty() { "/" } else { pointer }
                    ));
                }
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
    let found = regex
        .captures(&text)
        .ok_or_else(|| format!("{text:?} does not match /{}/", regex.as_str()))?;
    let kept = found.get(1).or_else(|| found.get(0)).map(|m| m.as_str());
    Ok(Value::String(kept.unwrap_or_default().to_string()))
}
