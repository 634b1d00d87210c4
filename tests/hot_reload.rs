//! Hot reload over HTTP: an edit takes effect without a restart, state
//! survives when the collections keep their shape, a broken edit keeps the
//! last good version serving, and a changed collection resets state.

mod common;

use common::send;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use understudy::mock::reload::{ReloadEvent, Sources, watch};
use understudy::mock::{MockOptions, MockService, RunningMock};

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Notes, version: "1"}
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: array}}}}
    post:
      operationId: addNote
      requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
      responses:
        '201': {description: ok, content: {application/json: {schema: {type: object}}}}
"#;

fn fixture(key: &str, greeting: &str) -> String {
    format!(
        "collections:\n  notes:\n    key: {key}\n    generate: {{{key}: sequence}}\noperations:\n  listNotes:\n    rules:\n      - action: list\n        collection: notes\n        headers: {{x-greeting: \"{greeting}\"}}\n  addNote:\n    rules:\n      - action: create\n        collection: notes\n        status: 201\n"
    )
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Waits (bounded) until `events` has `n` entries.
async fn wait_for(events: &Arc<Mutex<Vec<String>>>, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let seen = events.lock().map(|e| e.clone()).unwrap_or_default();
        if seen.len() >= n {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reload seen within 5 s");
}

/// File times can be coarse: make sure each write looks new.
fn write(path: &PathBuf, text: &str) {
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(path, text).expect("write");
}

#[tokio::test]
async fn edits_apply_without_a_restart_and_broken_edits_are_refused() {
    let dir = temp_dir();
    let spec = dir.join("notes.yaml");
    let fixture_path = dir.join("notes-fixture.yaml");
    std::fs::write(&spec, SPEC).expect("write spec");
    std::fs::write(&fixture_path, fixture("id", "hello")).expect("write fixture");
    let sources = Sources {
        spec: spec.clone(),
        fixture: Some(fixture_path.clone()),
        vars: Vec::new(),
        overlays: Vec::new(),
        stateless: false,
    };
    let (api, loaded) = sources.load().expect("loads");
    let service = Arc::new(MockService::new(
        Arc::new(api),
        Arc::new(loaded),
        MockOptions::default(),
    ));
    let mock = RunningMock::start_shared(service.clone())
        .await
        .expect("starts");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let watcher = tokio::spawn(watch(
        service,
        sources,
        Duration::from_millis(20),
        move |event| {
            let line = match event {
                ReloadEvent::Applied(outcome) => format!("{outcome:?}"),
                ReloadEvent::Refused(message) => format!("refused: {message}"),
            };
            if let Ok(mut events) = sink.lock() {
                events.push(line);
            }
        },
    ));
    let json = ("content-type", "application/json");
    assert_eq!(
        send(mock.addr, "POST", "/notes", &[json], b"{\"text\":\"a\"}")
            .await
            .status,
        201
    );
    let list = send(mock.addr, "GET", "/notes", &[], b"").await;
    assert_eq!(list.header("x-greeting"), Some("hello"));

    write(&fixture_path, &fixture("id", "bonjour"));
    assert_eq!(wait_for(&events, 1).await[0], "StateKept");
    let list = send(mock.addr, "GET", "/notes", &[], b"").await;
    assert_eq!(list.header("x-greeting"), Some("bonjour"));
    assert_eq!(list.json().as_array().map(Vec::len), Some(1), "state kept");

    write(&fixture_path, "operations: [not, a, mapping]\n");
    let seen = wait_for(&events, 2).await;
    assert!(
        seen[1].starts_with("refused:") && seen[1].contains("notes-fixture.yaml"),
        "{}",
        seen[1]
    );
    let list = send(mock.addr, "GET", "/notes", &[], b"").await;
    assert_eq!(
        list.header("x-greeting"),
        Some("bonjour"),
        "the last good version serves"
    );

    write(&fixture_path, &fixture("number", "hi"));
    assert_eq!(wait_for(&events, 3).await[2], "StateReset");
    let list = send(mock.addr, "GET", "/notes", &[], b"").await;
    assert_eq!(
        list.json().as_array().map(Vec::len),
        Some(0),
        "new key, fresh state"
    );

    watcher.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
