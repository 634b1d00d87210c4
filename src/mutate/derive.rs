//! The mutants of one API, read off its spec and fixture: for every
//! operation a wrong success status and, where its answer has them, a
//! missing required field, a field of the wrong type, of the wrong format,
//! outside its enum, or one too many; for the fixture's rules, refusals
//! that never fire and reworded error messages; per collection, unique
//! fields unguarded and readiness never reached; per list, wrong page
//! headers; per API, authentication not enforced.
//!
//! One field per kind and operation is enough: the suite either checks the
//! operation's answers against their schema or it does not.

use crate::behaviour::Fixture;
use crate::mock::fault::Fault;
use crate::mock::respond::default_response;
use crate::spec::{Api, Operation, StatusKey};
use serde_json::{Map, Value};

/// Every mutant of `api` with `fixture`, in a stable order.
pub fn mutants(api: &Api, fixture: &Fixture) -> Vec<Fault> {
    let mut out = Vec::new();
    for operation in &api.operations {
        out.extend(operation_mutants(api, fixture, operation));
    }
    for collection in &fixture.model.collections {
        if !collection.unique.is_empty() {
            out.push(Fault::NoUnique {
                collection: collection.name.clone(),
            });
        }
        if collection.readiness.is_some() {
            out.push(Fault::NeverReady {
                collection: collection.name.clone(),
            });
        }
    }
    if api.operations.iter().any(|o| !o.security.is_empty()) {
        out.push(Fault::NoAuth);
    }
    out
}

fn operation_mutants(api: &Api, fixture: &Fixture, operation: &Operation) -> Vec<Fault> {
    let id = || operation.id.clone();
    let mut out = vec![Fault::WrongStatus {
        operation: id(),
        status: undocumented_success(operation),
    }];
    if let Some(shape) = answer_shape(api, operation) {
        let required = |name: &String| shape.required.contains(name);
        // Required fields first: an optional one may rightly be absent.
        let mut fields: Vec<&(String, Value)> = shape.properties.iter().collect();
        fields.sort_by_key(|(name, _)| !required(name));
        if let Some((field, _)) = fields.iter().find(|(name, _)| required(name)) {
            out.push(Fault::DropField {
                operation: id(),
                field: field.clone(),
            });
        }
        if let Some((field, _)) = fields.first() {
            out.push(Fault::WrongType {
                operation: id(),
                field: field.clone(),
            });
        }
        if let Some((field, _)) = fields.iter().find(|(_, schema)| {
            schema
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| ["uuid", "date-time", "date", "email", "uri"].contains(&f))
        }) {
            out.push(Fault::BadFormat {
                operation: id(),
                field: field.clone(),
            });
        }
        if let Some((field, _)) = fields
            .iter()
            .find(|(_, schema)| schema.get("enum").is_some())
        {
            out.push(Fault::OutsideEnum {
                operation: id(),
                field: field.clone(),
            });
        }
        if shape.closed {
            out.push(Fault::ExtraField {
                operation: id(),
                field: "x_understudy_extra".into(),
            });
        }
    }
    // Bodies with rules to break. (A malformed path parameter usually
    // ends in 404 either way, so skipping its check is rarely observable.)
    let constrained_body = operation.request_body.as_ref().is_some_and(|b| {
        b.media.iter().any(|m| {
            m.schema
                .as_ref()
                .and_then(|slot| api.compiled(slot).ok())
                .is_some_and(|c| has_constraints(c.document(), c.schema()))
        })
    });
    if constrained_body {
        out.push(Fault::AcceptInvalid { operation: id() });
    }
    if let Some(behaviour) = fixture.model.operations.get(&operation.id) {
        let mut reworded = false;
        for (index, rule) in behaviour.rules.iter().enumerate() {
            let refuses = rule.status.is_some_and(|s| (400..500).contains(&s));
            if refuses && rule.when.is_some() {
                out.push(Fault::SkipRefusal {
                    operation: id(),
                    rule: index,
                });
            }
            if refuses && rule.body.is_some() && !reworded {
                out.push(Fault::ChangedMessage { operation: id() });
                reworded = true;
            }
            if rule
                .list
                .paginate
                .as_ref()
                .is_some_and(|p| p.count_header().is_some() || p.links())
            {
                out.push(Fault::PageHeaders { operation: id() });
            }
        }
    }
    out
}

/// Whether a body schema refuses anything: required properties, or
/// properties with a type, format, pattern, enum or bounds.
fn has_constraints(document: &Value, schema: &Value) -> bool {
    let mut shape = Shape {
        properties: Vec::new(),
        required: Vec::new(),
        closed: false,
    };
    collect(document, schema, &mut shape, 0);
    !shape.required.is_empty()
        || shape.closed
        || shape.properties.iter().any(|(_, p)| {
            [
                "type",
                "format",
                "pattern",
                "enum",
                "minLength",
                "maxLength",
                "minimum",
                "maximum",
            ]
            .iter()
            .any(|k| p.get(*k).is_some())
        })
}

/// A 2xx status the operation does not document.
fn undocumented_success(operation: &Operation) -> u16 {
    let documented = |code: u16| {
        operation
            .responses
            .iter()
            .any(|r| r.status == StatusKey::Code(code))
    };
    [200, 201, 202, 204, 203]
        .into_iter()
        .find(|c| !documented(*c))
        .unwrap_or(203)
}

/// The top level of a JSON answer: an object's properties, or those of a
/// list's items.
struct Shape {
    properties: Vec<(String, Value)>,
    required: Vec<String>,
    /// `additionalProperties: false`.
    closed: bool,
}

fn answer_shape(api: &Api, operation: &Operation) -> Option<Shape> {
    let response = default_response(operation)?;
    let slot = response
        .media
        .iter()
        .find(|m| m.is_json())?
        .schema
        .as_ref()?;
    let compiled = api.compiled(slot).ok()?;
    let document = compiled.document();
    let mut schema = resolve(document, compiled.schema());
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        schema = resolve(document, schema.get("items")?);
    }
    let mut shape = Shape {
        properties: Vec::new(),
        required: Vec::new(),
        closed: false,
    };
    collect(document, schema, &mut shape, 0);
    (!shape.properties.is_empty()).then_some(shape)
}

/// Properties and required names of `schema`, through `$ref` and `allOf`.
fn collect(document: &Value, schema: &Value, shape: &mut Shape, depth: usize) {
    if depth > 8 {
        return;
    }
    let schema = resolve(document, schema);
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, property) in properties {
            if !shape.properties.iter().any(|(n, _)| n == name) {
                let property: &Map<String, Value> = match resolve(document, property) {
                    Value::Object(map) => map,
                    _ => continue,
                };
                shape
                    .properties
                    .push((name.clone(), Value::Object(property.clone())));
            }
        }
    }
    if let Some(Value::Array(names)) = schema.get("required") {
        shape
            .required
            .extend(names.iter().filter_map(Value::as_str).map(String::from));
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        shape.closed = true;
    }
    if let Some(Value::Array(parts)) = schema.get("allOf") {
        for part in parts {
            collect(document, part, shape, depth + 1);
        }
    }
}

/// Follows `#/…` references inside a compiled schema's document.
fn resolve<'a>(document: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_guard_has_its_mutant_and_the_mutant_removes_it() {
        let spec = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/things": {"post": {"operationId": "make",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"201": {"description": "made"}}}}}}"#;
        let fixture = "collections:\n  things:\n    unique: [name]\n";
        let api = Api::from_text(std::path::Path::new("t.json"), spec).expect("spec");
        let mut fixture =
            Fixture::from_text(std::path::Path::new("f.yaml"), fixture).expect("fixture");
        fixture.bind(&api).expect("binds");
        let faults = mutants(&api, &fixture);
        let no_unique = Fault::NoUnique {
            collection: "things".into(),
        };
        assert!(faults.contains(&no_unique), "{faults:?}");
        no_unique.apply_to_fixture(&mut fixture);
        assert!(fixture.model.collections[0].unique.is_empty());
    }

    #[test]
    fn the_bundled_apis_have_every_kind_of_mutant() {
        let mut kinds = std::collections::BTreeSet::new();
        for bundled in crate::behaviour::bundled::BUNDLED {
            let (api, fixture) = bundled.load().expect("bundled API loads");
            for fault in mutants(&api, &fixture) {
                kinds.insert(fault.kind());
            }
        }
        let wanted = [
            "wrong-status",
            "drop-field",
            "wrong-type",
            "bad-format",
            "outside-enum",
            "changed-message",
            "accept-invalid",
            "skip-refusal",
            "extra-field",
            "never-ready",
            "page-headers",
            "no-auth",
        ];
        for kind in wanted {
            assert!(kinds.contains(kind), "no {kind} mutant; got {kinds:?}");
        }
    }
}
