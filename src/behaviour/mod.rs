//! The behaviour model declared in `fixtures/<api>.yaml`.
//!
//! So far a fixture declares how the API words its errors; resources,
//! rules and state build on the same file format.

pub mod fixture;
pub mod template;

pub use fixture::{ErrorKind, ErrorRule, Fixture, FixtureError};
pub use template::Template;
