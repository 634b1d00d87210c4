//! A create makes its item one of two ways: a `set` written out as a
//! mapping, or the request body, in a draft encoded straight into the
//! store; a `set` that is one expression in a map, with the collection's
//! defaults and generated fields made by the template machine. Both must
//! store and answer the same item, field order included: here the same
//! creates run against two mocks whose fixtures differ only in how `set`
//! is written (and by a `unique` that never clashes, which the draft
//! stores through the map), with the same session, so the same random
//! values, and every answer and the stored state are compared.

mod common;

use common::send;
use serde_json::Value;
use std::path::Path;
use understudy::behaviour::Fixture;
use understudy::spec::Api;

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Things, version: "1"}
paths:
  /things:
    post:
      operationId: createThing
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {type: object}
        '409': {description: taken}
        '422': {description: invalid}
  /set-things:
    post:
      operationId: createSetThing
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {type: object}
  /racks/{rackId}/things:
    post:
      operationId: createRackThing
      parameters:
        - {name: rackId, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {type: object}
  /short-things:
    post:
      operationId: createShortThing
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {type: object}
"#;

/// `UNIQUE` becomes nothing or a `unique` that never clashes (ids are
/// generated); `BODY`, `SET` and `SHORT` the rules' `set`, as mappings or
/// as one expression that makes the same mapping.
const FIXTURE: &str = r#"
collections:
  racks:
    key: id
    seed:
      - {id: 1c61d9bb-2863-4368-8052-34495a0d7a61, name: r1, spec: {cpu: 2, tags: [a]}, state: "off", title: stored}
    computed:
      title: "{{ item.name | upper }}"
    ready:
      after: 1h
      pending: {state: booting}
      ready: {state: "on"}
  things:
    key: id
    UNIQUE
    defaults:
      colour: "{{ 'blue' }}"
      size: 3
      label: "{{ item.name ~ '-' ~ item.colour }}"
      loud: "{{ item.name | upper }}"
    generate:
      id: uuid
      serial: sequence
      code: {pattern: "T-[0-9]{4}"}
      hex: uuid_hex
      name: "{{ item.name ~ '#' ~ item.serial }}"
      tags: "{{ [item.colour, item.code] }}"
      home: "{{ {'path': '/home/' ~ item.code} }}"
      stamped: "{{ now }}"
    computed:
      shout: "{{ item.label | upper }}"
    ready:
      after: 1h
      pending: {phase: building}
      ready: {phase: running}
operations:
  createThing:
    rules:
      - action: create
        collection: things
        BODY
        status: 201
  createSetThing:
    rules:
      - action: create
        collection: things
        SET
        status: 201
  createRackThing:
    target: {collection: racks, id: "path.rackId"}
    rules:
      - action: create
        collection: things
        RACK
        status: 201
  createShortThing:
    rules:
      - action: create
        collection: things
        SHORT
        status: 201
        body: {id: "{{ item.id }}", name: "{{ item.name }}", upper: "{{ item.name | upper }}", by: "{{ body.title }}", listed: "{{ items }}"}
"#;

/// Requests sent to both mocks, in order: bodies as input (the body's
/// own `id` overwritten by the generated one), `set` mappings with
/// lookups, filters and a missing field, fields of a stored target (one a
/// readiness overlay shows otherwise than stored, one computed, one a
/// mapping), and an answer that reads two fields of the new item, one
/// through a filter, and names besides the item.
const CREATES: [(&str, &str); 8] = [
    (
        "/things",
        r#"{"name": "a", "id": "mine", "extra": {"deep": [1]}}"#,
    ),
    ("/things", r#"{"name": "b", "colour": "red", "size": null}"#),
    ("/things", r#"{}"#),
    (
        "/set-things",
        r#"{"title": "c", "note": "hi", "colour": "green"}"#,
    ),
    ("/set-things", r#"{"title": "d"}"#),
    ("/short-things", r#"{"title": "e"}"#),
    ("/short-things", r#"{"title": "f", "id": "x"}"#),
    (
        "/racks/1c61d9bb-2863-4368-8052-34495a0d7a61/things",
        r#"{}"#,
    ),
];

/// The fixture's blanks as mappings, for the draft.
const AS_MAPPINGS: [(&str, &str); 5] = [
    ("UNIQUE", ""),
    ("BODY", ""),
    (
        "SET",
        "set: {name: \"{{ body.title }}\", note: \"{{ body.note | default('none') }}\", colour: \"{{ body.colour }}\", fixed: [1, 2]}",
    ),
    (
        "SHORT",
        "set: {name: \"{{ body.title }}\", id: \"{{ body.id }}\"}",
    ),
    (
        "RACK",
        "set: {name: \"{{ item.name }}\", rack: \"{{ item.id }}\", spec: \"{{ item.spec }}\", state: \"{{ item.state }}\", title: \"{{ item.title }}\"}",
    ),
];

/// The same as expressions, for the map.
const AS_EXPRESSIONS: [(&str, &str); 5] = [
    ("UNIQUE", "unique: [[id]]"),
    ("BODY", "set: \"{{ body }}\""),
    (
        "SET",
        "set: \"{{ {'name': body.title, 'note': body.note | default('none'), 'colour': body.colour, 'fixed': [1, 2]} }}\"",
    ),
    (
        "SHORT",
        "set: \"{{ {'name': body.title, 'id': body.id} }}\"",
    ),
    (
        "RACK",
        "set: \"{{ {'name': item.name, 'rack': item.id, 'spec': item.spec, 'state': item.state, 'title': item.title} }}\"",
    ),
];

async fn run_creates(blanks: [(&str, &str); 5]) -> (Vec<(u16, String)>, Value) {
    let api = Api::from_text(Path::new("things.yaml"), SPEC).expect("spec loads");
    let text = blanks
        .iter()
        .fold(FIXTURE.to_string(), |text, (blank, with)| {
            text.replace(blank, with)
        });
    let mut fixture =
        Fixture::from_text(Path::new("things-fixture.yaml"), &text).expect("fixture loads");
    fixture.bind(&api).expect("fixture fits the spec");
    let (mock, _) = common::start(api, fixture).await;
    let mut answers = Vec::new();
    for (path, body) in CREATES {
        let answer = send(
            mock.addr,
            "POST",
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await;
        answers.push((answer.status, without_times(answer.json()).to_string()));
    }
    let state = send(mock.addr, "GET", "/__understudy/state", &[], b"").await;
    assert_eq!(state.status, 200);
    (answers, without_times(state.json()))
}

/// The value with every creation time replaced: the two mocks run at
/// different instants.
fn without_times(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                if name == "created_ms" {
                    *field = Value::from(0);
                } else if name == "stamped" {
                    *field = Value::from(stamp_shape(field));
                } else {
                    *field = without_times(field.take());
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = without_times(item.take());
            }
        }
        _ => {}
    }
    value
}

/// What the two mocks' `now` must share: the spelling, to the second,
/// of an instant this test run saw.
fn stamp_shape(stamp: &Value) -> String {
    let text = stamp.as_str().unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    let seen = chrono::DateTime::parse_from_rfc3339(text).map(|at| now - at.timestamp());
    match seen {
        Ok(0..=600) if text.len() == 20 && text.ends_with('Z') => "now, to the second".into(),
        _ => format!("not the request's instant: {stamp}"),
    }
}

#[tokio::test]
async fn the_draft_and_the_map_store_and_answer_the_same_items() {
    let (draft_answers, draft_state) = run_creates(AS_MAPPINGS).await;
    let (map_answers, map_state) = run_creates(AS_EXPRESSIONS).await;
    assert_eq!(draft_answers, map_answers);
    assert_eq!(draft_state.to_string(), map_state.to_string());

    // And what they agree on is what the fixture says.
    let first: Value = serde_json::from_str(&draft_answers[0].1).unwrap();
    assert_eq!(draft_answers[0].0, 201);
    let names: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "name", "id", "extra", "colour", "size", "label", "loud", "serial", "code", "hex",
            "tags", "home", "stamped", "phase", "shout"
        ]
    );
    assert_eq!(first["stamped"], "now, to the second");
    assert_ne!(first["id"], "mine");
    assert_eq!(first["name"], "a#1");
    assert_eq!(first["label"], "a-blue");
    assert_eq!(first["loud"], "A");
    assert_eq!(first["shout"], "A-BLUE");
    assert_eq!(first["phase"], "building");
    let code = first["code"].as_str().unwrap();
    assert_eq!(first["tags"], serde_json::json!(["blue", code]));
    assert_eq!(first["home"]["path"], format!("/home/{code}"));
    assert_eq!(first["hex"].as_str().map(str::len), Some(32));

    let second: Value = serde_json::from_str(&draft_answers[1].1).unwrap();
    assert_eq!(second["colour"], "red");
    assert_eq!(second["size"], Value::Null);
    assert_eq!(second["name"], "b#2");

    let set: Value = serde_json::from_str(&draft_answers[3].1).unwrap();
    assert_eq!(set["note"], "hi");
    assert_eq!(set["fixed"], serde_json::json!([1, 2]));
    let bare_set: Value = serde_json::from_str(&draft_answers[4].1).unwrap();
    assert_eq!(bare_set["note"], "none");
    assert_eq!(bare_set["colour"], Value::Null);

    let short: Value = serde_json::from_str(&draft_answers[5].1).unwrap();
    assert_eq!(short.as_object().map(|m| m.len()), Some(5), "{short}");
    assert_eq!(short["name"], "e#6");
    assert_eq!(short["upper"], "E#6");
    assert_eq!(short["by"], "e");
    assert_eq!(short["listed"], Value::Null);
    assert_eq!(short["id"].as_str().map(str::len), Some(36), "{short}");

    // From the stored rack: as a read shows it (`state` by its readiness,
    // `title` computed), a mapping whole, a UUID as written.
    let racked: Value = serde_json::from_str(&draft_answers[7].1).unwrap();
    assert_eq!(draft_answers[7].0, 201, "{racked}");
    assert_eq!(racked["name"], "r1#8");
    assert_eq!(racked["rack"], "1c61d9bb-2863-4368-8052-34495a0d7a61");
    assert_eq!(racked["spec"], serde_json::json!({"cpu": 2, "tags": ["a"]}));
    assert_eq!(racked["state"], "on");
    assert_eq!(racked["title"], "R1");
}
