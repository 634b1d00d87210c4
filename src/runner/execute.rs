//! Running one scenario: its steps in order, each a request built from
//! the scenario's variables, checked against the spec and the step's
//! expectations, polled or retried where the step says so, and its
//! captures kept for the steps after it. The first failing step ends the
//! scenario; the steps after it are reported as skipped.

use super::http::{HttpClient, Incoming, Outgoing, TransportError};
use super::target::Target;
use super::{assert, capture, conformance};
use crate::report::{
    Body, Check, Failure, Outcome, RequestReport, ResponseReport, ScenarioReport, StepReport,
};
use crate::scenario::variables::{VarError, Variables, redact};
use crate::scenario::{Poll, RequestBody, RequestTemplate, Scenario, SnapshotStep, Step};
use crate::snapshot;
use crate::spec::Api;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The pause before a retry (`retries:`), in real time.
const RETRY_DELAY: Duration = Duration::from_millis(200);
/// Text bodies longer than this are cut in reports.
const REPORT_BODY_LIMIT: usize = 64 * 1024;

/// What every scenario of a run shares.
pub struct RunContext {
    pub client: HttpClient,
    pub env: Arc<HashMap<String, String>>,
    pub cli_vars: Vec<(String, Value)>,
    /// `--mock-var`: fixture variables for every scenario's mock session,
    /// over the scenarios' own `mock_vars`.
    pub mock_vars: Vec<(String, Value)>,
    pub request_timeout: Duration,
    pub scenario_timeout: Duration,
    /// Polls against a mock move its clock instead of waiting.
    pub virtual_clock: bool,
    pub snapshots: snapshot::Settings,
    /// Keep every response, normalised and redacted, in its step's report
    /// (for `diff`), instead of checking snapshot files.
    pub observe: bool,
}

/// Why a scenario could not start.
#[derive(Debug, thiserror::Error)]
enum SetupError {
    #[error("var `{name}`: {error}")]
    Var { name: String, error: VarError },
    #[error("the mock refused the scenario's mock_vars ({status}): {body}")]
    MockVarsRefused { status: u16, body: String },
    #[error("the mock's admin API did not answer: {0}")]
    AdminSilent(String),
}

impl SetupError {
    /// Whether the scenario cannot run here at all (exit 2).
    fn is_unusable_input(&self) -> bool {
        match self {
            SetupError::Var { error, .. } => error.is_unusable_input(),
            SetupError::MockVarsRefused { .. } | SetupError::AdminSilent(_) => true,
        }
    }
}

/// Why a step's request could not be built.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("method `{method}`: {error}")]
    Method {
        method: String,
        error: hyper::http::method::InvalidMethod,
    },
    #[error(transparent)]
    Var(#[from] VarError),
}

/// One scenario's own surroundings.
pub struct ScenarioPlace<'a> {
    pub target: &'a Target,
    pub api: &'a Api,
    /// The mock session (and the basis of `${run_id}`).
    pub session: String,
    pub run_id: String,
    pub file: &'a Path,
    /// Fields the API's fixture generates (ids, times): hidden in snapshots.
    pub generated: &'a [String],
}

pub async fn run_scenario(
    ctx: &RunContext,
    place: &ScenarioPlace<'_>,
    scenario: &Scenario,
) -> ScenarioReport {
    let started = Instant::now();
    let mut vars = Variables::new(ctx.env.clone());
    vars.set("run_id", Value::String(place.run_id.clone()));
    vars.set("base_url", Value::String(place.target.base.clone()));
    let mut steps: Vec<StepReport> = Vec::new();
    let mut error = None;
    let mut setup = define_vars(&mut vars, scenario, &ctx.cli_vars);
    if setup.is_ok() && place.target.is_mock() {
        setup = set_mock_vars(ctx, place, scenario).await;
    }
    let mut unusable = false;
    match setup {
        Err(problem) => {
            unusable = problem.is_unusable_input();
            error = Some(problem.to_string());
        }
        Ok(()) => {
            let limit = scenario.timeout.unwrap_or(ctx.scenario_timeout);
            let all = async {
                for (index, step) in scenario.steps.iter().enumerate() {
                    let report = run_step(ctx, place, &mut vars, scenario, index, step).await;
                    let passed = report.outcome == Outcome::Passed;
                    steps.push(report);
                    // `diff` compares every step: a status that differs
                    // from the recording is a difference to show, not a
                    // reason to stop (a step whose variables went missing
                    // still stops).
                    let go_on = passed || (ctx.observe && scenario_can_go_on(&steps));
                    if !go_on {
                        break;
                    }
                }
            };
            if tokio::time::timeout(limit, all).await.is_err() {
                error = Some(format!(
                    "the scenario did not finish within {} ms (`timeout:` or --scenario-timeout)",
                    limit.as_millis()
                ));
            }
        }
    }
    for step in scenario.steps.iter().skip(steps.len()) {
        steps.push(step_report(step, Outcome::Skipped));
    }
    if place.target.is_mock() {
        // The session's state is of no further use; free it.
        let reset = place
            .target
            .admin(hyper::Method::POST, "reset", &place.session, "");
        let _ = ctx.client.send(&reset, ctx.request_timeout).await;
    }
    let outcome = if unusable || steps.iter().any(|s| s.outcome == Outcome::Error) {
        Outcome::Error
    } else if error.is_some() || steps.iter().any(|s| s.outcome == Outcome::Failed) {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    let secrets = vars.secrets().to_vec();
    let steps = steps
        .into_iter()
        .map(|s| redact_step(s, &secrets))
        .collect();
    ScenarioReport {
        name: scenario.name.clone(),
        api: place.target.label.clone(),
        file: place.file.display().to_string(),
        line: scenario.at.line,
        tags: scenario.tags.clone(),
        outcome,
        duration_ms: started.elapsed().as_millis() as u64,
        steps,
        error,
    }
}

/// Whether the steps so far leave the next one something to work with:
/// a step that errored (a variable it needed was missing) ends it.
fn scenario_can_go_on(steps: &[StepReport]) -> bool {
    steps.last().is_none_or(|s| s.outcome != Outcome::Error)
}

/// Gives the scenario's session its `mock_vars` (with `--mock-var` over
/// them), so the mock answers as the version of the API they name.
async fn set_mock_vars(
    ctx: &RunContext,
    place: &ScenarioPlace<'_>,
    scenario: &Scenario,
) -> Result<(), SetupError> {
    let mut wanted = scenario.mock_vars.clone();
    for (name, value) in &ctx.mock_vars {
        wanted.insert(name.clone(), value.clone());
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let body = serde_json::Value::Object(wanted).to_string();
    let request = place
        .target
        .admin(hyper::Method::PUT, "vars", &place.session, &body);
    match ctx.client.send(&request, ctx.request_timeout).await {
        Ok(answer) if answer.status == 200 => Ok(()),
        Ok(answer) => Err(SetupError::MockVarsRefused {
            status: answer.status,
            body: String::from_utf8_lossy(&answer.body).into_owned(),
        }),
        Err(e) => Err(SetupError::AdminSilent(e.to_string())),
    }
}

/// A step's report before anything is sent.
fn step_report(step: &Step, outcome: Outcome) -> StepReport {
    StepReport {
        name: step.name.clone(),
        line: step.at.line,
        outcome,
        duration_ms: 0,
        attempts: 0,
        request: None,
        response: None,
        failures: Vec::new(),
        notes: Vec::new(),
        seen: None,
    }
}

/// The scenario's `vars` in order; a `--var` of the same name wins.
fn define_vars(
    vars: &mut Variables,
    scenario: &Scenario,
    cli: &[(String, Value)],
) -> Result<(), SetupError> {
    for (name, value) in &scenario.vars {
        if cli.iter().any(|(n, _)| n == name) {
            continue;
        }
        let value = vars.fill(value).map_err(|error| SetupError::Var {
            name: name.clone(),
            error,
        })?;
        vars.set(name, value);
    }
    for (name, value) in cli {
        vars.set(name, value.clone());
    }
    Ok(())
}

async fn run_step(
    ctx: &RunContext,
    place: &ScenarioPlace<'_>,
    vars: &mut Variables,
    scenario: &Scenario,
    index: usize,
    step: &Step,
) -> StepReport {
    let started = Instant::now();
    let mut report = step_report(step, Outcome::Passed);
    let outgoing = match build_request(place, vars, &scenario.headers, &step.request) {
        Ok(o) => o,
        Err(problem) => {
            report
                .failures
                .push(Failure::new(Check::Request, problem.to_string()));
            report.outcome = match &problem {
                RequestError::Var(e) if !e.is_unusable_input() => Outcome::Failed,
                _ => Outcome::Error,
            };
            return report;
        }
    };
    report.request = Some(request_report(&outgoing));
    let timeout = step.timeout.unwrap_or(ctx.request_timeout);
    // Whether the scenario itself, not the server, stopped the step.
    let mut unusable = false;
    let mut round = 0;
    let response = loop {
        round += 1;
        let mut exchange = Exchange::default();
        let response = match &step.until {
            Some(poll) => {
                poll_until(ctx, place, vars, &outgoing, poll, timeout, &mut exchange).await
            }
            None => send_checked(ctx, place, &outgoing, timeout, &mut exchange).await,
        };
        if let Some(response) = &response {
            match step.expect.filled(vars) {
                Ok(expect) => exchange.add_all(assert::check(&expect, response)),
                Err(why) => {
                    exchange.unusable |= why.is_unusable_input();
                    exchange.add(Failure::new(Check::Expect, why.to_string()));
                }
            }
        }
        report.attempts += exchange.attempts;
        unusable |= exchange.unusable;
        report.response = exchange.response.take();
        report.notes = exchange.notes;
        report.failures = exchange.failures;
        let unreachable = report.failures.iter().any(|f| f.check == Check::Transport);
        if report.failures.is_empty() || round > step.retries || unreachable {
            break response;
        }
        tokio::time::sleep(RETRY_DELAY).await;
    };
    if let (true, Some(response)) = (report.failures.is_empty(), &response) {
        for c in &step.captures {
            match capture::take(c, response) {
                Ok(value) => vars.set(&c.name, value),
                Err(why) => report.failures.push(Failure::new(
                    Check::Capture(c.name.clone()),
                    why.to_string(),
                )),
            }
        }
    }
    if let (true, Some(response)) = (ctx.observe, &response) {
        let redactions = redactions(place, vars, None);
        report.seen = Some(response.as_snapshot(&[], &redactions));
    } else if let (true, Some(wanted), Some(response)) =
        (report.failures.is_empty(), &step.snapshot, &response)
    {
        let request = format!("{} {}", step.request.method, step.request.path);
        let number = (index + 1).to_string();
        let key = snapshot::Key {
            api: &place.target.label,
            file: place.file,
            scenario: &scenario.name,
            step: wanted.name.as_deref().unwrap_or(&number),
            request: &request,
        };
        let (failure, note) = compare_snapshot(ctx, place, vars, wanted, &key, response);
        report.failures.extend(failure);
        report.notes.extend(note);
    }
    report.outcome = if unusable || report.failures.iter().any(|f| f.check == Check::Transport) {
        Outcome::Error
    } else if report.failures.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed
    };
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

/// Checks a response against its snapshot: a failure, a note, or neither.
fn compare_snapshot(
    ctx: &RunContext,
    place: &ScenarioPlace<'_>,
    vars: &Variables,
    wanted: &SnapshotStep,
    key: &snapshot::Key<'_>,
    response: &Incoming,
) -> (Option<Failure>, Option<String>) {
    let redactions = redactions(place, vars, Some(wanted));
    let contents = response.as_snapshot(&wanted.headers, &redactions);
    let review = "review with `cargo insta review`, or run again with --accept";
    match snapshot::check(&ctx.snapshots, key, &contents) {
        snapshot::Verdict::Matched => (None, None),
        snapshot::Verdict::Accepted { path } => {
            (None, Some(format!("snapshot written: {}", path.display())))
        }
        snapshot::Verdict::New { pending } if ctx.snapshots.ci => (
            Some(Failure::new(
                Check::Snapshot,
                format!(
                    "no snapshot yet; under CI a new one fails (proposed: {}; {review})",
                    pending.display()
                ),
            )),
            None,
        ),
        snapshot::Verdict::New { pending } => (
            None,
            Some(format!("new snapshot: {} ({review})", pending.display())),
        ),
        snapshot::Verdict::Changed {
            path,
            pending,
            stored,
        } => (
            Some(
                Failure::new(
                    Check::Snapshot,
                    format!(
                        "differs from {} (new one: {}; {review})",
                        path.display(),
                        pending.display()
                    ),
                )
                .with_values(Some(Value::String(stored)), Some(Value::String(contents))),
            ),
            None,
        ),
        snapshot::Verdict::Broken(why) => (Some(Failure::new(Check::Snapshot, why)), None),
    }
}

/// What varies between runs and must not show in a snapshot or a diff.
fn redactions(
    place: &ScenarioPlace<'_>,
    vars: &Variables,
    wanted: Option<&SnapshotStep>,
) -> snapshot::Redactions {
    let mut redactions = snapshot::Redactions {
        fields: place.generated.to_vec(),
        pointers: Vec::new(),
        literals: vec![
            (place.target.base.clone(), "[base_url]".into()),
            // A mock's messages may name the scenario's session.
            (place.session.clone(), "[session]".into()),
            (place.run_id.clone(), "[run_id]".into()),
        ],
    };
    if let Some(wanted) = wanted {
        redactions
            .fields
            .extend(wanted.redact_fields.iter().cloned());
        redactions.pointers = wanted.redact_pointers.clone();
    }
    // A value from the environment is hidden; one that is an id (a server
    // or customer id) is hidden as the id it is, so a snapshot taken with
    // the mock's seed id and one taken with a real account's id agree.
    redactions
        .literals
        .extend(vars.secrets().iter().map(|secret| {
            let placeholder = if crate::behaviour::uuid_text::canonical(secret).is_some() {
                "[uuid]"
            } else {
                "[secret]"
            };
            (secret.clone(), placeholder.to_string())
        }));
    redactions
}

/// What one round of a step saw: findings are collected without repeats,
/// since a poll sees the same problem on every try.
#[derive(Default)]
struct Exchange {
    attempts: u32,
    response: Option<ResponseReport>,
    failures: Vec<Failure>,
    notes: Vec<String>,
    /// A failure came from the scenario, not the answer (exit 2).
    unusable: bool,
}

impl Exchange {
    fn add(&mut self, failure: Failure) {
        if !self
            .failures
            .iter()
            .any(|f| f.check == failure.check && f.message == failure.message)
        {
            self.failures.push(failure);
        }
    }

    fn add_all(&mut self, failures: Vec<Failure>) {
        for f in failures {
            self.add(f);
        }
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// Sends once and checks the response against the spec.
async fn send_checked(
    ctx: &RunContext,
    place: &ScenarioPlace<'_>,
    outgoing: &Outgoing,
    timeout: Duration,
    exchange: &mut Exchange,
) -> Option<Incoming> {
    exchange.attempts += 1;
    match ctx.client.send(outgoing, timeout).await {
        Ok(response) => {
            let found = conformance::check(place.api, &outgoing.method, &outgoing.path, &response);
            exchange.add_all(found.failures);
            for note in found.notes {
                exchange.note(note);
            }
            exchange.response = Some(response_report(&response, found.operation));
            Some(response)
        }
        Err(TransportError::Timeout(limit)) => {
            exchange.add(Failure::new(
                Check::Timeout,
                format!("no answer within {} ms", limit.as_millis()),
            ));
            None
        }
        Err(other) => {
            exchange.add(Failure::new(Check::Transport, other.to_string()));
            None
        }
    }
}

/// Repeats the request until the condition holds or the poll's time is up.
/// Against a mock the wait is virtual: the session's clock moves on.
async fn poll_until(
    ctx: &RunContext,
    place: &ScenarioPlace<'_>,
    vars: &mut Variables,
    outgoing: &Outgoing,
    poll: &Poll,
    timeout: Duration,
    exchange: &mut Exchange,
) -> Option<Incoming> {
    let virtual_clock = ctx.virtual_clock && place.target.is_mock();
    let real_start = Instant::now();
    let mut waited = Duration::ZERO;
    // Variables do not change while polling: filled in once.
    let condition = poll.condition.filled(vars);
    loop {
        let response = send_checked(ctx, place, outgoing, timeout, exchange).await?;
        let condition = match &condition {
            Ok(c) => c,
            Err(why) => {
                exchange.unusable |= why.is_unusable_input();
                exchange.add(Failure::new(Check::Expect, why.to_string()));
                return Some(response);
            }
        };
        let unmet = assert::check(condition, &response);
        let Some(first) = unmet.first() else {
            return Some(response);
        };
        let elapsed = if virtual_clock {
            waited
        } else {
            real_start.elapsed()
        };
        if elapsed >= poll.timeout {
            exchange.add(Failure::new(
                Check::Until,
                format!(
                    "the condition did not hold within {} ms ({} tries{}); last try: {} {}",
                    poll.timeout.as_millis(),
                    exchange.attempts,
                    if virtual_clock { ", virtual clock" } else { "" },
                    first.check,
                    first.message
                ),
            ));
            return Some(response);
        }
        if virtual_clock {
            let body = format!("{{\"advance\": \"{}ms\"}}", poll.interval.as_millis());
            let advance = place
                .target
                .admin(hyper::Method::POST, "clock", &place.session, &body);
            if let Err(e) = ctx.client.send(&advance, ctx.request_timeout).await {
                exchange.add(Failure::new(
                    Check::Transport,
                    format!("moving the mock's clock: {e}"),
                ));
                return Some(response);
            }
            waited += poll.interval;
        } else {
            tokio::time::sleep(poll.interval).await;
        }
    }
}

fn build_request(
    place: &ScenarioPlace<'_>,
    vars: &mut Variables,
    defaults: &[(String, String)],
    template: &RequestTemplate,
) -> Result<Outgoing, RequestError> {
    let method = hyper::Method::from_bytes(template.method.as_bytes()).map_err(|error| {
        RequestError::Method {
            method: template.method.clone(),
            error,
        }
    })?;
    let path = vars.fill_string(&template.path)?;
    let mut url = format!("{}{path}", place.target.base);
    let mut separator = if path.contains('?') { '&' } else { '?' };
    for (name, value) in &template.query {
        let values = match vars.fill(value)? {
            Value::Array(items) => items,
            one => vec![one],
        };
        for value in values {
            let text = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            url.push(separator);
            separator = '&';
            url.push_str(&encode(name));
            url.push('=');
            url.push_str(&encode(&text));
        }
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let defaults = defaults.iter().map(|(n, v)| (n, Some(v)));
    let own = template.headers.iter().map(|(n, v)| (n, v.as_ref()));
    for (name, value) in defaults.chain(own) {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if let Some(value) = value {
            headers.push((name.to_ascii_lowercase(), vars.fill_string(value)?));
        }
    }
    if let Some(header) = &place.target.session_header {
        headers.push((header.clone(), place.session.clone()));
    }
    let body = match &template.body {
        None => None,
        Some(RequestBody::Json(json)) => {
            if !headers.iter().any(|(n, _)| n == "content-type") {
                headers.push(("content-type".into(), "application/json".into()));
            }
            Some(bytes::Bytes::from(vars.fill(json)?.to_string()))
        }
        Some(RequestBody::Text(text)) => Some(bytes::Bytes::from(vars.fill_string(text)?)),
    };
    let route_path = path.split('?').next().unwrap_or_default().to_string();
    Ok(Outgoing {
        method,
        url,
        path: route_path,
        headers,
        body,
    })
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY).to_string()
}

/// Everything but unreserved characters (RFC 3986) is escaped in a query value.
const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn request_report(outgoing: &Outgoing) -> RequestReport {
    RequestReport {
        method: outgoing.method.to_string(),
        url: outgoing.url.clone(),
        headers: outgoing.headers.clone(),
        body: outgoing.body.as_ref().map(|b| body_report(b)),
    }
}

fn response_report(response: &Incoming, operation: Option<String>) -> ResponseReport {
    ResponseReport {
        status: response.status,
        headers: response.header_pairs(),
        body: (!response.body.is_empty()).then(|| match &response.json {
            Some(json) => Body::Json(json.clone()),
            None => body_report(&response.body),
        }),
        operation,
    }
}

fn body_report(bytes: &[u8]) -> Body {
    if let Ok(json) = serde_json::from_slice::<Value>(bytes) {
        return Body::Json(json);
    }
    let text = String::from_utf8_lossy(bytes);
    if text.len() > REPORT_BODY_LIMIT {
        let mut cut = REPORT_BODY_LIMIT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        Body::Text(format!("{}… ({} bytes in all)", &text[..cut], text.len()))
    } else {
        Body::Text(text.into_owned())
    }
}

/// The step with every secret blanked out of every string in it.
fn redact_step(step: StepReport, secrets: &[String]) -> StepReport {
    if secrets.is_empty() {
        return step;
    }
    let redacted = serde_json::to_value(&step)
        .and_then(|value| serde_json::from_value(redact_value(value, secrets)));
    // The model is plain data and always round-trips; were it ever not to,
    // the exchange is dropped rather than shown with a secret in it.
    redacted.unwrap_or_else(|_| StepReport {
        request: None,
        response: None,
        failures: Vec::new(),
        notes: Vec::new(),
        ..step
    })
}

fn redact_value(value: Value, secrets: &[String]) -> Value {
    match value {
        Value::String(s) => Value::String(redact(&s, secrets)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| redact_value(v, secrets))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (redact(&k, secrets), redact_value(v, secrets)))
                .collect(),
        ),
        other => other,
    }
}
