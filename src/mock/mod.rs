//! The mock server: a hyper service per API.
//!
//! Per request ([`pipeline`]): route → authenticate → parameters → body →
//! fixture checks → behaviour (the fixture's rules and state) → respond
//! from the spec when no rule applies; around it ([`server`]): the admin
//! prefix, CORS, chaos, the journal and the log. Refusals ([`failure`]) are
//! rendered by [`refuse`] in the API's own error shape: the fixture's
//! rules, else the spec's documented error response ([`spec_error`]), else
//! problem+json.

pub mod admin;
pub mod auth;
pub mod behave;
pub mod body;
pub mod cors;
pub mod failure;
pub mod fault;
pub mod form;
pub mod inspector;
pub mod journal;
pub mod journal_lag;
pub mod json_syntax;
pub mod loaded;
pub mod log;
pub mod options;
pub mod params;
pub mod persist;
pub mod pipeline;
pub mod refuse;
pub mod reload;
pub mod repeat;
pub mod reply;
pub mod respond;
pub mod serve;
pub mod server;
pub mod spec_error;
pub mod state_journal;
pub mod violation;

pub use options::MockOptions;
pub use server::{MockService, RunningMock};
