//! The report a person reads: one character per scenario while running,
//! then each failure with its step, the request sent, the response, and a
//! diff of expected against actual.

use super::{Failure, Outcome, Report, ScenarioReport, StepReport};
use serde_json::Value;
use std::fmt::Write;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Bodies longer than this are cut in the terminal (the JSON report keeps them).
const BODY_LIMIT: usize = 2_000;

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// The progress mark for a finished scenario.
pub fn progress_mark(outcome: Outcome, color: bool) -> String {
    let p = Paint { color };
    match outcome {
        Outcome::Passed => p.paint(GREEN, "."),
        Outcome::Failed => p.paint(RED, "F"),
        Outcome::Error => p.paint(RED, "E"),
        Outcome::Skipped => p.paint(DIM, "s"),
    }
}

/// Everything after the progress line: failures, notes, the totals.
pub fn render(report: &Report, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();
    for scenario in report
        .scenarios
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed | Outcome::Error))
    {
        out.push('\n');
        out.push_str(&describe_scenario(scenario, color));
    }
    let mut notes: Vec<String> = Vec::new();
    for scenario in &report.scenarios {
        for step in &scenario.steps {
            for note in &step.notes {
                let line = format!("{} › {}: {note}", scenario.api, scenario.name);
                if !notes.contains(&line) {
                    notes.push(line);
                }
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "\n{}", p.paint(YELLOW, "notes (not failures):"));
        for note in &notes {
            let _ = writeln!(out, "  {note}");
        }
    }
    let s = report.summary();
    let total = s.passed + s.failed + s.errors;
    let mut parts = vec![p.paint(GREEN, &format!("{} passed", s.passed))];
    if s.failed > 0 {
        parts.push(p.paint(RED, &format!("{} failed", s.failed)));
    }
    if s.errors > 0 {
        parts.push(p.paint(RED, &format!("{} could not run", s.errors)));
    }
    let _ = writeln!(
        out,
        "\n{} scenario{}: {}; {} step{}; {} note{}; {:.2} s",
        total,
        if total == 1 { "" } else { "s" },
        parts.join(", "),
        s.steps,
        if s.steps == 1 { "" } else { "s" },
        // The notes listed above: one that several steps share is one note.
        notes.len(),
        if notes.len() == 1 { "" } else { "s" },
        report.duration_ms as f64 / 1000.0
    );
    out
}

/// One failed scenario, as the terminal and JUnit show it.
pub fn describe_scenario(scenario: &ScenarioReport, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();
    let place = match scenario.line {
        Some(line) => format!("{}:{line}", scenario.file),
        None => scenario.file.clone(),
    };
    let label = if scenario.outcome == Outcome::Error {
        "ERROR"
    } else {
        "FAIL"
    };
    let _ = writeln!(
        out,
        "{} {} › {}  {}",
        p.paint(&format!("{BOLD}{RED}"), label),
        scenario.api,
        p.paint(BOLD, &scenario.name),
        p.paint(DIM, &format!("({place})"))
    );
    if let Some(error) = &scenario.error {
        let _ = writeln!(out, "  {}", p.paint(RED, error));
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        if step.outcome != Outcome::Failed && step.outcome != Outcome::Error {
            continue;
        }
        describe_step(&mut out, &p, scenario, i, step);
    }
    out
}

fn describe_step(
    out: &mut String,
    p: &Paint,
    scenario: &ScenarioReport,
    index: usize,
    step: &StepReport,
) {
    let at = step
        .line
        .map(|l| format!(" ({}:{l})", scenario.file))
        .unwrap_or_default();
    let tries = if step.attempts > 1 {
        format!(", {} attempts", step.attempts)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  step {} \"{}\"{}{}",
        index + 1,
        step.name,
        p.paint(DIM, &at),
        tries
    );
    if let Some(request) = &step.request {
        let _ = writeln!(
            out,
            "    {} {}",
            p.paint(BOLD, &request.method),
            super::visible(&request.url)
        );
        for (name, value) in &request.headers {
            let _ = writeln!(
                out,
                "    {}",
                p.paint(DIM, &super::visible(&format!("{name}: {value}")))
            );
        }
        if let Some(body) = &request.body {
            for line in body.shown(BODY_LIMIT).lines() {
                let _ = writeln!(out, "    {}", p.paint(DIM, line));
            }
        }
    }
    if let Some(response) = &step.response {
        let operation = response
            .operation
            .as_ref()
            .map(|o| format!(" ({o})"))
            .unwrap_or_default();
        let _ = writeln!(out, "    ← {}{}", response.status, p.paint(DIM, &operation));
        if let Some(body) = &response.body {
            for line in body.shown(BODY_LIMIT).lines().take(40) {
                let _ = writeln!(out, "      {}", p.paint(DIM, line));
            }
        }
    }
    for failure in &step.failures {
        describe_failure(out, p, failure);
    }
}

fn describe_failure(out: &mut String, p: &Paint, failure: &Failure) {
    let line = failure
        .line
        .map(|line| p.paint(DIM, &format!(" (line {line})")))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    {} {}{line}: {}",
        p.paint(RED, "✗"),
        p.paint(BOLD, &super::visible(&failure.check.to_string())),
        super::visible(&failure.message)
    );
    let (Some(expected), Some(actual)) = (&failure.expected, &failure.actual) else {
        return;
    };
    let (expected, actual) = match (expected, actual) {
        // Texts of several lines, such as snapshots, are compared by line.
        (Value::String(e), Value::String(a)) if e.contains('\n') || a.contains('\n') => {
            (e.clone(), a.clone())
        }
        _ if is_structured(expected) || is_structured(actual) => (pretty(expected), pretty(actual)),
        _ => return,
    };
    let diff = similar::TextDiff::from_lines(&expected, &actual);
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string();
    for line in unified.lines() {
        let styled = if line.starts_with("---") || line.starts_with("+++") {
            p.paint(BOLD, line)
        } else if line.starts_with('-') {
            p.paint(RED, line)
        } else if line.starts_with('+') {
            p.paint(GREEN, line)
        } else if line.starts_with("@@") {
            p.paint(DIM, line)
        } else {
            line.to_string()
        };
        let _ = writeln!(out, "      {styled}");
    }
}

fn is_structured(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Array(_))
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Body;

    #[test]
    fn control_characters_a_server_sends_are_shown_not_obeyed() {
        assert_eq!(
            crate::report::visible("plain\ttext\nnext"),
            "plain\ttext\nnext"
        );
        assert_eq!(
            crate::report::visible("\u{1b}[2Jgone\r"),
            "\\u{1b}[2Jgone\\u{d}"
        );
        let body = Body::Text("\u{1b}[31mred\u{1b}[0m".into());
        assert_eq!(body.shown(BODY_LIMIT), "\\u{1b}[31mred\\u{1b}[0m");
    }
}
