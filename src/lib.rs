//! understudy: one OpenAPI contract, a stateful mock and a conformance runner.
//!
//! Data flows one way: [`spec`] loads a contract, [`behaviour`] reads the
//! fixture, [`mock`] serves both; [`scenario`] reads conformance checks,
//! [`runner`] replays them against any server and [`report`] writes what
//! it found. [`cli`] only parses arguments and calls
//! into these modules.

pub mod atomic_file;
pub mod behaviour;
pub mod bundled;
pub mod cli;
pub mod contract;
pub mod diagnostic;
pub mod drift;
pub mod generate;
pub mod mock;
pub mod mutate;
pub mod mutate_command;
pub mod record;
pub mod record_command;
pub mod report;
pub mod run_command;
pub mod runner;
pub mod sample;
pub mod scenario;
pub mod snapshot;
pub mod source;
pub mod spec;
