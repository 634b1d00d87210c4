//! What a run found, as data: the runner fills a [`Report`], and the
//! writers here (terminal, JUnit XML, JSON) only read it. Secrets are
//! already blanked out by the time a value reaches this model.

pub mod html;
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
    /// When the run began (RFC 3339, UTC), for readers that show when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
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

impl Body {
    /// The body as a person reads it: JSON pretty-printed, text with its
    /// control characters made [`visible`], cut after `limit` bytes with a
    /// line that says how long it was.
    pub fn shown(&self, limit: usize) -> String {
        let text = match self {
            Body::Json(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
            Body::Text(t) => visible(t).into_owned(),
        };
        if text.len() <= limit {
            return text;
        }
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}\n… ({} bytes in all)", &text[..cut], text.len())
    }
}

/// `text` with control characters (an ANSI escape in a response, a
/// carriage return) written as `\u{1b}`, so what a server sends cannot
/// recolour, move or clear a terminal, nor hide in a page; new lines and
/// tabs stay.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One check that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub check: Check,
    pub message: String,
    pub expected: Option<Value>,
    pub actual: Option<Value>,
    /// The scenario file's line of the expectation that did not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// What was checked. Reports write it as text (`status`, `header x-total`,
/// `json /uuid`, `capture id`), the form JSON reports have always had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Status,
    Header(String),
    /// A JSON pointer into the body.
    Json(String),
    Body,
    BodyContains,
    /// The response against the spec.
    Schema,
    Until,
    Capture(String),
    Snapshot,
    /// The step's expectations themselves (a variable they name is unset).
    Expect,
    /// The request could not be built.
    Request,
    Timeout,
    /// The target could not be reached.
    Transport,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Status => f.write_str("status"),
            Check::Header(name) => write!(f, "header {name}"),
            Check::Json(pointer) => write!(f, "json {pointer}"),
            Check::Body => f.write_str("body"),
            Check::BodyContains => f.write_str("body_contains"),
            Check::Schema => f.write_str("schema"),
            Check::Until => f.write_str("until"),
            Check::Capture(name) => write!(f, "capture {name}"),
            Check::Snapshot => f.write_str("snapshot"),
            Check::Expect => f.write_str("expect"),
            Check::Request => f.write_str("request"),
            Check::Timeout => f.write_str("timeout"),
            Check::Transport => f.write_str("transport"),
        }
    }
}

impl std::str::FromStr for Check {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (head, rest) = text.split_once(' ').unwrap_or((text, ""));
        Ok(match (head, rest) {
            ("status", "") => Check::Status,
            ("header", name) if !name.is_empty() => Check::Header(name.to_string()),
            ("json", pointer) => Check::Json(pointer.to_string()),
            ("body", "") => Check::Body,
            ("body_contains", "") => Check::BodyContains,
            ("schema", "") => Check::Schema,
            ("until", "") => Check::Until,
            ("capture", name) if !name.is_empty() => Check::Capture(name.to_string()),
            ("snapshot", "") => Check::Snapshot,
            ("expect", "") => Check::Expect,
            ("request", "") => Check::Request,
            ("timeout", "") => Check::Timeout,
            ("transport", "") => Check::Transport,
            _ => return Err(format!("`{text}` is not a kind of check")),
        })
    }
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Failure {
    pub fn new(check: Check, message: impl Into<String>) -> Self {
        Self {
            check,
            message: message.into(),
            expected: None,
            actual: None,
            line: None,
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
    /// The report of a run that could not start or could not reach its
    /// target: one errored entry carrying the reason, so that every report
    /// CI asked for exists and says why, instead of "no report".
    pub fn unusable(reason: &str) -> Report {
        Report {
            format: 1,
            started_at: Some(crate::behaviour::clock::format_datetime(
                crate::behaviour::clock::real_now_ms(),
            )),
            duration_ms: 0,
            targets: Vec::new(),
            scenarios: vec![ScenarioReport {
                name: "the run".into(),
                api: "understudy".into(),
                file: String::new(),
                line: None,
                tags: Vec::new(),
                outcome: Outcome::Error,
                duration_ms: 0,
                steps: Vec::new(),
                error: Some(reason.trim_end().to_string()),
            }],
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_written_as_reports_have_always_written_them() {
        let checks = [
            (Check::Status, "status"),
            (Check::Header("x-total".into()), "header x-total"),
            (Check::Json("/a b".into()), "json /a b"),
            (Check::Capture("id".into()), "capture id"),
            (Check::BodyContains, "body_contains"),
            (Check::Transport, "transport"),
        ];
        for (check, text) in checks {
            assert_eq!(check.to_string(), text);
            assert_eq!(text.parse::<Check>(), Ok(check.clone()));
            let json = serde_json::to_value(Failure::new(check.clone(), "m")).expect("serialises");
            assert_eq!(json["check"], text);
            let back: Failure = serde_json::from_value(json).expect("reads back");
            assert_eq!(back.check, check);
        }
        assert!("nonsense".parse::<Check>().is_err());
        assert!("header".parse::<Check>().is_err());
    }
}
