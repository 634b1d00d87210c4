//! What a run found, as data: the runner fills a [`Report`], and the
//! writers here (terminal, JUnit XML, JSON) only read it. Secrets are
//! already blanked out by the time a value reaches this model.

pub mod json;
pub mod junit;
pub mod terminal;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A whole run. The JSON report is this, serialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The report format's version, for tools that read it.
    pub format: u32,
    pub duration_ms: u64,
    pub targets: Vec<TargetReport>,
    pub scenarios: Vec<ScenarioReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    pub api: String,
    pub url: String,
    /// `in-process mock`, `understudy mock` or `server`.
    pub kind: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    /// A check failed: the implementation does not do what the contract says.
    Failed,
    /// The target could not be talked to at all.
    Error,
    /// Not run, because an earlier step failed.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    pub api: String,
    pub file: String,
    pub line: Option<usize>,
    pub tags: Vec<String>,
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub steps: Vec<StepReport>,
    /// Why the scenario stopped when no single step says (a time limit).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub name: String,
    pub line: Option<usize>,
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// Requests sent: polls and retries count.
    pub attempts: u32,
    pub request: Option<RequestReport>,
    pub response: Option<ResponseReport>,
    pub failures: Vec<Failure>,
    /// Findings that do not fail the step, such as a status the spec does
    /// not document (real services answer more than their specs say).
    pub notes: Vec<String>,
    /// The response normalised and redacted as a snapshot would store it;
    /// kept only when comparing two targets (`understudy diff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestReport {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseReport {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
    /// The spec operation the request matched, when one did.
    pub operation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    Json(Value),
    Text(String),
}

/// One check that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// What was checked: `status`, `header x-total`, `json /uuid`, `body`,
    /// `schema`, `until`, `capture id`, `transport`, `request`.
    pub check: String,
    pub message: String,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
}

impl Failure {
    pub fn new(check: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            message: message.into(),
            expected: None,
            actual: None,
        }
    }

    pub fn with_values(mut self, expected: Option<Value>, actual: Option<Value>) -> Self {
        self.expected = expected;
        self.actual = actual;
        self
    }
}

/// Counts over a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub steps: usize,
    pub notes: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for scenario in &self.scenarios {
            match scenario.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::Error => s.errors += 1,
                Outcome::Skipped => {}
            }
            s.steps += scenario
                .steps
                .iter()
                .filter(|st| st.outcome != Outcome::Skipped)
                .count();
            s.notes += scenario
                .steps
                .iter()
                .map(|st| st.notes.len())
                .sum::<usize>();
        }
        s
    }

    /// 0 when everything passed, 1 when a check failed, 2 when a target
    /// could not be reached.
    pub fn exit_code(&self) -> i32 {
        let s = self.summary();
        if s.errors > 0 {
            2
        } else if s.failed > 0 {
            1
        } else {
            0
        }
    }
}
