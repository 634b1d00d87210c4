//! The behaviour stage of the pipeline: hands a valid request to the
//! fixture's rules and turns their decision into a reply that keeps the
//! spec's promises. A rule's body that breaks the response schema is a bug
//! in the fixture, answered as a 500 that says so, never sent as if valid;
//! except where the rule shows items of a collection with `fit:` (every
//! inferred one): such an answer is repaired to fit, and the log says how.

use super::failure::Failure;
use super::refuse::{self, fixture_broke_spec};
use super::reply::Reply;
use super::spec_error::Documented;
use crate::behaviour::engine::{self, Answer, Outcome, Request};
use crate::behaviour::model::OperationBehaviour;
use crate::behaviour::{Fixture, Store};
use crate::contract::media::negotiate;
use crate::spec::{Api, Operation};
use serde_json::Value;
use std::sync::Arc;

/// What the rules decided.
pub enum Behaved {
    Reply(Reply),
    /// The spec answers, as with no fixture; the note says why, if not
    /// simply because no rule matched.
    Spec(Option<String>),
}

/// Runs the rules.
pub fn behave(
    fixture: &Arc<Fixture>,
    store: &Store,
    documented: &Documented<'_>,
    behaviour: &OperationBehaviour,
    request: &Request<'_>,
) -> Behaved {
    match engine::run(fixture, store, behaviour, request) {
        Outcome::Answer(answer) => {
            Behaved::Reply(reply(documented.api, documented.operation, answer, request))
        }
        Outcome::Refuse(refusal) => {
            let mut failure = Failure::new(refusal.kind, refusal.detail);
            failure.fields = refusal.fields;
            if let Some(collection) = refusal.collection {
                failure
                    .extra
                    .insert("collection".into(), Value::String(collection));
            }
            let mut reply = refuse::render(
                fixture,
                failure,
                request.method,
                request.path,
                Some(documented),
            );
            if let Some(note) = refusal.note {
                reply.note = Some(note);
            }
            Behaved::Reply(reply)
        }
        Outcome::Kept(hit) => match hit.answer() {
            Some(kept) => Behaved::Reply(Reply {
                headers: kept.headers.clone(),
                repeatable: hit.settled(),
                repeatable_until: request.credentials_good_until.map(Box::new),
                ..Reply::bytes(kept.status, "", kept.body.clone())
            }),
            None => Behaved::Spec(None),
        },
        Outcome::NoRuleMatched => Behaved::Spec(None),
        Outcome::Unknown(note) => Behaved::Spec(Some(note)),
        Outcome::Broken(error) => Behaved::Reply(refuse::fixture_template_failed(
            fixture,
            &error,
            &documented.operation.id,
        )),
    }
}

fn reply(api: &Api, operation: &Operation, answer: Answer, request: &Request<'_>) -> Reply {
    let status = answer.status;
    let documented = operation.response_for(status);
    let mut notes = answer.notes;
    if answer.undocumented {
        notes.push(format!(
            "undocumented {status}: the spec does not list it; fixture rule {} declares the real service answers it",
            answer.rule
        ));
    }
    let body = answer
        .body
        .filter(|_| !crate::contract::has_no_body(status));
    let mut reply = match body {
        None => Reply::empty(status),
        Some(mut body) => {
            let accept = request
                .head
                .headers
                .get(hyper::header::ACCEPT)
                .and_then(|v| v.to_str().ok());
            let media = documented.and_then(|r| negotiate(&r.media, accept).or(r.media.first()));
            // The rule's own content type, else the one `Accept` chose; the
            // body is held to the schema documented for that type.
            let content_type = answer
                .content_type
                .clone()
                .or_else(|| {
                    media
                        .filter(|m| !m.name.contains('*'))
                        .map(|m| m.name.clone())
                })
                .unwrap_or_else(|| "application/json".into());
            if !answer.undocumented {
                let sent_as = match &answer.content_type {
                    Some(declared) => documented
                        .and_then(|r| crate::contract::media::documented(&r.media, declared)),
                    None => media,
                };
                let mut errors = crate::contract::owned_media_errors(api, sent_as, &mut body, 5);
                if !errors.is_empty()
                    && answer.fits
                    && let Some(fitted) = crate::contract::fit::fit_media(api, sent_as, &mut body)
                {
                    notes.push(format!(
                        "the answer did not fit the spec; repaired: {}",
                        fitted.summary()
                    ));
                    errors = fitted.left.into_iter().take(5).collect();
                }
                if !errors.is_empty() {
                    return fixture_broke_spec(&answer.rule, status, &errors, &operation.id);
                }
            }
            Reply::of(status, &content_type, &body)
        }
    };
    reply.headers.extend(answer.headers);
    if !notes.is_empty() {
        reply.note = Some(notes.join("; "));
    } else if let Some(keep) = answer.keep {
        keep.keep(reply.status, reply.headers.clone(), reply.body.clone());
    }
    reply
}
