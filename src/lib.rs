//! understudy: one OpenAPI contract, a stateful mock and a conformance runner.
//!
//! Data flows one way: [`spec`] loads a contract, [`behaviour`] reads the
//! fixture, [`mock`] serves both; [`scenario`] reads conformance checks,
//! [`runner`] replays them against any server and [`report`] writes what
//! it found. [`cli`] only parses arguments and calls
//! into these modules.

pub mod behaviour;
pub mod cli;
pub mod contract;
pub mod generate;
pub mod mock;
pub mod mutate;
pub mod record;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod snapshot;
pub mod source;
pub mod spec;
