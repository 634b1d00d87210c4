//! The mock server: a hyper service per API.
//!
//! Per request: admin prefix → CORS preflight → route → authenticate →
//! parameters → body → behaviour (the fixture's rules and state) → respond
//! from the spec when no rule applies. Refusals are rendered by [`failure`]
//! in the API's own error shape: the fixture's rules, else the spec's
//! documented error response ([`spec_error`]), else problem+json.

pub mod admin;
pub mod auth;
pub mod behave;
pub mod body;
pub mod cors;
pub mod failure;
pub mod fault;
pub mod form;
pub mod journal;
pub mod json_syntax;
pub mod log;
pub mod params;
pub mod persist;
pub mod reload;
pub mod reply;
pub mod respond;
pub mod serve;
pub mod server;
pub mod spec_error;
pub mod violation;

pub use server::{MockOptions, MockService, RunningMock};
