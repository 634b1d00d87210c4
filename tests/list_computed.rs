//! A list works out its items' computed fields for the page it answers
//! only, unless keeping or ordering the items reads them: then every item
//! has them first. Either way the answer is the same as if every item
//! were presented whole.

mod common;

use common::{send, send_json, start};
use serde_json::{Value, json};
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
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [name, n]
              properties: {name: {type: string}, n: {type: integer}}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
    get:
      operationId: listThings
      parameters:
        - {name: page, in: query, schema: {type: integer}}
        - {name: page_size, in: query, schema: {type: integer}}
        - {name: o, in: query, schema: {type: string}}
        - {name: rank_min, in: query, schema: {type: integer}}
      responses:
        '200':
          description: the things
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}
components:
  schemas:
    Thing:
      type: object
      required: [name, n, rank, label]
      properties:
        name: {type: string}
        n: {type: integer}
        rank: {type: integer}
        label: {type: string}
"#;

const FIXTURE: &str = r#"
collections:
  things:
    key: name
    computed:
      rank: "{{ 100 - item.n }}"
      label: "{{ item.name | upper }}"
operations:
  createThing:
    rules:
      - action: create
        collection: things
        status: 201
  listThings:
    rules:
      - action: list
        collection: things
        filters:
          rank_min: {field: rank, op: gte}
        order: {param: o, default: name}
        paginate: {style: page, page: page, size: page_size, default_size: 2}
"#;

async fn names_and_labels(addr: std::net::SocketAddr, target: &str) -> Vec<(String, i64, String)> {
    let answer = send(addr, "GET", target, &[], b"").await;
    assert_eq!(
        answer.status,
        200,
        "{target}: {}",
        String::from_utf8_lossy(&answer.body)
    );
    answer
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["rank"].as_i64().unwrap_or(-1),
                t["label"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn computed_fields_are_on_every_listed_item_and_order_and_filter_by_them() {
    let api = Api::from_text(Path::new("things.yaml"), SPEC).expect("spec loads");
    let mut fixture = Fixture::from_text(Path::new("things-fixture.yaml"), FIXTURE).expect("loads");
    fixture.bind(&api).expect("binds");
    let (mock, _) = start(api, fixture).await;
    for (name, n) in [("c", 3), ("a", 1), ("e", 5), ("b", 2), ("d", 4)] {
        let made = send_json(
            mock.addr,
            "POST",
            "/things",
            &[],
            json!({"name": name, "n": n}),
        )
        .await;
        assert_eq!(made.status, 201);
        let made: Value = made.json();
        assert_eq!(
            made["rank"],
            100 - n,
            "the create's answer is presented whole"
        );
    }
    let row = |name: &str, n: i64| (name.to_string(), 100 - n, name.to_uppercase());
    // Nothing before the page reads `rank` or `label`: the page's items
    // get them.
    assert_eq!(
        names_and_labels(mock.addr, "/things").await,
        [row("a", 1), row("b", 2)]
    );
    assert_eq!(
        names_and_labels(mock.addr, "/things?page=3").await,
        [row("e", 5)]
    );
    // Ordered by a computed field: every item has it before the order.
    assert_eq!(
        names_and_labels(mock.addr, "/things?o=rank").await,
        [row("e", 5), row("d", 4)]
    );
    assert_eq!(
        names_and_labels(mock.addr, "/things?o=-rank&page=2").await,
        [row("c", 3), row("d", 4)]
    );
    // Kept by a computed field: the same.
    assert_eq!(
        names_and_labels(mock.addr, "/things?rank_min=97&page_size=5").await,
        [row("a", 1), row("b", 2), row("c", 3)]
    );
}
