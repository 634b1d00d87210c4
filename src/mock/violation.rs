//! A request that breaks the contract, described as data.

use serde::Serialize;

/// One thing wrong with a request. All of a request's violations are
/// collected before answering, so a client fixes them in one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// `path`, `query`, `header`, `cookie` or `body`.
    #[serde(rename = "in")]
    pub location: &'static str,
    /// The parameter name, for parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// JSON pointer into the parameter value or the body (`""` is the whole value).
    pub pointer: String,
    /// The top-level body field concerned (the missing one, for `required`),
    /// or the parameter name; `""` when the violation concerns the whole body.
    pub field: String,
    /// The JSON Schema keyword that failed, or `required`/`format`/`content` for
    /// checks made outside the schema.
    pub keyword: String,
    pub message: String,
    /// The same place in JavaScript property notation (`.orderData.spec`,
    /// `.items[1]`), as ajv-based APIs report it; for a missing property,
    /// the property's own path.
    pub path: String,
}

impl Violation {
    pub fn new(
        location: &'static str,
        name: Option<String>,
        pointer: String,
        field: String,
        keyword: String,
        message: String,
    ) -> Self {
        let mut path = String::new();
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            if segment.bytes().all(|b| b.is_ascii_digit()) && !segment.is_empty() {
                path.push_str(&format!("[{segment}]"));
            } else {
                path.push('.');
                path.push_str(&segment);
            }
        }
        if let Some(name) = &name
            && path.is_empty()
        {
            path = name.clone();
        }
        Self {
            location,
            name,
            pointer,
            field,
            keyword,
            message,
            path,
        }
    }
}
