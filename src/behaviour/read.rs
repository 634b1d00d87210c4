//! What every part of the fixture reader shares: its error, with the file
//! and line, and the helpers for the shapes fixtures repeat (a mapping of
//! names to strings, a rule's `status`, a mapping whose keys are known).

use crate::source::{SourceError, SourceLocation};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{at}: {message}")]
    Invalid { at: SourceLocation, message: String },
}

impl FixtureError {
    pub fn location(&self) -> SourceLocation {
        match self {
            FixtureError::Source(e) => e.location(),
            FixtureError::Invalid { at, .. } => at.clone(),
        }
    }
}

/// The fixture reader: the shared structured-file reader, with the rules
/// every part of a fixture shares added here, and each part's own in
/// `fixture` (the top level and error rules), `parse_model`, `access` and
/// `conventions`.
pub(super) type Reader<'a> = crate::source::reader::Reader<'a, FixtureError>;

impl crate::source::reader::Invalid for FixtureError {
    fn invalid(at: SourceLocation, message: String) -> Self {
        FixtureError::Invalid { at, message }
    }
}

impl Reader<'_> {
    /// An optional mapping of names to strings, in file order.
    pub(super) fn string_map(
        &self,
        value: Option<&Value>,
        pointer: &str,
        not_a_mapping: &str,
        not_a_string: &str,
    ) -> Result<Vec<(String, String)>, FixtureError> {
        match value {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(self.invalid(
                        &format!("{pointer}/{}", crate::source::reader::escape(k)),
                        not_a_string,
                    )),
                })
                .collect(),
            Some(_) => Err(self.invalid(pointer, not_a_mapping)),
        }
    }

    /// The optional `status` of a rule at `pointer`.
    pub(super) fn status(&self, item: &Value, pointer: &str) -> Result<Option<u16>, FixtureError> {
        match item.get("status") {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|s| (100..=599).contains(s))
                .map(|s| Some(s as u16))
                .ok_or_else(|| {
                    self.invalid(
                        &format!("{pointer}/status"),
                        "`status` must be an HTTP status code",
                    )
                }),
        }
    }

    pub(super) fn keys_known(
        &self,
        value: &Value,
        pointer: &str,
        known: &[&str],
    ) -> Result<(), FixtureError> {
        let Value::Object(map) = value else {
            return Err(self.invalid(pointer, "expected a mapping"));
        };
        // `x-…` keys at the top hold YAML anchors for reuse, as in docker
        // compose files; they mean nothing by themselves.
        let unknown = if pointer.is_empty() {
            map.keys()
                .map(String::as_str)
                .find(|k| !k.starts_with("x-") && !known.contains(k))
        } else {
            crate::source::unknown_key(map, known)
        };
        match unknown {
            Some(key) => Err(self.invalid(
                &format!("{pointer}/{key}"),
                format!("unknown key `{key}`; expected one of: {}", known.join(", ")),
            )),
            None => Ok(()),
        }
    }
}
