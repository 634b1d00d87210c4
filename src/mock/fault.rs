//! Deliberate misbehaviour: one contract-breaking fault per mutant (for
//! `understudy mutate` and `serve --mutant`), and random chaos for
//! `serve --fault` and `--latency`.
//!
//! A fault acts at one of three places, whichever is the smallest change
//! that produces it: the fixture (a refusal rule or a unique guard taken
//! out, readiness never reached), a pipeline switch (validation or
//! authentication skipped), or the finished reply (status, body fields,
//! error wording, page headers).

use super::reply::Reply;
use crate::behaviour::Fixture;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::time::Duration;

/// One way an implementation can break the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Success answers of the operation get another status.
    WrongStatus { operation: String, status: u16 },
    /// A required field is missing from success answers.
    DropField { operation: String, field: String },
    /// A field has a value of another JSON type.
    WrongType { operation: String, field: String },
    /// A field with a `format` holds text that is not of that format.
    BadFormat { operation: String, field: String },
    /// A field with an `enum` holds a value outside it.
    OutsideEnum { operation: String, field: String },
    /// A field the schema does not allow (`additionalProperties: false`).
    ExtraField { operation: String, field: String },
    /// The wording of the operation's refusals (4xx bodies) changed.
    ChangedMessage { operation: String },
    /// Invalid parameters and bodies are accepted instead of refused.
    AcceptInvalid { operation: String },
    /// A fixture rule that refuses (a conflict, a limit) never fires.
    SkipRefusal { operation: String, rule: usize },
    /// A collection's unique fields are not guarded.
    NoUnique { collection: String },
    /// Created items never become ready.
    NeverReady { collection: String },
    /// List answers carry a wrong count header and no `Link`.
    PageHeaders { operation: String },
    /// Requests without credentials are served.
    NoAuth,
}

impl Fault {
    /// A short, stable name of the fault's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::WrongStatus { .. } => "wrong-status",
            Fault::DropField { .. } => "drop-field",
            Fault::WrongType { .. } => "wrong-type",
            Fault::BadFormat { .. } => "bad-format",
            Fault::OutsideEnum { .. } => "outside-enum",
            Fault::ExtraField { .. } => "extra-field",
            Fault::ChangedMessage { .. } => "changed-message",
            Fault::AcceptInvalid { .. } => "accept-invalid",
            Fault::SkipRefusal { .. } => "skip-refusal",
            Fault::NoUnique { .. } => "no-unique",
            Fault::NeverReady { .. } => "never-ready",
            Fault::PageHeaders { .. } => "page-headers",
            Fault::NoAuth => "no-auth",
        }
    }

    /// The operation (or collection) the fault is about, if one.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Fault::WrongStatus { operation, .. }
            | Fault::DropField { operation, .. }
            | Fault::WrongType { operation, .. }
            | Fault::BadFormat { operation, .. }
            | Fault::OutsideEnum { operation, .. }
            | Fault::ExtraField { operation, .. }
            | Fault::ChangedMessage { operation }
            | Fault::AcceptInvalid { operation }
            | Fault::SkipRefusal { operation, .. }
            | Fault::PageHeaders { operation } => Some(operation),
            Fault::NoUnique { collection } | Fault::NeverReady { collection } => Some(collection),
            Fault::NoAuth => None,
        }
    }

    /// The identifier `serve --mutant` takes: `kind:subject[:detail]`.
    pub fn id(&self) -> String {
        let detail = match self {
            Fault::WrongStatus { status, .. } => Some(status.to_string()),
            Fault::DropField { field, .. }
            | Fault::WrongType { field, .. }
            | Fault::BadFormat { field, .. }
            | Fault::OutsideEnum { field, .. }
            | Fault::ExtraField { field, .. } => Some(field.clone()),
            Fault::SkipRefusal { rule, .. } => Some(rule.to_string()),
            _ => None,
        };
        [
            Some(self.kind().to_string()),
            self.subject().map(str::to_string),
            detail,
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(":")
    }

    /// Reads an identifier made by [`Fault::id`].
    pub fn parse(id: &str) -> Result<Fault, FaultError> {
        let parts: Vec<&str> = id.splitn(3, ':').collect();
        let subject = || {
            parts
                .get(1)
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
        };
        let detail = || {
            parts
                .get(2)
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
        };
        let need = |what: Option<String>| what.ok_or_else(|| FaultError::Shape(id.to_string()));
        let number = |text: String| {
            text.parse::<u16>().map_err(|_| FaultError::NotNumber {
                id: id.to_string(),
                text,
            })
        };
        Ok(match parts[0] {
            "wrong-status" => Fault::WrongStatus {
                operation: need(subject())?,
                status: number(need(detail())?)?,
            },
            "drop-field" => Fault::DropField {
                operation: need(subject())?,
                field: need(detail())?,
            },
            "wrong-type" => Fault::WrongType {
                operation: need(subject())?,
                field: need(detail())?,
            },
            "bad-format" => Fault::BadFormat {
                operation: need(subject())?,
                field: need(detail())?,
            },
            "outside-enum" => Fault::OutsideEnum {
                operation: need(subject())?,
                field: need(detail())?,
            },
            "extra-field" => Fault::ExtraField {
                operation: need(subject())?,
                field: need(detail())?,
            },
            "changed-message" => Fault::ChangedMessage {
                operation: need(subject())?,
            },
            "accept-invalid" => Fault::AcceptInvalid {
                operation: need(subject())?,
            },
            "skip-refusal" => Fault::SkipRefusal {
                operation: need(subject())?,
                rule: usize::from(number(need(detail())?)?),
            },
            "no-unique" => Fault::NoUnique {
                collection: need(subject())?,
            },
            "never-ready" => Fault::NeverReady {
                collection: need(subject())?,
            },
            "page-headers" => Fault::PageHeaders {
                operation: need(subject())?,
            },
            "no-auth" => Fault::NoAuth,
            other => {
                return Err(FaultError::NoKind {
                    id: id.to_string(),
                    kind: other.to_string(),
                });
            }
        })
    }

    /// What the fault does, in words, for reports.
    pub fn describe(&self) -> String {
        match self {
            Fault::WrongStatus { status, .. } => format!("success answers get status {status}"),
            Fault::DropField { field, .. } => format!("required field `{field}` left out"),
            Fault::WrongType { field, .. } => format!("field `{field}` of the wrong type"),
            Fault::BadFormat { field, .. } => format!("field `{field}` not of its format"),
            Fault::OutsideEnum { field, .. } => format!("field `{field}` outside its enum"),
            Fault::ExtraField { field, .. } => {
                format!("undeclared field `{field}` where none are allowed")
            }
            Fault::ChangedMessage { .. } => "refusals worded differently".into(),
            Fault::AcceptInvalid { .. } => "invalid requests accepted".into(),
            Fault::SkipRefusal { rule, .. } => format!("refusal rule {rule} never fires"),
            Fault::NoUnique { .. } => "unique fields not guarded".into(),
            Fault::NeverReady { .. } => "items never become ready".into(),
            Fault::PageHeaders { .. } => "wrong count header, no Link".into(),
            Fault::NoAuth => "credentials not required".into(),
        }
    }

    /// Applies the fault's fixture part to a freshly loaded fixture.
    pub fn apply_to_fixture(&self, fixture: &mut Fixture) {
        match self {
            Fault::SkipRefusal { operation, rule } => {
                if let Some(behaviour) = fixture.model.operations.get_mut(operation)
                    && *rule < behaviour.rules.len()
                {
                    behaviour.rules.remove(*rule);
                }
            }
            Fault::NoUnique { collection } => {
                if let Some(spec) = fixture
                    .model
                    .collections
                    .iter_mut()
                    .find(|c| c.name == *collection)
                {
                    spec.unique.clear();
                }
            }
            Fault::NeverReady { collection } => {
                if let Some(readiness) = fixture
                    .model
                    .collections
                    .iter_mut()
                    .find(|c| c.name == *collection)
                    .and_then(|c| c.readiness.as_mut())
                {
                    readiness.ready = readiness.pending.clone();
                }
            }
            _ => {}
        }
    }

    /// Whether requests to `operation` skip authentication.
    pub fn skips_auth(&self) -> bool {
        matches!(self, Fault::NoAuth)
    }

    /// Whether `operation` accepts requests with violations.
    pub fn accepts_invalid(&self, operation: &str) -> bool {
        matches!(self, Fault::AcceptInvalid { operation: o } if o == operation)
    }

    /// Changes a finished reply of `operation`; `fixture` says which
    /// headers its lists count in.
    pub fn apply_to_reply(&self, operation: &str, fixture: &Fixture, reply: &mut Reply) {
        if self.subject() != Some(operation) {
            return;
        }
        let success = (200..300).contains(&reply.status);
        match self {
            Fault::WrongStatus { status, .. } if success => reply.status = *status,
            Fault::ChangedMessage { .. } if (400..500).contains(&reply.status) => {
                edit_body(reply, reword);
            }
            Fault::PageHeaders { .. } if success => {
                let counts: Vec<String> = fixture
                    .model
                    .operations
                    .get(operation)
                    .into_iter()
                    .flat_map(|b| &b.rules)
                    .filter_map(|r| r.list.paginate.as_ref()?.count_header())
                    .map(str::to_ascii_lowercase)
                    .collect();
                reply.headers.retain(|(name, _)| name != "link");
                for (name, value) in &mut reply.headers {
                    if counts.contains(name) {
                        let n: i64 = value.parse().unwrap_or(0);
                        *value = (n + 1).to_string();
                    }
                }
            }
            Fault::DropField { field, .. } if success => {
                edit_items(reply, |item| {
                    item.remove(field);
                });
            }
            Fault::WrongType { field, .. } if success => {
                edit_items(reply, |item| {
                    if let Some(value) = item.get_mut(field) {
                        *value = other_type(value);
                    }
                });
            }
            Fault::BadFormat { field, .. } if success => {
                edit_items(reply, |item| {
                    if let Some(value) = item.get_mut(field) {
                        *value = Value::String("not-in-format ~".into());
                    }
                });
            }
            Fault::OutsideEnum { field, .. } if success => {
                edit_items(reply, |item| {
                    if let Some(value) = item.get_mut(field) {
                        *value = match value {
                            Value::Number(_) => Value::from(-987_654),
                            _ => Value::String("not-in-enum".into()),
                        };
                    }
                });
            }
            Fault::ExtraField { field, .. } if success => {
                edit_items(reply, |item| {
                    item.insert(field.clone(), Value::Bool(true));
                });
            }
            _ => {}
        }
    }
}

/// A value of another JSON type than `value`.
fn other_type(value: &Value) -> Value {
    match value {
        Value::String(_) => Value::from(12345),
        Value::Number(_) => Value::String("12345".into()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(_) => Value::Object(Map::new()),
        Value::Object(_) => Value::Array(Vec::new()),
        Value::Null => Value::from(0),
    }
}

/// Every text in an error body, reworded.
fn reword(value: &mut Value) {
    match value {
        Value::String(text) => text.push_str(" (reworded)"),
        Value::Array(items) => items.iter_mut().for_each(reword),
        Value::Object(map) => map.values_mut().for_each(reword),
        _ => {}
    }
}

fn edit_body(reply: &mut Reply, edit: impl FnOnce(&mut Value)) {
    let Ok(mut body) = serde_json::from_slice::<Value>(&reply.body) else {
        return;
    };
    edit(&mut body);
    if let Ok(bytes) = serde_json::to_vec(&body) {
        reply.body = Bytes::from(bytes);
        for (name, value) in &mut reply.headers {
            if name == "content-length" {
                *value = reply.body.len().to_string();
            }
        }
    }
}

/// Applies `edit` to the answered object, or to each object of a list.
fn edit_items(reply: &mut Reply, mut edit: impl FnMut(&mut Map<String, Value>)) {
    edit_body(reply, |body| match body {
        Value::Object(map) => edit(map),
        Value::Array(items) => {
            for item in items {
                if let Value::Object(map) = item {
                    edit(map);
                }
            }
        }
        _ => {}
    });
}

/// Random misbehaviour for trying a frontend against a flaky backend.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chaos {
    /// Answer this status instead, with this probability (0..1).
    pub statuses: Vec<(u16, f64)>,
    /// Close the connection without an answer, with this probability.
    pub reset: f64,
    /// Wait a random time in this range before answering.
    pub latency: Option<(Duration, Duration)>,
}

/// A mutant id or a `--fault` value that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("`{0}`: the mutant id is KIND:SUBJECT[:DETAIL]")]
    Shape(String),
    #[error("`{id}`: `{text}` is not a number")]
    NotNumber { id: String, text: String },
    #[error(
        "`{id}`: no fault kind `{kind}`; the kinds are wrong-status, drop-field, \
         wrong-type, bad-format, outside-enum, extra-field, changed-message, \
         accept-invalid, skip-refusal, no-unique, never-ready, page-headers, no-auth"
    )]
    NoKind { id: String, kind: String },
    #[error("`--fault {text}`: {problem}")]
    Chaos { text: String, problem: ChaosProblem },
}

/// What is wrong with a `--fault` value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChaosProblem {
    #[error("write STATUS=PERCENT% (e.g. 500=5%) or reset=PERCENT%")]
    Shape,
    #[error("`{0}` is not a percentage 0–100%")]
    NotPercentage(String),
    #[error("`{0}` is neither an HTTP status nor `reset`")]
    NotStatus(String),
    #[error("the --fault shares add up to more than 100%")]
    OverHundred,
}

impl Chaos {
    pub fn is_off(&self) -> bool {
        self.statuses.is_empty() && self.reset == 0.0 && self.latency.is_none()
    }

    /// What the chaos does, in words, for the banner: `status 500 for 10%
    /// of requests, no answer for 5%, 100ms to 2s of latency`.
    pub fn describe(&self) -> String {
        let percent = |share: f64| format!("{}%", (share * 1000.0).round() / 10.0);
        let mut parts: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, share)| format!("status {status} for {} of requests", percent(*share)))
            .collect();
        if self.reset > 0.0 {
            parts.push(format!(
                "no answer (connection closed) for {}",
                percent(self.reset)
            ));
        }
        if let Some((low, high)) = self.latency {
            parts.push(if low == high {
                format!("{low:?} of latency")
            } else {
                format!("{low:?} to {high:?} of latency")
            });
        }
        parts.join(", ")
    }

    /// Adds one `--fault` value: `STATUS=PERCENT%` or `reset=PERCENT%`.
    pub fn add_fault(&mut self, text: &str) -> Result<(), FaultError> {
        let wrong = |problem| FaultError::Chaos {
            text: text.to_string(),
            problem,
        };
        let (what, share) = text
            .split_once('=')
            .ok_or_else(|| wrong(ChaosProblem::Shape))?;
        let percent: f64 = share
            .trim_end_matches('%')
            .parse()
            .ok()
            .filter(|p: &f64| (0.0..=100.0).contains(p))
            .ok_or_else(|| wrong(ChaosProblem::NotPercentage(share.to_string())))?;
        let probability = percent / 100.0;
        let mut next = self.clone();
        if what == "reset" {
            next.reset = probability;
        } else {
            match what.parse::<u16>() {
                Ok(status) if (100..=599).contains(&status) => {
                    next.statuses.push((status, probability));
                }
                _ => {
                    return Err(wrong(ChaosProblem::NotStatus(what.to_string())));
                }
            }
        }
        if next.reset + next.statuses.iter().map(|(_, p)| p).sum::<f64>() > 1.0 + 1e-9 {
            return Err(wrong(ChaosProblem::OverHundred));
        }
        *self = next;
        Ok(())
    }

    /// What to do with this request, from one uniform random number for
    /// the kind of fault and one for the latency.
    pub fn decide(&self, roll: f64, spread: f64) -> ChaosAction {
        let delay = self
            .latency
            .map(|(low, high)| low + (high.saturating_sub(low)).mul_f64(spread.clamp(0.0, 1.0)));
        let mut edge = self.reset;
        if roll < edge {
            return ChaosAction::Reset { delay };
        }
        for (status, probability) in &self.statuses {
            edge += probability;
            if roll < edge {
                return ChaosAction::Status {
                    status: *status,
                    delay,
                };
            }
        }
        ChaosAction::Serve { delay }
    }
}

/// What chaos makes of one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChaosAction {
    Serve {
        delay: Option<Duration>,
    },
    Status {
        status: u16,
        delay: Option<Duration>,
    },
    Reset {
        delay: Option<Duration>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let faults = [
            Fault::WrongStatus {
                operation: "project-get".into(),
                status: 201,
            },
            Fault::DropField {
                operation: "a".into(),
                field: "isReady".into(),
            },
            Fault::SkipRefusal {
                operation: "create-project".into(),
                rule: 1,
            },
            Fault::NeverReady {
                collection: "projects".into(),
            },
            Fault::NoAuth,
        ];
        for fault in faults {
            assert_eq!(
                Fault::parse(&fault.id()),
                Ok(fault.clone()),
                "{}",
                fault.id()
            );
        }
        assert!(Fault::parse("melt:x").is_err());
        assert!(Fault::parse("wrong-status:x:abc").is_err());
    }

    #[test]
    fn chaos_shares_add_up_in_order() {
        let mut chaos = Chaos::default();
        chaos.add_fault("reset=10%").expect("reset");
        chaos.add_fault("500=20%").expect("500");
        chaos.add_fault("503=5.5%").expect("503");
        assert!(chaos.add_fault("700=5%").is_err());
        assert!(chaos.add_fault("500=150%").is_err());
        assert!(chaos.add_fault("502=70%").is_err(), "35.5% + 70% > 100%");
        assert!(matches!(chaos.decide(0.05, 0.0), ChaosAction::Reset { .. }));
        assert!(matches!(
            chaos.decide(0.25, 0.0),
            ChaosAction::Status { status: 500, .. }
        ));
        assert!(matches!(
            chaos.decide(0.33, 0.0),
            ChaosAction::Status { status: 503, .. }
        ));
        assert!(matches!(chaos.decide(0.5, 0.0), ChaosAction::Serve { .. }));
    }
}
