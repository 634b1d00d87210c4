//! The mock's answer before it becomes a hyper response.

use super::violation::Violation;
use bytes::Bytes;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Lower-case names; `content-type` included when there is a body.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// What was wrong with the request, for the log line.
    pub violations: Vec<Violation>,
    /// A note for the log (e.g. an example that did not fit its schema).
    pub note: Option<String>,
    /// Whether the same request may get this answer again, without being
    /// run, until the state changes (see `repeat`): set only by the
    /// behaviour stage, for answers that follow from the state alone.
    pub repeatable: bool,
}

impl Reply {
    pub fn json(status: u16, content_type: &str, body: &Value) -> Self {
        // Most answers are a few hundred bytes: one allocation, no regrowth.
        let mut bytes = Vec::with_capacity(1024);
        if serde_json::to_writer(&mut bytes, body).is_err() {
            bytes.clear();
        }
        Self::bytes(status, content_type, Bytes::from(bytes))
    }

    /// An RFC 9457 problem+json answer of the mock's own (not the API's).
    pub fn problem(status: u16, title: &str, detail: &str) -> Self {
        Self::json(
            status,
            "application/problem+json",
            &serde_json::json!({
                "type": "about:blank",
                "title": title,
                "status": status,
                "detail": detail,
            }),
        )
    }

    /// A body in any media type: JSON types get the value serialised; for
    /// others (`text/html`, `text/plain`) a string value is the body as it
    /// is, so a fixture can answer a framework's HTML error page.
    pub fn of(status: u16, content_type: &str, body: &Value) -> Self {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match body {
            Value::String(text) if !crate::spec::operation::is_json_media_type(essence) => {
                Self::bytes(status, content_type, Bytes::from(text.clone()))
            }
            _ => Self::json(status, content_type, body),
        }
    }

    pub fn bytes(status: u16, content_type: &str, body: Bytes) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.to_string())],
            body,
            violations: Vec::new(),
            note: None,
            repeatable: false,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            violations: Vec::new(),
            note: None,
            repeatable: false,
        }
    }
}
