//! Why the mock refuses a request, as data: the kind of refusal and what
//! the error rules may show of it. Rendered by [`super::refuse`].

use super::violation::Violation;
use crate::behaviour::ErrorKind;
use serde_json::Value;

/// Why a request was refused before any behaviour ran.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: ErrorKind,
    pub detail: String,
    pub violations: Vec<Violation>,
    /// For 405: the methods the path has.
    pub allowed: Vec<String>,
    /// For 401: what would have satisfied the security requirement.
    pub schemes: Vec<String>,
    /// For 409: the values that clash with an existing item.
    pub fields: Box<serde_json::Map<String, Value>>,
    /// More names for the error rules: `reason` and `credential` for 401,
    /// `collection` for an item not found.
    pub extra: Box<serde_json::Map<String, Value>>,
}

impl Failure {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            violations: Vec::new(),
            allowed: Vec::new(),
            schemes: Vec::new(),
            fields: Box::default(),
            extra: Box::default(),
        }
    }

    pub fn invalid(violations: Vec<Violation>) -> Self {
        let detail = match violations.len() {
            1 => violations[0].message.clone(),
            n => format!("{n} problems with the request"),
        };
        Self {
            violations,
            ..Self::new(ErrorKind::Validation, detail)
        }
    }
}
