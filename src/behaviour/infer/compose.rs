//! A fixture and inference together: the operations a fixture names
//! follow the fixture; the spec's other resources are inferred beside it.
//!
//! Rules, also in the README:
//! - a resource none of whose operations the fixture names is inferred
//!   whole; if the fixture already has a collection of that name, the
//!   inferred one is called `<name>_inferred`;
//! - a resource some of whose operations the fixture names gets the rest
//!   inferred on the fixture's collection (the one those operations work
//!   on), so that an inferred PATCH changes the items the fixture's create
//!   made; where they work on no collection, the rest stays stateless;
//! - an inferred entry that does not load beside the fixture is left to
//!   the spec, and the log says why; the fixture itself never changes.
//!
//! The composed fixture is read from one document: the fixture's own,
//! with the inferred entries grafted in, so an error in a part names the
//! file it came from.

use super::{Inference, Resource, log_lines};
use crate::behaviour::fixture::Fixture;
use crate::behaviour::model::OperationBehaviour;
use crate::source::SourceDocument;
use crate::source::reader::escape;
use crate::spec::Api;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// `fixture` (bound to `api`) with the resources it does not describe
/// inferred beside it. A fixture with `infer: false`, or read from no
/// file, is returned as it is.
pub fn compose(api: &Api, name: &str, fixture: Fixture) -> Fixture {
    let Some(document) = fixture.source.clone().filter(|_| fixture.infer) else {
        return fixture;
    };
    let mut inference = beside(api, super::infer(api), &fixture);
    if inference.resources.is_empty() {
        let mut fixture = fixture;
        fixture.inferred = log_lines(&inference);
        return fixture;
    }
    match super::load_keeping(api, &mut inference, |part| load(api, name, &document, part)) {
        Ok(mut composed) => {
            composed.inferred = log_lines(&inference);
            composed
        }
        Err(why) => {
            let mut fixture = fixture;
            fixture.inferred = vec![format!(
                "inferred nothing beside the fixture: the inferred resources do not load together: {why}"
            )];
            fixture
        }
    }
}

/// `inference` cut to what the fixture leaves out, on the fixture's
/// collections where it shares a resource with it.
fn beside(api: &Api, mut inference: Inference, fixture: &Fixture) -> Inference {
    let model = &fixture.model;
    let named = |id: &str| model.operations.contains_key(id);
    let taken: HashSet<&str> = model.collections.iter().map(|c| c.name.as_str()).collect();
    let mut resources = Vec::new();
    for mut resource in std::mem::take(&mut inference.resources) {
        let (theirs, ours): (Vec<_>, Vec<_>) = resource
            .operations
            .into_iter()
            .partition(|op| named(&op.id));
        resource.operations = ours;
        if resource.operations.is_empty() {
            continue;
        }
        if theirs.is_empty() {
            if taken.contains(resource.name.as_str()) {
                let new = format!("{}_inferred", resource.name);
                rename(&mut resource, &new);
            }
            resources.push(resource);
            continue;
        }
        let collection = theirs
            .iter()
            .find_map(|op| worked_on(&model.operations[&op.id]));
        match collection {
            Some(collection) => {
                rename(&mut resource, &collection);
                resource.joins = Some(collection);
                resources.push(resource);
            }
            None => {
                let ids: Vec<&str> = theirs.iter().map(|op| op.id.as_str()).collect();
                let why = format!(
                    "the fixture names {} of this resource, and they work on no collection",
                    ids.join(", ")
                );
                for op in &resource.operations {
                    if let Some(o) = api.operation(&op.id) {
                        inference
                            .stateless
                            .push((format!("{} {}", o.method, o.path), why.clone()));
                    }
                }
            }
        }
    }
    inference.resources = resources;
    // What the fixture names is its own, not "left stateless".
    let its_own: HashSet<String> = api
        .operations
        .iter()
        .filter(|o| named(&o.id))
        .map(|o| format!("{} {}", o.method, o.path))
        .collect();
    inference.stateless.retain(|(op, _)| !its_own.contains(op));
    inference
}

/// The collection a fixture's operation works on: its target's, else its
/// first rule's.
fn worked_on(behaviour: &OperationBehaviour) -> Option<String> {
    behaviour
        .target
        .as_ref()
        .map(|t| t.collection.clone())
        .or_else(|| {
            behaviour
                .rules
                .iter()
                .find_map(|rule| rule.collection.clone())
        })
}

/// Calls the resource's collection `new` in its entries.
fn rename(resource: &mut Resource, new: &str) {
    let old = std::mem::replace(&mut resource.name, new.to_string());
    for op in &mut resource.operations {
        if let Some(target) = op.entry.get_mut("target")
            && target.get("collection").and_then(Value::as_str) == Some(&old)
        {
            target["collection"] = Value::from(new);
        }
        if let Some(Value::Array(rules)) = op.entry.get_mut("rules") {
            for rule in rules {
                if rule.get("collection").and_then(Value::as_str) == Some(&old) {
                    rule["collection"] = Value::from(new);
                }
            }
        }
    }
}

/// The fixture's document with `inference`'s entries grafted in, read
/// and bound as one fixture.
fn load(
    api: &Api,
    name: &str,
    document: &Arc<SourceDocument>,
    inference: &Inference,
) -> Result<Fixture, String> {
    let path = std::path::PathBuf::from(format!("(inferred from {name})"));
    let text = super::emit::json(inference);
    let inferred =
        Arc::new(SourceDocument::parse(&path, Arc::from(text)).map_err(|e| e.to_string())?);
    let mut pointers = Vec::new();
    for part in ["collections", "operations"] {
        if let Some(Value::Object(entries)) = inferred.value.get(part) {
            pointers.extend(entries.keys().map(|k| format!("/{part}/{}", escape(k))));
        }
    }
    let composed = document.grafted(&inferred, &pointers);
    let mut fixture = Fixture::from_document(composed).map_err(|e| e.to_string())?;
    fixture.bind(api).map_err(|e| e.to_string())?;
    Ok(fixture)
}
