//! Drift: the same scenarios run against two targets (say, the mock and a
//! staging server), compared step by step. It answers the question every
//! mock user has: does my mock still behave like the real thing?
//!
//! Each step is compared on what it did (one side failing where the other
//! passes), its status, the shape of its JSON body (which fields exist and
//! their types), and its content, normalised and redacted as a snapshot
//! would be, so that ids, times and run names never count as drift.

use crate::report::{Body, Outcome, Report, StepReport};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Shape differences listed per step before the rest are counted.
const SHAPE_LIMIT: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    pub scenarios: Vec<ScenarioDrift>,
    /// Steps that ran on both sides and were compared.
    pub compared: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioDrift {
    pub name: String,
    pub api: String,
    pub file: String,
    pub steps: Vec<StepDrift>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepDrift {
    pub name: String,
    pub line: Option<usize>,
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// One side's checks held and the other's did not, or one side never
    /// got to the step.
    Outcome {
        left: Outcome,
        right: Outcome,
        why: String,
    },
    Status {
        left: u16,
        right: u16,
    },
    /// A field present on one side only, or with another JSON type.
    Shape {
        pointer: String,
        left: String,
        right: String,
    },
    /// More shape differences than are listed.
    MoreShape {
        count: usize,
    },
    /// The redacted responses differ (headers or body): a line diff.
    Content {
        diff: String,
    },
}

impl Drift {
    pub fn differing_steps(&self) -> usize {
        self.scenarios.iter().map(|s| s.steps.len()).sum()
    }

    /// 0 when the two sides agree, 1 when they drift.
    pub fn exit_code(&self) -> i32 {
        if self.scenarios.is_empty() { 0 } else { 1 }
    }
}

/// Compares two runs of the same scenarios.
pub fn compare(left: &Report, right: &Report) -> Drift {
    let mut compared = 0;
    let mut scenarios = Vec::new();
    for l in &left.scenarios {
        let r = right
            .scenarios
            .iter()
            .find(|r| r.file == l.file && r.name == l.name);
        let Some(r) = r else { continue };
        let mut steps = Vec::new();
        for (ls, rs) in l.steps.iter().zip(&r.steps) {
            if ls.outcome != Outcome::Skipped && rs.outcome != Outcome::Skipped {
                compared += 1;
            }
            let differences = compare_step(ls, rs);
            if !differences.is_empty() {
                steps.push(StepDrift {
                    name: ls.name.clone(),
                    line: ls.line,
                    differences,
                });
            }
        }
        if !steps.is_empty() {
            scenarios.push(ScenarioDrift {
                name: l.name.clone(),
                api: l.api.clone(),
                file: l.file.clone(),
                steps,
            });
        }
    }
    Drift {
        scenarios,
        compared,
    }
}

fn compare_step(left: &StepReport, right: &StepReport) -> Vec<Difference> {
    let mut differences = Vec::new();
    if left.outcome == Outcome::Skipped && right.outcome == Outcome::Skipped {
        return differences;
    }
    if left.outcome != right.outcome {
        let failing = if left.outcome == Outcome::Passed {
            right
        } else {
            left
        };
        let why = failing
            .failures
            .first()
            .map(|f| format!("{}: {}", f.check, f.message))
            .unwrap_or_else(|| "an earlier step failed".to_string());
        differences.push(Difference::Outcome {
            left: left.outcome,
            right: right.outcome,
            why,
        });
    }
    let (Some(lr), Some(rr)) = (&left.response, &right.response) else {
        return differences;
    };
    if lr.status != rr.status {
        differences.push(Difference::Status {
            left: lr.status,
            right: rr.status,
        });
    }
    let shape_of = |body: &Option<Body>| {
        let mut shape = BTreeMap::new();
        if let Some(Body::Json(json)) = body {
            collect_shape(json, String::new(), &mut shape);
        }
        shape
    };
    let (ls, rs) = (shape_of(&lr.body), shape_of(&rr.body));
    let mut shape_differences = Vec::new();
    for pointer in ls.keys().chain(rs.keys().filter(|k| !ls.contains_key(*k))) {
        let l = ls.get(pointer).map_or("absent", String::as_str);
        let r = rs.get(pointer).map_or("absent", String::as_str);
        if l != r {
            shape_differences.push(Difference::Shape {
                pointer: pointer.clone(),
                left: l.to_string(),
                right: r.to_string(),
            });
        }
    }
    let extra = shape_differences.len().saturating_sub(SHAPE_LIMIT);
    differences.extend(shape_differences.into_iter().take(SHAPE_LIMIT));
    if extra > 0 {
        differences.push(Difference::MoreShape { count: extra });
    }
    if let (Some(l), Some(r)) = (&left.seen, &right.seen) {
        // The status has its own line above.
        let (l, r) = (without_status(l), without_status(r));
        if l != r {
            let diff = similar::TextDiff::from_lines(l, r)
                .unified_diff()
                .context_radius(2)
                .header("left", "right")
                .to_string();
            differences.push(Difference::Content { diff });
        }
    }
    differences
}

fn without_status(text: &str) -> &str {
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("status: ") => rest,
        _ => text,
    }
}

/// Every field's JSON type by pointer; list items share `/*`.
fn collect_shape(value: &Value, pointer: String, shape: &mut BTreeMap<String, String>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(items) => {
            for item in items {
                collect_shape(item, format!("{pointer}/*"), shape);
            }
            "array"
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = crate::source::reader::escape(key);
                collect_shape(item, format!("{pointer}/{key}"), shape);
            }
            "object"
        }
    };
    let entry = shape.entry(pointer).or_default();
    // Items of one list with different types: all of them, in order.
    if entry.is_empty() {
        entry.push_str(kind);
    } else if !entry.split(" or ").any(|k| k == kind) {
        entry.push_str(" or ");
        entry.push_str(kind);
    }
}

/// The drift as text for a terminal.
pub fn render(drift: &Drift, left: &str, right: &str) -> String {
    let mut out = String::new();
    for scenario in &drift.scenarios {
        let _ = writeln!(
            out,
            "DRIFT {} › {}  ({})",
            scenario.api, scenario.name, scenario.file
        );
        for step in &scenario.steps {
            let line = step
                .line
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            let _ = writeln!(out, "  step \"{}\"{line}", step.name);
            for difference in &step.differences {
                describe(&mut out, difference);
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "left: {left}\nright: {right}\n{} steps compared: {}",
        drift.compared,
        match drift.differing_steps() {
            0 => "no drift".to_string(),
            1 => "1 step differs".to_string(),
            n => format!("{n} steps differ"),
        }
    );
    out
}

fn describe(out: &mut String, difference: &Difference) {
    let _ = writeln!(out, "    {}", difference.headline());
    if let Difference::Content { diff } = difference {
        for line in diff.lines() {
            let _ = writeln!(out, "      {line}");
        }
    }
}

impl Difference {
    /// The difference in one line; a content difference's diff follows it.
    pub fn headline(&self) -> String {
        match self {
            Difference::Outcome { left, right, why } => format!(
                "outcome: left {}, right {} ({why})",
                outcome_word(*left),
                outcome_word(*right)
            ),
            Difference::Status { left, right } => format!("status: left {left}, right {right}"),
            Difference::Shape {
                pointer,
                left,
                right,
            } => format!("shape {pointer}: left {left}, right {right}"),
            Difference::MoreShape { count } => format!("… and {count} more shape differences"),
            Difference::Content { .. } => "content:".to_string(),
        }
    }
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Error => "could not connect",
        Outcome::Skipped => "did not get here",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ResponseReport;
    use serde_json::json;

    fn step(outcome: Outcome, status: u16, body: Value, seen: &str) -> StepReport {
        StepReport {
            name: "read".into(),
            line: Some(3),
            outcome,
            duration_ms: 0,
            attempts: 1,
            request: None,
            response: Some(ResponseReport {
                status,
                headers: Vec::new(),
                body: Some(Body::Json(body)),
                operation: None,
            }),
            failures: Vec::new(),
            notes: Vec::new(),
            seen: Some(seen.to_string()),
        }
    }

    #[test]
    fn same_steps_do_not_drift() {
        let a = step(
            Outcome::Passed,
            200,
            json!({"id": "x"}),
            "status: 200\n\n{}\n",
        );
        assert!(compare_step(&a, &a.clone()).is_empty());
    }

    #[test]
    fn status_shape_and_content_are_told_apart() {
        let left = step(
            Outcome::Passed,
            200,
            json!({"id": "a", "n": 1, "tags": ["x"], "gone": true}),
            "status: 200\ncontent-type: application/json\n\n{\n  \"n\": 1\n}\n",
        );
        let right = step(
            Outcome::Passed,
            201,
            json!({"id": "b", "n": "1", "tags": ["x", 2], "new": null}),
            "status: 201\ncontent-type: application/json\n\n{\n  \"n\": \"1\"\n}\n",
        );
        let differences = compare_step(&left, &right);
        let shapes: Vec<String> = differences
            .iter()
            .filter_map(|d| match d {
                Difference::Shape {
                    pointer,
                    left,
                    right,
                } => Some(format!("{pointer}: {left} / {right}")),
                _ => None,
            })
            .collect();
        assert_eq!(
            shapes,
            [
                "/gone: boolean / absent",
                "/n: number / string",
                "/tags/*: string / string or number",
                "/new: absent / null",
            ]
        );
        assert!(differences.contains(&Difference::Status {
            left: 200,
            right: 201
        }));
        let Some(Difference::Content { diff }) = differences.last() else {
            panic!("a content diff: {differences:?}");
        };
        assert!(diff.contains("-  \"n\": 1\n+  \"n\": \"1\"\n"), "{diff}");
        assert!(!diff.contains("status"), "the status is told once: {diff}");
    }

    #[test]
    fn one_side_failing_is_an_outcome_difference() {
        let left = step(Outcome::Passed, 200, json!({}), "status: 200\n");
        let mut right = left.clone();
        right.outcome = Outcome::Failed;
        right.failures = vec![crate::report::Failure::new(
            crate::report::Check::Status,
            "expected 200, got 500",
        )];
        let differences = compare_step(&left, &right);
        assert_eq!(
            differences[0],
            Difference::Outcome {
                left: Outcome::Passed,
                right: Outcome::Failed,
                why: "status: expected 200, got 500".into()
            }
        );
    }
}
