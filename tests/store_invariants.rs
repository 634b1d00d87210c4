//! Property: any sequence of creates, renames, soft deletes and restores,
//! sent through the mock's real request pipeline, keeps the store's
//! invariants, checked against a plain model after every step:
//! - live names are unique (a clash is refused with 409, on create, rename
//!   and restore alike);
//! - the list shows exactly the live items, in creation order, and its
//!   count header says how many there are;
//! - soft-deleted items are hidden unless asked for, then listed too;
//! - every answer has the status the model predicts.

use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use understudy::behaviour::Fixture;
use understudy::mock::{MockOptions, MockService};
use understudy::spec::Api;

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Items, version: "1"}
paths:
  /items:
    get:
      operationId: listItems
      parameters:
        - {name: include_removed, in: query, schema: {type: boolean}}
        - {name: page_size, in: query, schema: {type: integer}}
      responses:
        '200':
          description: ok
          headers: {X-Result-Count: {schema: {type: integer}}}
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Item'}}
    post:
      operationId: createItem
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses:
        '201': {description: created, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
        '409': {description: taken}
  /items/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    patch:
      operationId: renameItem
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
        '404': {description: missing}
        '409': {description: taken}
    delete:
      operationId: deleteItem
      responses:
        '204': {description: deleted}
        '404': {description: missing}
  /items/{id}/restore:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    post:
      operationId: restoreItem
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}}
        '400': {description: not deleted}
        '404': {description: missing}
        '409': {description: taken}
components:
  schemas:
    Item:
      type: object
      required: [id, name, removed]
      properties:
        id: {type: integer}
        name: {type: string}
        removed: {type: boolean}
"#;

const FIXTURE: &str = r#"
collections:
  things:
    key: id
    generate: {id: sequence, removed: false}
    unique: [name]
    soft_delete:
      deleted: {removed: true}
      restored: {removed: false}
operations:
  listItems:
    rules:
      - action: list
        collection: things
        include_deleted: "query.include_removed"
        paginate: {style: page, page: page, size: page_size, default_size: 10, count_header: X-Result-Count}
  createItem:
    rules:
      - action: create
        collection: things
        set: {name: "{{ body.name }}"}
        status: 201
  renameItem:
    target: things
    rules:
      - action: update
        set: {name: "{{ body.name }}"}
  deleteItem:
    target: things
    rules:
      - action: delete
        status: 204
  restoreItem:
    target: {collection: things, include_deleted: true}
    rules:
      - when: "not item.removed"
        status: 400
        body: {}
      - action: restore
"#;

#[derive(Debug, Clone)]
enum Step {
    Create(usize),
    Rename(usize, usize),
    Delete(usize),
    Restore(usize),
}

/// Few names, so clashes are frequent; item numbers are taken modulo the
/// items made so far (and may point past them, for 404s).
const NAMES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..NAMES.len()).prop_map(Step::Create),
        2 => (0..8usize, 0..NAMES.len()).prop_map(|(i, n)| Step::Rename(i, n)),
        2 => (0..8usize).prop_map(Step::Delete),
        2 => (0..8usize).prop_map(Step::Restore),
    ]
}

struct ModelItem {
    id: u64,
    name: String,
    removed: bool,
}

struct Mock {
    service: MockService,
}

impl Mock {
    fn new() -> Mock {
        let api = Api::from_text(Path::new("items.yaml"), SPEC).expect("spec loads");
        let mut fixture =
            Fixture::from_text(Path::new("items-fixture.yaml"), FIXTURE).expect("fixture loads");
        fixture.bind(&api).expect("fixture fits the spec");
        Mock {
            service: MockService::new(Arc::new(api), Arc::new(fixture), MockOptions::default()),
        }
    }

    /// Through the whole pipeline: routing, validation, rules, response checks.
    fn send(
        &self,
        method: &str,
        target: &str,
        body: Option<Value>,
    ) -> (u16, Value, Vec<(String, String)>) {
        let (parts, ()) = hyper::Request::builder()
            .method(method)
            .uri(target)
            .header("content-type", "application/json")
            .body(())
            .expect("a request")
            .into_parts();
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let parts = std::sync::Arc::new(parts);
        let reply = self.service.answer(&self.service.current(), &parts, &bytes);
        let value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        (reply.status, value, reply.headers.clone())
    }
}

fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mock = Mock::new();
    let mut model: Vec<ModelItem> = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let pick = |i: usize| -> (u64, Option<usize>) {
            // Past the end by one: an id that does not exist.
            let index = i % (model.len() + 1);
            match model.get(index) {
                Some(item) => (item.id, Some(index)),
                None => (10_000 + i as u64, None),
            }
        };
        let live_with = |name: &str, except: Option<usize>| {
            model
                .iter()
                .enumerate()
                .any(|(j, m)| !m.removed && m.name == name && Some(j) != except)
        };
        let (status, expected) = match step {
            Step::Create(name) => {
                let name = NAMES[*name];
                let (status, body, _) = mock.send("POST", "/items", Some(json!({"name": name})));
                let expected = if live_with(name, None) { 409 } else { 201 };
                if status == 201 {
                    let id = body["id"].as_u64().expect("an id");
                    model.push(ModelItem {
                        id,
                        name: name.into(),
                        removed: false,
                    });
                }
                (status, expected)
            }
            Step::Rename(i, name) => {
                let name = NAMES[*name];
                let (id, index) = pick(*i);
                let (status, _, _) = mock.send(
                    "PATCH",
                    &format!("/items/{id}"),
                    Some(json!({"name": name})),
                );
                let expected = match index {
                    None => 404,
                    Some(j) if model[j].removed => 404,
                    Some(j) if live_with(name, Some(j)) => 409,
                    Some(_) => 200,
                };
                if let (200, Some(j)) = (status, index) {
                    model[j].name = name.into();
                }
                (status, expected)
            }
            Step::Delete(i) => {
                let (id, index) = pick(*i);
                let (status, _, _) = mock.send("DELETE", &format!("/items/{id}"), None);
                let expected = match index {
                    Some(j) if !model[j].removed => 204,
                    _ => 404,
                };
                if let (204, Some(j)) = (status, index) {
                    model[j].removed = true;
                }
                (status, expected)
            }
            Step::Restore(i) => {
                let (id, index) = pick(*i);
                let (status, _, _) = mock.send("POST", &format!("/items/{id}/restore"), None);
                let expected = match index {
                    None => 404,
                    Some(j) if !model[j].removed => 400,
                    Some(j) if live_with(&model[j].name, Some(j)) => 409,
                    Some(_) => 200,
                };
                if let (200, Some(j)) = (status, index) {
                    model[j].removed = false;
                }
                (status, expected)
            }
        };
        prop_assert_eq!(status, expected, "step {} {:?}", n, step);

        // The invariants, read back through the list operation.
        for include_removed in [false, true] {
            let (status, body, headers) = mock.send(
                "GET",
                &format!("/items?page_size=100&include_removed={include_removed}"),
                None,
            );
            prop_assert_eq!(status, 200);
            let listed: Vec<(u64, String, bool)> = body
                .as_array()
                .expect("a list")
                .iter()
                .map(|i| {
                    (
                        i["id"].as_u64().unwrap_or(0),
                        i["name"].as_str().unwrap_or("").to_string(),
                        i["removed"].as_bool().unwrap_or(false),
                    )
                })
                .collect();
            let wanted: Vec<(u64, String, bool)> = model
                .iter()
                .filter(|m| include_removed || !m.removed)
                .map(|m| (m.id, m.name.clone(), m.removed))
                .collect();
            prop_assert_eq!(&listed, &wanted, "after step {} {:?}", n, step);
            let count = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-result-count"))
                .map(|(_, v)| v.clone());
            prop_assert_eq!(count, Some(wanted.len().to_string()));
            let mut live: Vec<&String> = listed.iter().filter(|i| !i.2).map(|i| &i.1).collect();
            let before = live.len();
            live.sort();
            live.dedup();
            prop_assert_eq!(live.len(), before, "two live items share a name");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_keeps_the_store_invariants(steps in proptest::collection::vec(step(), 1..40)) {
        run(&steps)?;
    }
}
