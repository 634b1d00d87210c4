//! The one reader of structured files: fixtures, scenarios and overlays
//! are each read from a parsed [`SourceDocument`] by walking its values
//! with JSON pointers, and every problem is named with the line the
//! pointer leads to. What the loaders share lives here: the problem at a
//! pointer, a mapping whose keys must be known, and the entries of an
//! optional mapping each with its own pointer. Each loader brings only its
//! error type (through [`Invalid`]) and what its format means.

use super::{SourceDocument, SourceLocation};
use serde_json::{Map, Value};
use std::marker::PhantomData;

/// An error type a loader reports a misplaced or malformed value with.
pub trait Invalid {
    fn invalid(at: SourceLocation, message: String) -> Self;
}

/// A document being read into a loader's model; `E` is its error.
pub struct Reader<'a, E> {
    pub document: &'a SourceDocument,
    error: PhantomData<fn() -> E>,
}

/// One entry of a mapping: its key, its value and the pointer to the value.
pub struct Entry<'v> {
    pub key: &'v str,
    pub value: &'v Value,
    pub pointer: String,
}

impl<'a, E: Invalid> Reader<'a, E> {
    pub fn new(document: &'a SourceDocument) -> Self {
        Self {
            document,
            error: PhantomData,
        }
    }

    /// The problem `message` at the value `pointer` leads to.
    pub fn invalid(&self, pointer: &str, message: impl Into<String>) -> E {
        E::invalid(self.document.locate(pointer), message.into())
    }

    /// `value` as a mapping whose keys are all `known`; `what` names it in
    /// the complaint ("a step", "`until`").
    pub fn mapping<'v>(
        &self,
        value: &'v Value,
        pointer: &str,
        known: &[&str],
        what: &str,
    ) -> Result<&'v Map<String, Value>, E> {
        let Value::Object(map) = value else {
            return Err(self.invalid(pointer, format!("{what} must be a mapping")));
        };
        if let Some(key) = super::unknown_key(map, known) {
            return Err(self.invalid(
                &child(pointer, key),
                format!(
                    "unknown key `{key}` in {what}; expected one of: {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(map)
    }

    /// The entries of the optional mapping `value` at `pointer`, in file
    /// order; `not_a_mapping` is the complaint when it is something else.
    pub fn entries<'v>(
        &self,
        value: Option<&'v Value>,
        pointer: &str,
        not_a_mapping: &str,
    ) -> Result<Vec<Entry<'v>>, E> {
        match value {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => Ok(map
                .iter()
                .map(|(key, value)| Entry {
                    key,
                    value,
                    pointer: child(pointer, key),
                })
                .collect()),
            Some(_) => Err(self.invalid(pointer, not_a_mapping)),
        }
    }

    /// Each entry of the optional mapping at `pointer` read by `read`.
    pub fn read_entries<'v, T>(
        &self,
        value: Option<&'v Value>,
        pointer: &str,
        not_a_mapping: &str,
        mut read: impl FnMut(Entry<'v>) -> Result<T, E>,
    ) -> Result<Vec<T>, E> {
        self.entries(value, pointer, not_a_mapping)?
            .into_iter()
            .map(&mut read)
            .collect()
    }

    /// Each item of the optional list at `pointer` read by `read`, which is
    /// given the item and its pointer; `not_a_list` is the complaint when
    /// it is something else.
    pub fn read_items<'v, T>(
        &self,
        value: Option<&'v Value>,
        pointer: &str,
        not_a_list: &str,
        mut read: impl FnMut(&'v Value, String) -> Result<T, E>,
    ) -> Result<Vec<T>, E> {
        match value {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| read(item, format!("{pointer}/{i}")))
                .collect(),
            Some(_) => Err(self.invalid(pointer, not_a_list)),
        }
    }

    /// The optional text at `pointer`; `not_text` is the complaint when it
    /// is something else.
    pub fn text(
        &self,
        value: Option<&Value>,
        pointer: &str,
        not_text: &str,
    ) -> Result<Option<String>, E> {
        match value {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(self.invalid(pointer, not_text)),
        }
    }

    /// The optional mapping at `pointer`, as written (empty when absent or
    /// `null`).
    pub fn object(
        &self,
        value: Option<&Value>,
        pointer: &str,
        not_a_mapping: &str,
    ) -> Result<Map<String, Value>, E> {
        match value {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(_) => Err(self.invalid(pointer, not_a_mapping)),
        }
    }
}

/// The strings of a list of strings; `None` when it is anything else.
pub fn string_list(value: &Value) -> Option<Vec<String>> {
    let Value::Array(items) = value else {
        return None;
    };
    items
        .iter()
        .map(|item| item.as_str().map(str::to_string))
        .collect()
}

/// One name or a non-empty list of names; `None` when it is anything else.
pub fn one_or_more_names(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(name) => Some(vec![name.clone()]),
        other => string_list(other).filter(|names| !names.is_empty()),
    }
}

/// The pointer to `key` below `pointer`.
pub fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", escape(key))
}

/// A key as a JSON pointer segment (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer segment as the key it names: [`escape`] undone.
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[derive(Debug, PartialEq)]
    struct Problem(Option<usize>, String);

    impl Invalid for Problem {
        fn invalid(at: SourceLocation, message: String) -> Self {
            Problem(at.line, message)
        }
    }

    fn document(text: &str) -> SourceDocument {
        SourceDocument::parse(Path::new("t.yaml"), text.into()).expect("parses")
    }

    #[test]
    fn entries_carry_their_pointers_and_a_wrong_kind_its_line() {
        let doc = document("a:\n  x/y: 1\n  z: 2\nb: 3\n");
        let reader = Reader::<Problem>::new(&doc);
        let entries = reader
            .entries(doc.value.get("a"), "/a", "not a mapping")
            .expect("a mapping");
        let pointers: Vec<_> = entries.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/a/x~1y", "/a/z"]);
        assert_eq!(
            reader
                .entries(doc.value.get("b"), "/b", "not a mapping")
                .err(),
            Some(Problem(Some(4), "not a mapping".into()))
        );
        assert!(
            reader
                .entries(None, "/c", "x")
                .is_ok_and(|entries| entries.is_empty())
        );
    }

    #[test]
    fn an_unknown_key_is_named_at_its_own_line() {
        let doc = document("name: x\nstray: 1\n");
        let reader = Reader::<Problem>::new(&doc);
        assert_eq!(
            reader.mapping(&doc.value, "", &["name"], "a step").err(),
            Some(Problem(
                Some(2),
                "unknown key `stray` in a step; expected one of: name".into()
            ))
        );
    }
}
