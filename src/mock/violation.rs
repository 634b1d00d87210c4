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
    /// The offending value (long text cut short), so an error can quote it
    /// as the real service does ("bogus is not one of the choices").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// The JSON type of the offending value: `object`, `array`, `string`,
    /// `integer`, `number`, `boolean` or `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<&'static str>,
    /// For a `type` violation: the type the schema asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// For a body that is not JSON: where parsing stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syntax: Option<super::json_syntax::SyntaxError>,
}

impl Violation {
    /// The message with the place it concerns in front (`body
    /// /description: …`, `query `limit`: …`), for the log line and the
    /// inspector, where an API's own wording may not name the field.
    pub fn reason(&self) -> String {
        match (self.location, self.name.as_deref(), self.pointer.as_str()) {
            ("body", _, "") if self.field.is_empty() => format!("body: {}", self.message),
            ("body", _, "") => format!("body /{}: {}", self.field, self.message),
            ("body", _, pointer) => format!("body {pointer}: {}", self.message),
            (location, Some(name), _) => format!("{location} `{name}`: {}", self.message),
            (location, None, _) => format!("{location}: {}", self.message),
        }
    }

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
            value: None,
            actual: None,
            expected: None,
            syntax: None,
        }
    }

    /// A body field refused by one of the fixture's `checks`.
    pub fn checked(field: String, message: serde_json::Value) -> Self {
        let message = match message {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        let pointer = if field.is_empty() {
            String::new()
        } else {
            format!("/{}", crate::source::reader::escape(&field))
        };
        Self::new("body", None, pointer, field, "check".into(), message)
    }

    /// The same violation quoting the value that broke the rule.
    pub fn with_value(mut self, value: &serde_json::Value) -> Self {
        self.actual = Some(json_type(value));
        self.value = Some(quoted(value));
        self
    }

    /// The details a schema error carries: the value, and for a type error
    /// the type the schema wanted.
    pub fn with_error(mut self, error: &jsonschema::ValidationError<'_>) -> Self {
        if let jsonschema::error::ValidationErrorKind::Type { kind } = error.kind() {
            let wanted = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            };
            self.expected = Some(wanted);
        }
        self.with_value(error.instance())
    }
}

/// The JSON Schema type name of a value.
pub use crate::spec::schema::json_type;

/// Scalars as they are (text cut at `--max-quoted-length`); lists and
/// mappings only when small, else `null`.
fn quoted(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let limit = crate::spec::schema::quote_limit();
    match value {
        Value::String(s) if s.len() > limit => {
            let mut end = limit;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Value::String(format!("{}…", &s[..end]))
        }
        Value::Array(_) | Value::Object(_) if value.to_string().len() > limit => Value::Null,
        other => other.clone(),
    }
}
