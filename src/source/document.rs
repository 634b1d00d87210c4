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
        })
    }

    /// The location of the node at `pointer`, with its line when it can be found.
    pub fn locate(&self, pointer: &str) -> SourceLocation {
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

/// serde_json appends " at line L column C"; the location is shown separately.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}
