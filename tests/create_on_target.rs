//! A create under a stored item (`POST /hosts/{id}/vms`) reads the item
//! in its `set` as a read of it would show it: readiness fields, computed
//! fields, nested fields, filters. The engine reads such a target field by
//! field from the store and presents it whole only for what lookups cannot
//! answer; this holds both ways to the same answer.

mod common;

use common::{send, start};
use serde_json::json;
use std::path::Path;
use understudy::behaviour::Fixture;
use understudy::spec::Api;

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Hosts, version: "1"}
paths:
  /hosts/{hostId}:
    get:
      operationId: getHost
      parameters: [{name: hostId, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object}
        '404': {description: missing}
  /hosts/{hostId}/vms:
    post:
      operationId: createVm
      parameters: [{name: hostId, in: path, required: true, schema: {type: string}}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {type: object}
        '404': {description: missing}
  /hosts/{hostId}/short-vms:
    post:
      operationId: createShortVm
      parameters: [{name: hostId, in: path, required: true, schema: {type: string}}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {type: object}
"#;

const FIXTURE: &str = r#"
collections:
  hosts:
    key: id
    seed:
      # `state` and `label` are also stored: what a read shows (the readiness
      # field, the computed one) is what a create reads.
      - {id: h1, name: alpha, spec: {cpu: "2"}, zone: 7, state: stored, label: stored}
    computed:
      label: "{{ item.name ~ '!' }}"
    ready:
      after: 1h
      pending: {state: pending}
      ready: {state: ready}
  vms:
    key: id
    generate:
      id: uuid
      home: "{{ {'path': '/home/' ~ item.host ~ '/' ~ item.zone} }}"
    computed:
      size: "{{ item.cpu ~ ' cpu' }}"
    ready:
      after: 1h
      pending: {phase: building}
      ready: {phase: running}
operations:
  getHost:
    target: {collection: hosts, id: path.hostId}
    rules:
      - action: read
  createVm:
    target: {collection: hosts, id: path.hostId}
    rules:
      - action: create
        collection: vms
        set:
          name: "{{ body.name }}"
          host: "{{ item.name }}"
          zone: "{{ item.zone }}"
          cpu: "{{ item.spec.cpu }}"
          hostState: "{{ item.state }}"
          hostLabel: "{{ item.label }}"
          loud: "{{ item.name | upper }}"
          missing: "{{ item.nothing is undefined }}"
          whole: "{{ item.spec }}"
        status: 201
  # Answers that read the new item's fields: stored ones, and ones only a
  # presented item has (computed, readiness).
  createShortVm:
    target: {collection: hosts, id: path.hostId}
    rules:
      - action: create
        collection: vms
        set: {name: "{{ body.name }}", cpu: "{{ item.spec.cpu }}"}
        status: 201
        body:
          id: "{{ item.id }}"
          name: "{{ item.name }}"
          phase: "{{ item.phase }}"
          size: "{{ item.size }}"
"#;

#[tokio::test]
async fn a_create_reads_its_stored_target_as_a_read_shows_it() {
    let api = Api::from_text(Path::new("hosts.yaml"), SPEC).expect("spec loads");
    let mut fixture =
        Fixture::from_text(Path::new("hosts-fixture.yaml"), FIXTURE).expect("fixture loads");
    fixture.bind(&api).expect("fixture fits the spec");
    let (mock, _) = start(api, fixture).await;

    let host = send(mock.addr, "GET", "/hosts/h1", &[], b"").await;
    assert_eq!(host.status, 200);
    // Seed items are ready from the start; `label` is computed.
    assert_eq!(host.json()["state"], "ready");
    assert_eq!(host.json()["label"], "alpha!");

    let created = send(
        mock.addr,
        "POST",
        "/hosts/h1/vms",
        &[("content-type", "application/json")],
        br#"{"name":"web"}"#,
    )
    .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let mut vm = created.json();
    assert!(vm["id"].as_str().is_some_and(|id| id.len() == 36), "{vm}");
    vm.as_object_mut().map(|m| m.remove("id"));
    assert_eq!(
        vm,
        json!({
            "name": "web",
            "host": "alpha",
            "zone": 7,
            "cpu": "2",
            "hostState": "ready",
            "hostLabel": "alpha!",
            "loud": "ALPHA",
            "missing": true,
            "whole": {"cpu": "2"},
            "home": {"path": "/home/alpha/7"},
            "phase": "building",
            "size": "2 cpu",
        })
    );

    let short = send(
        mock.addr,
        "POST",
        "/hosts/h1/short-vms",
        &[("content-type", "application/json")],
        br#"{"name":"db"}"#,
    )
    .await;
    assert_eq!(short.status, 201);
    let short = short.json();
    assert!(
        short["id"].as_str().is_some_and(|id| id.len() == 36),
        "{short}"
    );
    assert_eq!(short["name"], "db");
    assert_eq!(short["phase"], "building");
    assert_eq!(short["size"], "2 cpu");

    let unknown = send(
        mock.addr,
        "POST",
        "/hosts/h9/vms",
        &[("content-type", "application/json")],
        br#"{"name":"web"}"#,
    )
    .await;
    assert_eq!(unknown.status, 404);
}
