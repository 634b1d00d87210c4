//! `collection.filter(field=value…)`, `find`, `count` and `exists` in a
//! fixture's templates match items as a read shows them: the readiness
//! overlay over what is stored, deleted items left out, and only the
//! items the request's user may see. The engine reads each asked field
//! alone rather than decoding every item whole; this holds it to the
//! same answers.

mod common;

use common::send;
use serde_json::{Value, json};
use std::path::Path;
use understudy::behaviour::Fixture;
use understudy::spec::Api;

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Things, version: "1"}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: x-key}
security: [{key: []}]
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
  /things/{id}:
    delete:
      operationId: deleteThing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '204': {description: gone}
  /census:
    get:
      operationId: census
      responses:
        '200':
          description: counts
          content:
            application/json:
              schema: {type: object}
"#;

const FIXTURE: &str = r#"
auth:
  users: users
  schemes:
    key: {field: token}
collections:
  users:
    key: id
    seed:
      - {id: ada, token: ada-key}
      - {id: bob, token: bob-key}
  things:
    key: id
    generate:
      id: uuid
    visible: "item.owner == user.id or item.shared"
    ready:
      after: 10s
      pending: {phase: building}
      ready: {phase: running}
operations:
  createThing:
    rules:
      - action: create
        collection: things
        set: {name: "{{ body.name }}", owner: "{{ user.id }}", shared: "{{ body.shared }}", phase: stored}
        status: 201
  deleteThing:
    target: things
    rules:
      - action: delete
  census:
    rules:
      - body:
          building: "{{ things.count(phase='building') }}"
          running: "{{ things.count(phase='running') }}"
          stored: "{{ things.count(phase='stored') }}"
          named_a: "{{ things.count(name='a') }}"
          a_building: "{{ things.exists(name='a', phase='building') }}"
          first_b: "{{ things.find(name='b').name }}"
          mine: "{{ things.filter(owner='ada') | map(attribute='name') | sort | join(',') }}"
"#;

async fn post(addr: std::net::SocketAddr, key: &str, body: Value) -> Value {
    let answer = send(
        addr,
        "POST",
        "/things",
        &[("content-type", "application/json"), ("x-key", key)],
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

async fn census(addr: std::net::SocketAddr, key: &str) -> Value {
    let answer = send(addr, "GET", "/census", &[("x-key", key)], b"").await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

#[tokio::test]
async fn filters_see_items_as_reads_show_them_to_the_user_asking() {
    let api = Api::from_text(Path::new("things.yaml"), SPEC).expect("spec loads");
    let mut fixture =
        Fixture::from_text(Path::new("things-fixture.yaml"), FIXTURE).expect("fixture loads");
    fixture.bind(&api).expect("fixture fits the spec");
    let (mock, _) = common::start(api, fixture).await;
    let addr = mock.addr;

    let a = post(addr, "ada-key", json!({"name": "a", "shared": false})).await;
    post(addr, "ada-key", json!({"name": "b", "shared": true})).await;
    post(addr, "bob-key", json!({"name": "a", "shared": false})).await;
    post(addr, "bob-key", json!({"name": "c", "shared": true})).await;

    // Ada sees her two and Bob's shared one, all still building: the
    // stored `phase` is under the readiness overlay.
    assert_eq!(
        census(addr, "ada-key").await,
        json!({"building": 3, "running": 0, "stored": 0, "named_a": 1, "a_building": true,
               "first_b": "b", "mine": "a,b"})
    );
    // Bob sees his two and Ada's shared one.
    assert_eq!(
        census(addr, "bob-key").await,
        json!({"building": 3, "running": 0, "stored": 0, "named_a": 1, "a_building": true,
               "first_b": "b", "mine": "b"})
    );

    let advanced = send(
        addr,
        "POST",
        "/__understudy/clock",
        &[("content-type", "application/json")],
        br#"{"advance": "11s"}"#,
    )
    .await;
    assert_eq!(
        advanced.status,
        200,
        "{}",
        String::from_utf8_lossy(&advanced.body)
    );
    let id = a["id"].as_str().expect("an id");
    let deleted = send(
        addr,
        "DELETE",
        &format!("/things/{id}"),
        &[("x-key", "ada-key")],
        b"",
    )
    .await;
    assert_eq!(deleted.status, 204);

    // Ready now, and Ada's `a` gone.
    assert_eq!(
        census(addr, "ada-key").await,
        json!({"building": 0, "running": 2, "stored": 0, "named_a": 0, "a_building": false,
               "first_b": "b", "mine": "b"})
    );
}
