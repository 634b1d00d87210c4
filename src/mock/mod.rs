//! The mock server: a hyper service per API, answering from the spec.
//!
//! Per request: CORS preflight → route → authenticate → parameters → body →
//! respond, each stage a function over the immutable [`Api`](crate::spec::Api).
//! Refusals are rendered by [`failure`] in the API's own error shape.

pub mod auth;
pub mod body;
pub mod cors;
pub mod failure;
pub mod log;
pub mod params;
pub mod reply;
pub mod respond;
pub mod server;
pub mod violation;

pub use server::{MockOptions, MockService, RunningMock};
