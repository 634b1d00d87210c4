//! The behaviour model declared in `fixtures/<api>.yaml`: the API's error
//! format, its collections of resources, and the rules bound to operations,
//! run against per-session state.

pub mod access;
pub mod answer_cache;
pub mod bind;
pub mod bundled;
pub mod clock;
pub mod compact;
pub mod context;
pub mod conventions;
pub(crate) mod draft;
pub mod engine;
pub mod fixture;
pub mod infer;
pub mod list;
pub mod model;
pub mod parse_model;
mod read;
pub mod request;
pub mod simple_expr;
pub mod store;
pub mod template;
pub mod uuid_text;
pub mod view;
pub mod visibility;

pub use fixture::{ErrorKind, ErrorRule, Fixture, FixtureError};
pub use model::Model;
pub use store::Store;
pub use template::Template;
