//! The bundled mittwald fixture over HTTP: projects on servers, readiness on
//! the session clock, updates, deletes and project-hosting orders.

mod common;

use common::{Answer, send, send_json, start_bundled};
use serde_json::{Value, json};
use std::net::SocketAddr;

const SERVER: &str = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
const TOKEN: (&str, &str) = ("x-access-token", "mock-token");
const JSON: (&str, &str) = ("content-type", "application/json");

async fn call(addr: SocketAddr, method: &str, target: &str, body: Value) -> Answer {
    send_json(addr, method, target, &[TOKEN], body).await
}

async fn create_project(addr: SocketAddr, description: &str) -> String {
    let answer = call(
        addr,
        "POST",
        &format!("/v2/servers/{SERVER}/projects"),
        json!({"description": description}),
    )
    .await;
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()["id"].as_str().expect("an id").to_string()
}

async fn advance(addr: SocketAddr, by: &str) {
    let answer = send(
        addr,
        "POST",
        "/__understudy/clock",
        &[JSON],
        json!({"advance": by}).to_string().as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn a_new_project_becomes_ready_when_the_clock_passes_five_seconds() {
    let (mock, _) = start_bundled("mittwald").await;
    let id = create_project(mock.addr, "Shop").await;
    let project = call(mock.addr, "GET", &format!("/v2/projects/{id}"), Value::Null).await;
    assert_eq!(project.status, 200);
    let body = project.json();
    assert_eq!(
        (&body["isReady"], &body["readiness"], &body["status"]),
        (&json!(false), &json!("creating"), &json!("pending"))
    );
    assert_eq!(body["description"], "Shop");
    assert_eq!(body["serverId"], SERVER);
    assert_eq!(body["customerId"], "673c107f-75e1-451c-8eaa-5bf101bd2b2c");

    advance(mock.addr, "4s").await;
    let body = call(mock.addr, "GET", &format!("/v2/projects/{id}"), Value::Null)
        .await
        .json();
    assert_eq!(body["isReady"], false, "4 s is not yet 5 s");

    advance(mock.addr, "1s").await;
    let body = call(mock.addr, "GET", &format!("/v2/projects/{id}"), Value::Null)
        .await
        .json();
    assert_eq!(
        (&body["isReady"], &body["readiness"], &body["status"]),
        (&json!(true), &json!("ready"), &json!("ready"))
    );
}

#[tokio::test]
async fn the_older_placementgroups_path_creates_the_same_project() {
    let (mock, _) = start_bundled("mittwald").await;
    let answer = call(
        mock.addr,
        "POST",
        &format!("/v2/placementgroups/{SERVER}/projects"),
        json!({"description": "Old path"}),
    )
    .await;
    assert_eq!(answer.status, 201);
    let id = answer.json()["id"].as_str().expect("id").to_string();
    let project = call(mock.addr, "GET", &format!("/v2/projects/{id}"), Value::Null).await;
    assert_eq!(project.json()["description"], "Old path");
}

/// mittwald's spec documents 403 `DefaultError`, not 404, for a server or
/// project the token cannot reach; reading a server it can is the one 404.
#[tokio::test]
async fn an_unknown_server_is_a_403_on_create_and_a_404_on_read() {
    let (mock, _) = start_bundled("mittwald").await;
    let answer = call(
        mock.addr,
        "POST",
        "/v2/servers/00000000-0000-4000-8000-000000000000/projects",
        json!({"description": "x"}),
    )
    .await;
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["type"], "PermissionDenied");
    let read = call(
        mock.addr,
        "GET",
        "/v2/servers/00000000-0000-4000-8000-000000000000",
        Value::Null,
    )
    .await;
    assert_eq!(read.status, 404);
    assert_eq!(read.json()["type"], "NotFound");
}

#[tokio::test]
async fn projects_are_listed_filtered_counted_updated_and_deleted() {
    let (mock, _) = start_bundled("mittwald").await;
    let first = create_project(mock.addr, "Alpha shop").await;
    let second = create_project(mock.addr, "Beta blog").await;

    let list = call(mock.addr, "GET", "/v2/projects?limit=1", Value::Null).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.header("x-pagination-totalcount"), Some("2"));
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));

    let found = call(
        mock.addr,
        "GET",
        "/v2/projects?searchTerm=BLOG",
        Value::Null,
    )
    .await;
    let ids: Vec<Value> = found.json().as_array().cloned().unwrap_or_default();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0]["id"], second.as_str());

    let renamed = call(
        mock.addr,
        "PATCH",
        &format!("/v2/projects/{first}/description"),
        json!({"description": "Alpha store"}),
    )
    .await;
    assert_eq!(renamed.status, 204);
    let project = call(
        mock.addr,
        "GET",
        &format!("/v2/projects/{first}"),
        Value::Null,
    )
    .await;
    assert_eq!(project.json()["description"], "Alpha store");

    let deleted = call(
        mock.addr,
        "DELETE",
        &format!("/v2/projects/{first}"),
        Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 204);
    let gone = call(
        mock.addr,
        "GET",
        &format!("/v2/projects/{first}"),
        Value::Null,
    )
    .await;
    assert_eq!(gone.status, 403);
    let list = call(mock.addr, "GET", "/v2/projects", Value::Null).await;
    assert_eq!(list.header("x-pagination-totalcount"), Some("1"));
}

fn order(disk: u64, machine: &str) -> Value {
    json!({
        "orderType": "projectHosting",
        "orderData": {
            "customerId": "0f5ec9cd-1b1b-4850-9061-fcebe765c62d",
            "description": "Stand-alone",
            "diskspaceInGiB": disk,
            "spec": {"machineType": machine}
        }
    })
}

#[tokio::test]
async fn orders_check_diskspace_and_machine_type_then_create_the_project() {
    let (mock, _) = start_bundled("mittwald").await;
    for (disk, machine, keyword) in [
        (10, "shared.xlarge", "minimum"),
        (30, "shared.xlarge", "multipleOf"),
        (40, "shared.unknown", "enum"),
    ] {
        let answer = call(mock.addr, "POST", "/v2/orders", order(disk, machine)).await;
        assert_eq!(answer.status, 400, "{disk} GiB on {machine}");
        let body = answer.json();
        assert_eq!(body["type"], "ValidationError");
        assert_eq!(body["validationErrors"][0]["type"], keyword, "{body}");
    }
    let answer = call(
        mock.addr,
        "POST",
        "/v2/orders",
        order(40, "dedicated.large"),
    )
    .await;
    assert_eq!(answer.status, 201);
    assert!(answer.json()["orderId"].is_string());
    let list = call(
        mock.addr,
        "GET",
        "/v2/projects?customerId=0f5ec9cd-1b1b-4850-9061-fcebe765c62d",
        Value::Null,
    )
    .await;
    let projects = list.json();
    assert_eq!(projects.as_array().map(Vec::len), Some(1), "{projects}");
    assert_eq!(projects[0]["description"], "Stand-alone");
}

#[tokio::test]
async fn servers_and_articles_come_from_the_seed() {
    let (mock, _) = start_bundled("mittwald").await;
    let servers = call(mock.addr, "GET", "/v2/servers", Value::Null).await;
    assert_eq!(servers.header("x-pagination-totalcount"), Some("2"));
    let server = call(
        mock.addr,
        "GET",
        &format!("/v2/servers/{SERVER}"),
        Value::Null,
    )
    .await;
    assert_eq!(server.json()["shortId"], "s-4e7tz3");
    let articles = send(mock.addr, "GET", "/v2/articles", &[], b"").await;
    assert_eq!(articles.json().as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn an_invalid_value_is_quoted_cut_short_not_echoed_whole() {
    let (mock, _) = start_bundled("mittwald").await;
    let huge: Vec<String> = vec!["abcdefgh".to_string(); 50_000];
    let answer = call(
        mock.addr,
        "POST",
        &format!("/v2/servers/{SERVER}/projects"),
        json!({"description": huge}),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.len() < 2_000,
        "{} bytes echoed",
        answer.body.len()
    );
    let message = answer.json()["validationErrors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.ends_with("… (550001 bytes) is not of type \"string\""),
        "{message}"
    );
}
