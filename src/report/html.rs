//! The HTML report: one self-contained file a person opens in a browser
//! (from CI artifacts, without a server). For `run`, each scenario and its
//! steps, the request and the response side by side, and each failed check
//! with expected beside actual; for `diff`, each step that drifted with the
//! two responses side by side and the content diff. Failures are open,
//! passes folded. Everything a server sent is escaped: a report never runs
//! what a response contains.

use super::{Failure, Outcome, Report, ScenarioReport, StepReport};
use crate::runner::drift::{Difference, Drift};
use serde_json::Value;
use std::fmt::Write;

/// Bodies longer than this are cut in the page (the JSON report keeps them).
const BODY_LIMIT: usize = 100_000;

const STYLE: &str = r#"
:root { --line: #d0d7de; --dim: #656d76; --pass: #1a7f37; --fail: #cf222e; --skip: #8c959f; --note: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px 48px; font: 14px/1.45 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; }
h1 { font-size: 20px; margin: 0 0 4px; }
.summary { margin: 0 0 4px; font-size: 15px; }
.dim { color: var(--dim); font-weight: normal; }
details { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details details { margin: 6px 0; border-color: #e6e9ed; }
summary { cursor: pointer; padding: 6px 10px; }
.content { padding: 0 12px 10px; }
.badge { display: inline-block; min-width: 58px; text-align: center; border-radius: 10px; padding: 0 8px;
         font-size: 12px; font-weight: 600; color: #fff; margin-right: 6px; }
.passed > summary .badge { background: var(--pass); } .failed > summary .badge, .error > summary .badge { background: var(--fail); }
.skipped > summary .badge { background: var(--skip); } .drift > summary .badge { background: #9a6700; }
.sides { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 10px; }
.sides h4 { margin: 6px 0 2px; font-size: 12px; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; }
pre { margin: 0; padding: 8px; background: #f6f8fa; border: 1px solid #e6e9ed; border-radius: 4px; overflow: auto;
      max-height: 480px; font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
.failure { border-left: 3px solid var(--fail); padding: 4px 0 4px 10px; margin: 8px 0; }
.failure .what { font-weight: 600; }
.notes { color: var(--note); margin: 6px 0; padding-left: 18px; }
.error-text { color: var(--fail); white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
.add { color: var(--pass); background: #dafbe1; display: block; } .del { color: var(--fail); background: #ffebe9; display: block; }
.hunk { color: var(--note); display: block; }
ul.differences { margin: 6px 0; padding-left: 18px; }
"#;

/// The report of `understudy run`.
pub fn run(report: &Report) -> String {
    let s = report.summary();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>understudy run</h1><p class=\"summary\">{} passed · {} failed · {} could not run · {} steps · {} notes</p>",
        s.passed, s.failed, s.errors, s.steps, s.notes
    );
    body.push_str(&run_facts(report));
    for scenario in &report.scenarios {
        body.push_str(&scenario_section(scenario));
    }
    page("understudy run", &body)
}

/// The report of `understudy diff`: `left` and `right` are the two runs,
/// named by `left_side` and `right_side`.
pub fn diff(
    left: &Report,
    right: &Report,
    drift: &Drift,
    left_side: &str,
    right_side: &str,
) -> String {
    let mut body = String::new();
    let verdict = match drift.differing_steps() {
        0 => "no drift".to_string(),
        1 => "1 step differs".to_string(),
        n => format!("{n} steps differ"),
    };
    let _ = write!(
        body,
        "<h1>understudy diff</h1><p class=\"summary\">{} steps compared: {}</p><p class=\"dim\">left: {}<br>right: {}</p>",
        drift.compared,
        escape(&verdict),
        escape(left_side),
        escape(right_side)
    );
    for scenario in &drift.scenarios {
        let find = |report: &'_ Report| -> Option<ScenarioReport> {
            report
                .scenarios
                .iter()
                .find(|s| s.file == scenario.file && s.name == scenario.name)
                .cloned()
        };
        let (l, r) = (find(left), find(right));
        let _ = write!(
            body,
            "<details class=\"scenario drift\" open><summary><span class=\"badge\">drift</span>{} › {} <span class=\"dim\">{}</span></summary><div class=\"content\">",
            escape(&scenario.api),
            escape(&scenario.name),
            escape(&scenario.file)
        );
        for step in &scenario.steps {
            let line = step
                .line
                .map(|l| format!(" · line {l}"))
                .unwrap_or_default();
            let _ = write!(
                body,
                "<details class=\"step drift\" open><summary><span class=\"badge\">drift</span>{}<span class=\"dim\">{line}</span></summary><div class=\"content\"><ul class=\"differences\">",
                escape(&step.name)
            );
            for difference in &step.differences {
                let _ = write!(body, "<li>{}</li>", escape(&difference.headline()));
            }
            body.push_str("</ul>");
            for difference in &step.differences {
                if let Difference::Content { diff } = difference {
                    body.push_str(&unified_diff(diff));
                }
            }
            let same_step = |scenario: &Option<ScenarioReport>| {
                scenario.as_ref().and_then(|s| {
                    s.steps
                        .iter()
                        .find(|st| st.name == step.name && st.line == step.line)
                        .cloned()
                })
            };
            body.push_str("<div class=\"sides\">");
            for (side, found) in [("left", same_step(&l)), ("right", same_step(&r))] {
                let _ = write!(body, "<div><h4>{side}: response</h4>");
                match found.as_ref().and_then(|s| s.response.as_ref()) {
                    Some(_) => body.push_str(&response_block(found.as_ref())),
                    None => body.push_str("<pre>(no response)</pre>"),
                }
                body.push_str("</div>");
            }
            body.push_str("</div></div></details>");
        }
        body.push_str("</div></details>");
    }
    page("understudy diff", &body)
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

fn run_facts(report: &Report) -> String {
    let mut facts = Vec::new();
    if let Some(at) = &report.started_at {
        facts.push(format!("started {}", escape(at)));
    }
    facts.push(format!("took {} ms", report.duration_ms));
    for target in &report.targets {
        facts.push(format!(
            "{} at {} ({})",
            escape(&target.api),
            escape(&target.url),
            escape(&target.kind)
        ));
    }
    format!("<p class=\"dim\">{}</p>", facts.join(" · "))
}

fn outcome_class(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Error => "error",
        Outcome::Skipped => "skipped",
    }
}

fn scenario_section(scenario: &ScenarioReport) -> String {
    let class = outcome_class(scenario.outcome);
    let open = if matches!(scenario.outcome, Outcome::Failed | Outcome::Error) {
        " open"
    } else {
        ""
    };
    let place = match scenario.line {
        Some(line) => format!("{}:{line}", scenario.file),
        None => scenario.file.clone(),
    };
    let tags = if scenario.tags.is_empty() {
        String::new()
    } else {
        format!(" · tags {}", scenario.tags.join(", "))
    };
    let mut out = format!(
        "<details class=\"scenario {class}\"{open}><summary><span class=\"badge\">{class}</span>{} › {} <span class=\"dim\">{} · {} ms{}</span></summary><div class=\"content\">",
        escape(&scenario.api),
        escape(&scenario.name),
        escape(&place),
        scenario.duration_ms,
        escape(&tags)
    );
    if let Some(error) = &scenario.error {
        let _ = write!(
            out,
            "<p class=\"error-text\">{}</p>",
            escape(&super::visible(error))
        );
    }
    for step in &scenario.steps {
        out.push_str(&step_section(step));
    }
    out.push_str("</div></details>\n");
    out
}

fn step_section(step: &StepReport) -> String {
    let class = outcome_class(step.outcome);
    let open = if matches!(step.outcome, Outcome::Failed | Outcome::Error) {
        " open"
    } else {
        ""
    };
    let mut facts = Vec::new();
    if let Some(line) = step.line {
        facts.push(format!("line {line}"));
    }
    if let Some(response) = &step.response {
        facts.push(format!("status {}", response.status));
    }
    if step.attempts > 1 {
        facts.push(format!("{} attempts", step.attempts));
    }
    facts.push(format!("{} ms", step.duration_ms));
    let mut out = format!(
        "<details class=\"step {class}\"{open}><summary><span class=\"badge\">{class}</span>{} <span class=\"dim\">{}</span></summary><div class=\"content\">",
        escape(&step.name),
        escape(&facts.join(" · "))
    );
    for failure in &step.failures {
        out.push_str(&failure_block(failure));
    }
    if !step.notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for note in &step.notes {
            let _ = write!(out, "<li>{}</li>", escape(&super::visible(note)));
        }
        out.push_str("</ul>");
    }
    if step.request.is_some() || step.response.is_some() {
        out.push_str("<div class=\"sides\"><div><h4>request</h4>");
        out.push_str(&request_block(step));
        out.push_str("</div><div><h4>response</h4>");
        out.push_str(&response_block(Some(step)));
        out.push_str("</div></div>");
    }
    out.push_str("</div></details>");
    out
}

fn failure_block(failure: &Failure) -> String {
    let line = failure
        .line
        .map(|l| format!(" (line {l})"))
        .unwrap_or_default();
    let mut out = format!(
        "<div class=\"failure\"><div><span class=\"what\">{}</span>{line}: {}</div>",
        escape(&failure.check.to_string()),
        escape(&super::visible(&failure.message))
    );
    if failure.expected.is_some() || failure.actual.is_some() {
        out.push_str("<div class=\"sides\">");
        for (label, value) in [("expected", &failure.expected), ("actual", &failure.actual)] {
            let text = value.as_ref().map_or_else(|| "(none)".to_string(), shown);
            let _ = write!(
                out,
                "<div><h4>{label}</h4><pre>{}</pre></div>",
                escape(&text)
            );
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
    out
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => super::visible(text).into_owned(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn request_block(step: &StepReport) -> String {
    match &step.request {
        Some(request) => message_block(
            format!("{} {}", request.method, request.url),
            &request.headers,
            request.body.as_ref(),
        ),
        None => "<pre>(no request was sent)</pre>".to_string(),
    }
}

fn response_block(step: Option<&StepReport>) -> String {
    let Some(response) = step.and_then(|s| s.response.as_ref()) else {
        return "<pre>(no response)</pre>".to_string();
    };
    let first = match &response.operation {
        Some(operation) => format!("{} ({operation})", response.status),
        None => response.status.to_string(),
    };
    message_block(first, &response.headers, response.body.as_ref())
}

/// An HTTP message as text: its first line, headers, then the body.
fn message_block(
    first: String,
    headers: &[(String, String)],
    body: Option<&super::Body>,
) -> String {
    let mut text = first;
    text.push('\n');
    for (name, value) in headers {
        let _ = writeln!(text, "{name}: {value}");
    }
    if let Some(body) = body {
        text.push('\n');
        text.push_str(&body.shown(BODY_LIMIT));
    }
    format!("<pre>{}</pre>", escape(&super::visible(&text)))
}

/// A unified diff with its added and removed lines marked.
fn unified_diff(diff: &str) -> String {
    let mut out = String::from("<pre class=\"diff\">");
    for line in diff.lines() {
        let class = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => "add",
            Some(b'-') if !line.starts_with("---") => "del",
            Some(b'@') => "hunk",
            _ => "",
        };
        let text = escape(&super::visible(line));
        if class.is_empty() {
            let _ = writeln!(out, "{text}");
        } else {
            let _ = write!(out, "<span class=\"{class}\">{text}</span>");
        }
    }
    out.push_str("</pre>");
    out
}

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Body, Check, RequestReport, ResponseReport};
    use serde_json::json;

    fn report() -> Report {
        let step = |name: &str, outcome: Outcome, failures: Vec<Failure>| StepReport {
            name: name.into(),
            line: Some(7),
            outcome,
            duration_ms: 3,
            attempts: 1,
            request: Some(RequestReport {
                method: "POST".into(),
                url: "http://127.0.0.1:4010/v2/projects".into(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: Some(Body::Json(
                    json!({"description": "<script>alert(1)</script>"}),
                )),
            }),
            response: Some(ResponseReport {
                status: 201,
                headers: vec![],
                body: Some(Body::Text("\u{1b}[31mred</pre>".into())),
                operation: Some("project-create-project".into()),
            }),
            failures,
            notes: vec!["undocumented 201".into()],
            seen: None,
        };
        let failure = Failure::new(Check::Status, "expected 200, got 201")
            .with_values(Some(json!(200)), Some(json!(201)));
        Report {
            format: 1,
            started_at: Some("2026-11-30T12:00:00Z".into()),
            duration_ms: 12,
            targets: vec![],
            scenarios: vec![ScenarioReport {
                name: "create & <read>".into(),
                api: "mittwald".into(),
                file: "scenarios/m.yaml".into(),
                line: Some(1),
                tags: vec!["happy".into()],
                outcome: Outcome::Failed,
                duration_ms: 5,
                steps: vec![
                    step("create", Outcome::Failed, vec![failure]),
                    step("read", Outcome::Passed, vec![]),
                ],
                error: None,
            }],
        }
    }

    #[test]
    fn what_a_server_sent_is_shown_never_run() {
        let page = run(&report());
        assert!(!page.contains("<script>alert"), "a body is escaped");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("red</pre>"), "a body cannot close its block");
        assert!(page.contains("\\u{1b}[31m"), "control characters shown");
        assert!(page.contains("create &amp; &lt;read&gt;"));
    }

    #[test]
    fn a_run_report_in_html() {
        insta::assert_snapshot!(run(&report()));
    }

    #[test]
    fn a_drift_report_shows_both_sides_and_the_diff() {
        let left = report();
        let mut right = report();
        right.scenarios[0].steps[0]
            .response
            .as_mut()
            .expect("a response")
            .status = 200;
        let drift = Drift {
            scenarios: vec![crate::runner::drift::ScenarioDrift {
                name: left.scenarios[0].name.clone(),
                api: "mittwald".into(),
                file: "scenarios/m.yaml".into(),
                steps: vec![crate::runner::drift::StepDrift {
                    name: "create".into(),
                    line: Some(7),
                    differences: vec![
                        Difference::Status {
                            left: 201,
                            right: 200,
                        },
                        Difference::Content {
                            diff: "--- left\n+++ right\n@@ -1 +1 @@\n-a: 1\n+a: 2\n".into(),
                        },
                    ],
                }],
            }],
            compared: 2,
        };
        let page = diff(&left, &right, &drift, "mittwald mock", "mittwald staging");
        assert!(page.contains("status: left 201, right 200"));
        assert!(page.contains("<span class=\"del\">-a: 1</span>"));
        assert!(page.contains("<span class=\"add\">+a: 2</span>"));
        assert_eq!(page.matches("<h4>left: response</h4>").count(), 1);
        assert!(page.contains("<pre>200 (project-create-project)"));
        insta::assert_snapshot!(page);
    }
}
