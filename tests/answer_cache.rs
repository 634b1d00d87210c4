//! Answers kept with unchanged items, and answers to requests repeated
//! while nothing changed (`--repeat-cache`): a mock that sends them again
//! answers exactly as one that builds and checks every answer
//! (`--check-every-answer`), through creates, updates, readiness, deletes
//! and other sessions.

mod common;

use common::{send, send_json};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use understudy::behaviour::store::StoreLimits;
use understudy::mock::{MockOptions, MockService, RunningMock};

const SERVER: &str = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";

async fn mittwald(check_every_answer: bool) -> RunningMock {
    mittwald_service(check_every_answer).await.0
}

/// [`mittwald`], and the service it runs.
async fn mittwald_service(check_every_answer: bool) -> (RunningMock, Arc<MockService>) {
    let (api, fixture) = common::bundled("mittwald");
    let options = MockOptions {
        limits: StoreLimits {
            check_every_answer,
            ..StoreLimits::default()
        },
        ..MockOptions::default()
    };
    common::start_service(api, fixture, options).await
}

/// Status and body of one call, times taken out (the two mocks run a few
/// milliseconds apart).
async fn call(
    addr: SocketAddr,
    session: &str,
    method: &str,
    target: &str,
    body: Value,
) -> (u16, Value) {
    let headers = [
        ("x-access-token", "mock-token"),
        ("x-understudy-session", session),
    ];
    let answer = send_json(addr, method, target, &headers, body).await;
    let mut value = if answer.body.is_empty() {
        Value::Null
    } else {
        answer.json()
    };
    if let Value::Object(map) = &mut value {
        map.retain(|field, _| !field.ends_with("At"));
    }
    (answer.status, value)
}

async fn advance(addr: SocketAddr, session: &str, by: &str) {
    let answer = send(
        addr,
        "POST",
        "/__understudy/clock",
        &[
            ("content-type", "application/json"),
            ("x-understudy-session", session),
        ],
        json!({"advance": by}).to_string().as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200);
}

/// The same calls against a mock; what each answered, in order.
async fn story(addr: SocketAddr) -> Vec<(u16, Value)> {
    let mut seen = Vec::new();
    let server = format!("/v2/servers/{SERVER}");
    for session in ["a", "b"] {
        let mut ids = Vec::new();
        for description in ["shop", "blog"] {
            let created = call(
                addr,
                session,
                "POST",
                &format!("{server}/projects"),
                json!({"description": description}),
            )
            .await;
            ids.push(created.1["id"].as_str().unwrap_or_default().to_string());
            seen.push(created);
        }
        let project = |i: usize| format!("/v2/projects/{}", ids[i]);
        // Three times: built, then kept with the item, then repeated.
        for _ in 0..3 {
            seen.push(call(addr, session, "GET", &project(0), Value::Null).await);
            seen.push(call(addr, session, "GET", &server, Value::Null).await);
        }
        let patch = json!({"description": format!("{session} shop, renamed")});
        seen.push(call(addr, session, "PATCH", &project(0), patch).await);
        seen.push(call(addr, session, "GET", &project(0), Value::Null).await);
        seen.push(call(addr, session, "GET", &project(1), Value::Null).await);
        advance(addr, session, "5s").await;
        for _ in 0..3 {
            seen.push(call(addr, session, "GET", &project(0), Value::Null).await);
        }
        seen.push(call(addr, session, "DELETE", &project(1), Value::Null).await);
        seen.push(call(addr, session, "GET", &project(1), Value::Null).await);
        seen.push(call(addr, session, "GET", &project(0), Value::Null).await);
    }
    seen
}

#[tokio::test]
async fn kept_answers_are_the_answers_built_every_time() {
    let (kept, kept_service) = mittwald_service(false).await;
    let (built, built_service) = mittwald_service(true).await;
    let from_kept = story(kept.addr).await;
    let from_built = story(built.addr).await;
    assert!(kept_service.repeated_answers() > 0, "nothing was repeated");
    assert_eq!(built_service.repeated_answers(), 0);
    assert_eq!(from_kept.len(), from_built.len());
    for (i, (k, b)) in from_kept.iter().zip(&from_built).enumerate() {
        assert_eq!(k, b, "call {i} answered differently");
    }
    // The story reaches every case it is meant to: the renamed project
    // read after the change, readiness after the clock moved, the deleted
    // project refused.
    let answered = |status: u16, field: &str, value: Value| {
        from_kept
            .iter()
            .any(|(s, body)| *s == status && body[field] == value)
    };
    assert!(answered(200, "description", json!("a shop, renamed")));
    assert!(answered(200, "description", json!("b shop, renamed")));
    assert!(answered(200, "readiness", json!("creating")));
    assert!(answered(200, "readiness", json!("ready")));
    assert!(from_kept.iter().any(|(s, _)| *s == 403));
}

#[tokio::test]
async fn a_kept_answer_is_the_same_bytes_and_a_change_is_seen_at_once() {
    let mock = mittwald(false).await;
    let headers = [("x-access-token", "mock-token")];
    let created = send_json(
        mock.addr,
        "POST",
        &format!("/v2/servers/{SERVER}/projects"),
        &headers,
        json!({"description": "first"}),
    )
    .await
    .json();
    let project = format!(
        "/v2/projects/{}",
        created["id"].as_str().unwrap_or_default()
    );
    let first = send(mock.addr, "GET", &project, &headers, b"").await;
    let again = send(mock.addr, "GET", &project, &headers, b"").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, again.body);
    assert_eq!(first.header("content-type"), again.header("content-type"));
    for n in 0..3 {
        let description = format!("change {n}");
        let changed = send_json(
            mock.addr,
            "PATCH",
            &project,
            &headers,
            json!({"description": description}),
        )
        .await;
        assert_eq!(changed.status, 204);
        let read = send(mock.addr, "GET", &project, &headers, b"").await.json();
        assert_eq!(read["description"], json!(description));
    }
}
