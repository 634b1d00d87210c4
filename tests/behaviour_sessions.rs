//! Sessions and the admin API: isolation by header, reset, dump and load,
//! the clock, the request journal, and the loopback rule.

mod common;

use common::{send, send_json, start_bundled};
use serde_json::{Value, json};
use std::net::SocketAddr;

const SERVER: &str = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";

async fn create(addr: SocketAddr, session: &str, description: &str) -> String {
    let answer = send(
        addr,
        "POST",
        &format!("/v2/servers/{SERVER}/projects"),
        &[
            ("x-access-token", "mock-token"),
            ("content-type", "application/json"),
            ("x-understudy-session", session),
        ],
        json!({"description": description}).to_string().as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 201);
    answer.json()["id"].as_str().unwrap_or_default().to_string()
}

async fn count(addr: SocketAddr, session: &str) -> usize {
    let answer = send(
        addr,
        "GET",
        "/v2/projects",
        &[
            ("x-access-token", "mock-token"),
            ("x-understudy-session", session),
        ],
        b"",
    )
    .await;
    answer.json().as_array().map_or(usize::MAX, Vec::len)
}

async fn admin(addr: SocketAddr, method: &str, target: &str, body: Value) -> (u16, Value) {
    let answer = send_json(addr, method, target, &[], body).await;
    (answer.status, answer.json())
}

#[tokio::test]
async fn sessions_never_see_each_others_data() {
    let (mock, _) = start_bundled("mittwald").await;
    create(mock.addr, "job-a", "A").await;
    create(mock.addr, "job-a", "A2").await;
    create(mock.addr, "job-b", "B").await;
    assert_eq!(count(mock.addr, "job-a").await, 2);
    assert_eq!(count(mock.addr, "job-b").await, 1);
    assert_eq!(count(mock.addr, "job-c").await, 0);
    let (_, sessions) = admin(mock.addr, "GET", "/__understudy/sessions", Value::Null).await;
    assert_eq!(sessions["sessions"], json!(["job-a", "job-b", "job-c"]));
}

#[tokio::test]
async fn reset_forgets_one_session_or_all() {
    let (mock, _) = start_bundled("mittwald").await;
    create(mock.addr, "a", "A").await;
    create(mock.addr, "b", "B").await;
    let (status, _) = admin(
        mock.addr,
        "POST",
        "/__understudy/reset?session=a",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(count(mock.addr, "a").await, 0);
    assert_eq!(count(mock.addr, "b").await, 1);
    admin(
        mock.addr,
        "POST",
        "/__understudy/reset?all=true",
        Value::Null,
    )
    .await;
    assert_eq!(count(mock.addr, "b").await, 0);
}

#[tokio::test]
async fn state_dumps_and_loads_as_json() {
    let (mock, _) = start_bundled("mittwald").await;
    let id = create(mock.addr, "a", "Saved").await;
    let (status, dump) = admin(
        mock.addr,
        "GET",
        "/__understudy/state?session=a",
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let projects = dump["collections"]["projects"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["item"]["id"], id.as_str());

    let (status, _) = admin(mock.addr, "PUT", "/__understudy/state?session=b", dump).await;
    assert_eq!(status, 200);
    let read = send(
        mock.addr,
        "GET",
        &format!("/v2/projects/{id}"),
        &[
            ("x-access-token", "mock-token"),
            ("x-understudy-session", "b"),
        ],
        b"",
    )
    .await;
    assert_eq!(read.json()["description"], "Saved");

    let (status, problem) = admin(
        mock.addr,
        "PUT",
        "/__understudy/state?session=b",
        json!({"collections": {"planets": []}}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("planets"))
    );
    assert_eq!(
        count(mock.addr, "b").await,
        1,
        "a refused load changes nothing"
    );
}

#[tokio::test]
async fn the_clock_moves_per_session() {
    let (mock, _) = start_bundled("mittwald").await;
    let (_, before) = admin(
        mock.addr,
        "GET",
        "/__understudy/clock?session=a",
        Value::Null,
    )
    .await;
    let (status, after) = admin(
        mock.addr,
        "POST",
        "/__understudy/clock?session=a",
        json!({"advance": "1h"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(after["offset_ms"], 3_600_000);
    assert_ne!(before["now"], after["now"]);
    let (_, other) = admin(
        mock.addr,
        "GET",
        "/__understudy/clock?session=b",
        Value::Null,
    )
    .await;
    assert_eq!(other["offset_ms"], 0);
    let (status, _) = admin(
        mock.addr,
        "POST",
        "/__understudy/clock",
        json!({"advance": "soon"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_clock_refuses_a_move_past_its_range_instead_of_wrapping() {
    let (mock, _) = start_bundled("mittwald").await;
    let (status, body) = admin(
        mock.addr,
        "POST",
        "/__understudy/clock?session=far",
        json!({"advance": "999999999999999h"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("about 300 years"),
        "the answer says how far the clock moves: {body}"
    );
    let (_, clock) = admin(
        mock.addr,
        "GET",
        "/__understudy/clock?session=far",
        Value::Null,
    )
    .await;
    assert_eq!(clock["offset_ms"], 0, "a refused move changes nothing");
    let (status, _) = admin(
        mock.addr,
        "POST",
        "/__understudy/clock?session=far",
        json!({"advance": "2000000h"}),
    )
    .await;
    assert_eq!(status, 200, "about 228 years is within the range");
}

#[tokio::test]
async fn recent_requests_are_listed_newest_last() {
    let (mock, _) = start_bundled("mittwald").await;
    create(mock.addr, "a", "One").await;
    count(mock.addr, "b").await;
    let (_, journal) = admin(
        mock.addr,
        "GET",
        "/__understudy/requests?limit=2",
        Value::Null,
    )
    .await;
    let requests = journal["requests"].as_array().cloned().unwrap_or_default();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(requests[0]["status"], 201);
    assert_eq!(requests[1]["target"], "/v2/projects");
    assert_eq!(requests[1]["session"], "b");
}

#[tokio::test]
async fn the_admin_prefix_is_not_routed_to_the_spec() {
    let (mock, _) = start_bundled("mittwald").await;
    let (status, body) = admin(mock.addr, "GET", "/__understudy/nothing", Value::Null).await;
    assert_eq!(status, 404);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("admin endpoint"))
    );
    let (status, _) = admin(mock.addr, "DELETE", "/__understudy/state", Value::Null).await;
    assert_eq!(status, 405);
}
