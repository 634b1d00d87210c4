//! Reading the user's files: text into values, and positions back out of text.

mod document;
mod location;
pub mod yaml;

pub use document::{SourceDocument, SourceError};
pub use location::SourceLocation;
