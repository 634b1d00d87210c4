//! The user's files: text into values, positions back out of text, errors
//! shown with the line they point at, and files written whole or not at all.

pub mod atomic_file;
pub mod diagnostic;
mod document;
mod duration;
mod location;
pub mod reader;
pub mod strict_json;
pub mod yaml;

pub use document::{SourceDocument, SourceError};
pub use duration::parse_duration;
pub use location::SourceLocation;

/// The first key of `map` not in `known`, in file order. `x-…` keys are
/// the reader's to allow or not.
pub fn unknown_key<'a>(
    map: &'a serde_json::Map<String, serde_json::Value>,
    known: &[&str],
) -> Option<&'a str> {
    map.keys().map(String::as_str).find(|k| !known.contains(k))
}
