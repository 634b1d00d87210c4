//! The conformance runner: replays scenarios against a target (an
//! in-process mock by default, or any server) and checks every response
//! against the spec and the scenario. It fills a [`Report`]; printing it
//! is the [`crate::report`] writers' job.
//!
//! Stages: [`plan`] (files → checked scenarios, selected and sharded),
//! [`target`] (where to send), [`execute`] (steps, polls, captures),
//! [`conformance`] and [`assert`] (the checks).

pub mod assert;
pub mod capture;
pub mod conformance;
pub mod drift;
pub mod execute;
pub mod http;
pub mod plan;
pub mod target;

pub use plan::Shard;
pub use target::TargetArg;

use crate::mock::reload::LoadError;
use crate::report::{Report, ScenarioReport, TargetReport};
use crate::scenario::{DiscoverError, ScenarioError};
use crate::source::SourceLocation;
use execute::{RunContext, ScenarioPlace};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `understudy run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    pub targets: Vec<TargetArg>,
    /// Checks (and mocks) every scenario against this spec.
    pub spec: Option<PathBuf>,
    /// The fixture for an in-process mock of `spec`.
    pub fixture: Option<PathBuf>,
    /// With `spec` and no `fixture`: no resources inferred.
    pub stateless: bool,
    /// Overlays applied to `spec` first.
    pub overlays: Vec<PathBuf>,
    pub jobs: usize,
    pub shard: Option<Shard>,
    pub filter: Option<String>,
    pub tags: Vec<String>,
    /// Scenarios with any of these tags are left out.
    pub skip_tags: Vec<String>,
    pub vars: Vec<(String, Value)>,
    /// Fixture variables for the mock session of every scenario.
    pub mock_vars: Vec<(String, Value)>,
    pub request_timeout: Duration,
    pub scenario_timeout: Duration,
    /// Wait in real time even against a mock.
    pub real_time: bool,
    /// The environment `${env.NAME}` reads.
    pub env: Arc<HashMap<String, String>>,
    /// Where snapshots are kept, and whether to accept new ones.
    pub snapshots: crate::snapshot::Settings,
    /// Keep every normalised response in the report instead of checking
    /// snapshots (for `understudy diff`).
    pub observe: bool,
    /// Bytes of an answer's body read at most (`--max-body`).
    pub max_body: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            targets: Vec::new(),
            spec: None,
            fixture: None,
            stateless: false,
            overlays: Vec::new(),
            jobs: 8,
            shard: None,
            filter: None,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            vars: Vec::new(),
            mock_vars: Vec::new(),
            request_timeout: Duration::from_secs(10),
            scenario_timeout: Duration::from_secs(120),
            real_time: false,
            env: Arc::new(std::env::vars().collect()),
            snapshots: crate::snapshot::Settings::default(),
            observe: false,
            max_body: http::DEFAULT_MAX_BODY,
        }
    }
}

/// Why a run could not start (exit code 2). Rendered by the CLI, with the
/// offending line where [`RunError::location`] has one.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A spec, overlay or fixture that does not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A scenario file that does not load.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Scenario paths that cannot be read.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// Arguments or files that make the run impossible, and the file it is
    /// about when there is one.
    #[error("{message}")]
    Unusable {
        message: String,
        at: Option<SourceLocation>,
    },
    #[error("cannot reach the target {url}: {reason}")]
    Unreachable { url: String, reason: String },
}

impl RunError {
    pub fn unusable(message: impl Into<String>) -> Self {
        RunError::Unusable {
            message: message.into(),
            at: None,
        }
    }

    /// A problem with a file as a whole (no line).
    pub fn with_file(message: impl Into<String>, file: &std::path::Path) -> Self {
        RunError::Unusable {
            message: message.into(),
            at: Some(SourceLocation::file(file)),
        }
    }

    /// The file and line to show, when the error has one.
    pub fn location(&self) -> Option<SourceLocation> {
        match self {
            RunError::Load(e) => e.location(),
            RunError::Scenario(e) => Some(e.location()),
            RunError::Unusable { at, .. } => at.clone(),
            RunError::Discover(_) | RunError::Unreachable { .. } => None,
        }
    }
}

/// Runs the planned scenarios, `jobs` at a time; `on_done` sees each
/// scenario as it finishes (for a progress line).
pub async fn run(
    options: &RunOptions,
    on_done: Arc<dyn Fn(&ScenarioReport) + Send + Sync>,
) -> Result<Report, RunError> {
    let started = Instant::now();
    let started_at =
        crate::behaviour::clock::format_datetime(crate::behaviour::clock::real_now_ms());
    let plan = plan::plan(options)?;
    let client = http::HttpClient::new(options.max_body);
    let targets = target::connect(&plan.apis, &options.targets, &client).await?;
    let ctx = Arc::new(RunContext {
        client,
        env: options.env.clone(),
        cli_vars: options.vars.clone(),
        mock_vars: options.mock_vars.clone(),
        request_timeout: options.request_timeout,
        scenario_timeout: options.scenario_timeout,
        virtual_clock: !options.real_time,
        snapshots: options.snapshots.clone(),
        observe: options.observe,
    });
    let generated: Vec<Arc<[String]>> = plan
        .apis
        .iter()
        .map(|planned| planned.fixture.model.volatile_fields().into())
        .collect();
    let run_tag = run_tag();
    let width = id_width(plan.scenarios.len());
    let gate = Arc::new(tokio::sync::Semaphore::new(options.jobs.max(1)));
    let mut tasks = Vec::new();
    for (index, planned) in plan.scenarios.into_iter().enumerate() {
        let ctx = ctx.clone();
        let gate = gate.clone();
        let target = targets[planned.api].clone();
        let api = plan.apis[planned.api].api.clone();
        let generated = generated[planned.api].clone();
        let on_done = on_done.clone();
        let session = format!("understudy-{run_tag}-{index}");
        let run_id = run_id(&run_tag, index, width);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            let place = ScenarioPlace {
                target: &target,
                api: &api,
                session,
                run_id,
                file: &planned.file,
                generated: &generated,
            };
            let report = execute::run_scenario(&ctx, &place, &planned.scenario).await;
            on_done(&report);
            report
        }));
    }
    let mut scenarios = Vec::new();
    for task in tasks {
        match task.await {
            Ok(report) => scenarios.push(report),
            Err(e) => {
                return Err(RunError::unusable(format!(
                    "a scenario task stopped unexpectedly: {e}"
                )));
            }
        }
    }
    Ok(Report {
        format: 1,
        started_at: Some(started_at),
        duration_ms: started.elapsed().as_millis() as u64,
        targets: targets
            .iter()
            .map(|t| TargetReport {
                api: t.label.clone(),
                url: t.base.clone(),
                kind: t.kind.describe().to_string(),
            })
            .collect(),
        scenarios,
    })
}

/// Digits of a scenario's number in `${run_id}`: every id of a run has the
/// same length, so none is part of another (a substring filter such as
/// Waldur's `query` for scenario 1 must not find scenario 16's items).
fn id_width(scenarios: usize) -> usize {
    scenarios.max(1).to_string().len().max(2)
}

/// `${run_id}`: the run's tag, then the scenario's number at a fixed width.
fn run_id(tag: &str, index: usize, width: usize) -> String {
    format!("{tag}{index:0width$}")
}

/// Six base-36 characters from the clock: scenario names made with
/// `${run_id}` differ between runs against a real service.
fn run_tag() -> String {
    let mut n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let mut out = String::new();
    for _ in 0..6 {
        let digit = (n % 36) as u32;
        out.push(char::from_digit(digit, 36).unwrap_or('0'));
        n /= 36;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_run_id_is_part_of_another() {
        for count in [1, 9, 10, 31, 100, 1234] {
            let width = id_width(count);
            let ids: Vec<String> = (0..count).map(|i| run_id("k3x9q2", i, width)).collect();
            for (i, a) in ids.iter().enumerate() {
                for (j, b) in ids.iter().enumerate() {
                    assert!(i == j || !b.contains(a.as_str()), "{a} is part of {b}");
                }
            }
        }
    }
}
