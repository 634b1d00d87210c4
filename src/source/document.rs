//! One file the user wrote, kept with its text so positions can be found later.

use super::{SourceLocation, yaml};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file read and parsed; the text stays so that a pointer can be turned
/// into a line only when an error needs it (locating is not free on 4 MB).
#[derive(Debug)]
pub struct SourceDocument {
    pub path: PathBuf,
    pub text: Arc<str>,
    pub value: Value,
    /// Every node's line, built on the second call to [`Self::locate`]:
    /// one lookup is cheaper as a scan, many are not.
    lines: std::sync::OnceLock<yaml::PointerLines>,
    located: std::sync::atomic::AtomicUsize,
    /// Parts of `value` taken from other documents (a fixture composed
    /// with inferred entries): a pointer under one of these prefixes is
    /// located in the document it came from, at the same pointer.
    grafts: Vec<(String, Arc<SourceDocument>)>,
}

/// Reading or parsing a file failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: cannot read the file: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{at}: {message}")]
    Syntax { at: SourceLocation, message: String },
}

impl SourceError {
    pub fn location(&self) -> SourceLocation {
        match self {
            SourceError::Read { path, .. } => SourceLocation::file(path),
            SourceError::Syntax { at, .. } => at.clone(),
        }
    }
}

impl SourceDocument {
    pub fn read(path: &Path) -> Result<Self, SourceError> {
        let fail = |reason: String| SourceError::Read {
            path: path.to_path_buf(),
            reason,
        };
        // Only regular files: a FIFO would hold the start for ever and a
        // device (`/dev/zero`) feed it without end.
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail(
                if meta.is_dir() {
                    "it is a folder, not a file"
                } else {
                    "it is a device, FIFO or socket, not a regular file"
                }
                .to_string(),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        Self::parse(path, text.into())
    }

    /// Parses `text` as JSON when it looks like JSON (serde_json is about ten
    /// times faster than the YAML parser on large specs), otherwise as YAML.
    pub fn parse(path: &Path, text: Arc<str>) -> Result<Self, SourceError> {
        let looks_like_json = text.trim_start().starts_with('{');
        let (value, text) = if looks_like_json {
            let value = super::strict_json::from_str(&text).map_err(|e| SourceError::Syntax {
                at: SourceLocation::at(path, Some(e.line()), Some(e.column())),
                message: format!("invalid JSON: {}", strip_position(&e.to_string())),
            })?;
            (value, text)
        } else {
            let (value, fixed) = yaml::parse_lenient(&text).map_err(|e| SourceError::Syntax {
                at: SourceLocation::at(path, Some(e.line), Some(e.column)),
                message: format!("invalid YAML: {}", e.message),
            })?;
            (value, fixed.map_or(text, Arc::from))
        };
        Ok(Self {
            path: path.to_path_buf(),
            text,
            value,
            lines: std::sync::OnceLock::new(),
            located: std::sync::atomic::AtomicUsize::new(0),
            grafts: Vec::new(),
        })
    }

    /// `self` with the nodes of `from` at `pointers` put at the same
    /// pointers (a parent that is missing is made as an empty mapping;
    /// a node already there is replaced). Errors at those places then
    /// name `from`'s file and line, not this one's.
    pub fn grafted(&self, from: &Arc<SourceDocument>, pointers: &[String]) -> SourceDocument {
        let mut value = self.value.clone();
        let mut grafts = self.grafts.clone();
        for pointer in pointers {
            let Some(node) = from.value.pointer(pointer) else {
                continue;
            };
            if put(&mut value, pointer, node.clone()) {
                grafts.push((pointer.clone(), from.clone()));
            }
        }
        SourceDocument {
            path: self.path.clone(),
            text: self.text.clone(),
            value,
            lines: std::sync::OnceLock::new(),
            located: std::sync::atomic::AtomicUsize::new(0),
            grafts,
        }
    }

    /// The location of the node at `pointer`, with its line when it can be found.
    pub fn locate(&self, pointer: &str) -> SourceLocation {
        let grafted = self.grafts.iter().find(|(prefix, _)| {
            pointer
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
        if let Some((_, from)) = grafted {
            return from.locate(pointer);
        }
        let calls = self
            .located
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let line = if calls == 0 && self.lines.get().is_none() {
            yaml::line_of_pointer(&self.text, pointer)
        } else {
            self.lines
                .get_or_init(|| yaml::lines_of_pointers(&self.text))
                .get(pointer)
        };
        SourceLocation::at(&self.path, line, None)
    }
}

/// Puts `node` at `pointer` in `root`, making missing parents mappings;
/// false when a parent on the way is not a mapping.
fn put(root: &mut Value, pointer: &str, node: Value) -> bool {
    let mut keys: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some(last) = keys.pop() else {
        return false;
    };
    let mut at = root;
    for key in keys {
        let Value::Object(map) = at else {
            return false;
        };
        at = map
            .entry(key)
            .or_insert_with(|| Value::Object(Default::default()));
    }
    match at {
        Value::Object(map) => {
            map.insert(last, node);
            true
        }
        _ => false,
    }
}

/// serde_json appends " at line L column C"; the location is shown separately.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grafted_part_is_located_in_the_file_it_came_from() {
        let own = SourceDocument::parse(
            Path::new("mine.yaml"),
            Arc::from("collections:\n  a:\n    key: id\n"),
        )
        .expect("parses");
        let other = Arc::new(
            SourceDocument::parse(
                Path::new("(inferred)"),
                Arc::from(
                    "collections:\n  b:\n    key: uuid\noperations:\n  getB:\n    rules: []\n",
                ),
            )
            .expect("parses"),
        );
        let both = own.grafted(
            &other,
            &["/collections/b".to_string(), "/operations/getB".to_string()],
        );
        assert_eq!(both.value["collections"]["a"]["key"], "id");
        assert_eq!(both.value["collections"]["b"]["key"], "uuid");
        assert_eq!(
            both.value["operations"]["getB"]["rules"],
            serde_json::json!([])
        );
        assert_eq!(both.locate("/collections/a/key").to_string(), "mine.yaml:3");
        assert_eq!(
            both.locate("/collections/b/key").to_string(),
            "(inferred):3"
        );
        assert_eq!(
            both.locate("/operations/getB/rules").to_string(),
            "(inferred):6"
        );
        // A prefix is a whole key: `/collections/bb` is not under `/collections/b`.
        assert!(
            both.locate("/collections/bb")
                .to_string()
                .starts_with("mine.yaml")
        );
    }
}
