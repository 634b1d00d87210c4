//! The bundled Waldur fixture over HTTP, for what the portable scenarios in
//! `scenarios/waldur` cannot show against a real server: credentials on
//! the session clock, seed data (the busy project), time travel for
//! finished projects, the switch to the 2024 server's behaviour per
//! session, and the framework's conventions (redirects, `Allow`, HTML 404).

mod common;

use common::{Answer, send, send_json, start_bundled};
use serde_json::{Value, json};
use std::net::SocketAddr;

const STAFF: (&str, &str) = (
    "authorization",
    "Token 0123456789abcdef0123456789abcdef01234567",
);
const ALICE: (&str, &str) = ("authorization", "Token alice-token");
const ALPHA: &str = "4b2f6e1a9c3d4e8fa1b2c3d4e5f60001";
const BUSY: &str = "9d1e7c3b5a2f4b8e9c6d1e2f3a4b0001";
const ENDED: &str = "9d1e7c3b5a2f4b8e9c6d1e2f3a4b0002";

async fn call(addr: SocketAddr, method: &str, target: &str, body: Value) -> Answer {
    send_json(addr, method, target, &[STAFF], body).await
}

/// Moves the session's clock (the admin API).
async fn advance(addr: SocketAddr, session: &str, by: &str) {
    let answer = send_json(
        addr,
        "POST",
        &format!("/__understudy/clock?session={session}"),
        &[],
        json!({"advance": by}),
    )
    .await;
    assert_eq!(answer.status, 200);
}

async fn make_project(addr: SocketAddr, name: &str, headers: &[(&str, &str)]) -> Value {
    let answer = send_json(
        addr,
        "POST",
        "/api/projects/",
        headers,
        json!({"name": name, "customer": format!("http://{addr}/api/customers/{ALPHA}/")}),
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

#[tokio::test]
async fn ids_are_hex_and_every_spelling_finds_the_item() {
    let (mock, _) = start_bundled("waldur").await;
    let project = make_project(mock.addr, "Hex", &[STAFF]).await;
    let uuid = project["uuid"].as_str().expect("uuid");
    assert_eq!(uuid.len(), 32);
    assert!(uuid.bytes().all(|b| b.is_ascii_hexdigit()), "{uuid}");
    let hyphenated = format!(
        "{}-{}-{}-{}-{}",
        &uuid[0..8],
        &uuid[8..12],
        &uuid[12..16],
        &uuid[16..20],
        &uuid[20..32]
    );
    for spelling in [
        uuid.to_string(),
        hyphenated.clone(),
        hyphenated.to_uppercase(),
    ] {
        let read = call(
            mock.addr,
            "GET",
            &format!("/api/projects/{spelling}/"),
            Value::Null,
        )
        .await;
        assert_eq!(read.status, 200, "{spelling}");
        assert_eq!(read.json()["uuid"], uuid);
    }
    // Microseconds, and a Location pointing at the new item.
    let created = project["created"].as_str().expect("created");
    assert_eq!(
        created.len(),
        "2026-01-01T00:00:00.000000Z".len(),
        "{created}"
    );
}

#[tokio::test]
async fn credentials_name_users_and_expire_after_an_hour() {
    let (mock, _) = start_bundled("waldur").await;
    let session = ("x-understudy-session", "tokens");
    let get = |auth: &'static str| async move {
        let headers = [("authorization", auth), session];
        send(mock.addr, "GET", "/api/projects/", &headers, b"").await
    };
    assert_eq!(get("Token alice-token").await.status, 200);
    let unknown = get("Token nope").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.header("www-authenticate"), Some("Token"));
    assert_eq!(unknown.json(), json!({"detail": "Invalid token."}));
    let bearer = get("Bearer alice-token").await;
    assert_eq!(
        bearer.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    let spaced = get("Token a b").await;
    assert_eq!(
        spaced.json(),
        json!({"detail": "Invalid token. Token string should not contain spaces."})
    );
    advance(mock.addr, "tokens", "61m").await;
    let expired = get("Token alice-token").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json(), json!({"detail": "Token has expired."}));
    // Another session has its own clock: its tokens are fresh.
    let other = send(
        mock.addr,
        "GET",
        "/api/projects/",
        &[ALICE, ("x-understudy-session", "fresh")],
        b"",
    )
    .await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn any_token_acts_as_staff_when_the_session_says_so() {
    let (mock, _) = start_bundled("waldur").await;
    let session = ("x-understudy-session", "frontend");
    let before = send(
        mock.addr,
        "GET",
        "/api/customers/",
        &[("authorization", "Token whatever"), session],
        b"",
    )
    .await;
    assert_eq!(before.status, 401);
    let set = send_json(
        mock.addr,
        "PUT",
        "/__understudy/vars?session=frontend",
        &[],
        json!({"any_token": true}),
    )
    .await;
    assert_eq!(set.status, 200, "{}", String::from_utf8_lossy(&set.body));
    let after = send(
        mock.addr,
        "GET",
        "/api/customers/",
        &[("authorization", "Token whatever"), session],
        b"",
    )
    .await;
    assert_eq!(after.status, 200);
    assert_eq!(after.json().as_array().map(Vec::len), Some(2));
    let unknown_var = send_json(
        mock.addr,
        "PUT",
        "/__understudy/vars?session=frontend",
        &[],
        json!({"no_such_var": 1}),
    )
    .await;
    assert_eq!(unknown_var.status, 400);
}

#[tokio::test]
async fn a_user_sees_only_what_their_roles_reach() {
    let (mock, _) = start_bundled("waldur").await;
    // Alice administers the busy seed project only.
    let listed = send(mock.addr, "GET", "/api/projects/", &[ALICE], b"").await;
    let uuids: Vec<Value> = listed
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["uuid"].clone())
        .collect();
    assert_eq!(uuids, vec![json!(BUSY)]);
    let other = send(
        mock.addr,
        "GET",
        &format!("/api/projects/{ENDED}/"),
        &[ALICE],
        b"",
    )
    .await;
    assert_eq!(other.status, 404);
    let customers = send(mock.addr, "GET", "/api/customers/", &[ALICE], b"").await;
    assert_eq!(customers.json().as_array().map(Vec::len), Some(1));
    let patch = send_json(
        mock.addr,
        "PATCH",
        &format!("/api/projects/{BUSY}/"),
        &[ALICE],
        json!({"description": "mine"}),
    )
    .await;
    assert_eq!(patch.status, 403);
}

#[tokio::test]
async fn the_busy_project_is_refused_as_the_docs_say_and_as_the_2024_server_does() {
    let (mock, _) = start_bundled("waldur").await;
    let docs = call(
        mock.addr,
        "DELETE",
        &format!("/api/projects/{BUSY}/"),
        Value::Null,
    )
    .await;
    assert_eq!(docs.status, 409);
    assert_eq!(
        docs.json()["detail"],
        "Project contains active resources. Please remove them before deleting project."
    );
    let set = send_json(
        mock.addr,
        "PUT",
        "/__understudy/vars?session=v2024",
        &[],
        json!({"waldur_server": 2024}),
    )
    .await;
    assert_eq!(set.status, 200);
    let session = ("x-understudy-session", "v2024");
    let old = send(
        mock.addr,
        "DELETE",
        &format!("/api/projects/{BUSY}/"),
        &[STAFF, session],
        b"",
    )
    .await;
    assert_eq!(old.status, 400);
    assert_eq!(
        old.json(),
        json!(["Project contains active resources. Please remove them before deleting project."])
    );
    // The 2024 server has no recover route: Django's HTML page, no Allow.
    let recover = send_json(
        mock.addr,
        "POST",
        &format!("/api/projects/{ENDED}/recover/"),
        &[STAFF, session],
        json!({}),
    )
    .await;
    assert_eq!(recover.status, 404);
    assert_eq!(
        recover.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&recover.body).contains("<h1>Not Found</h1>"));
    assert_eq!(recover.header("allow"), None);
    // …and sends fewer fields.
    let read = send(
        mock.addr,
        "GET",
        &format!("/api/projects/{ENDED}/"),
        &[STAFF, session],
        b"",
    )
    .await;
    let project = read.json();
    assert!(project.get("is_removed").is_none(), "{project}");
    assert!(project.get("kind").is_none(), "{project}");
    assert_eq!(project["billing_price_estimate"]["total"], json!(0.0));
}

#[tokio::test]
async fn finished_projects_are_concealed_once_their_end_date_passed() {
    let (mock, _) = start_bundled("waldur").await;
    let list = |target: &'static str| async move {
        send(mock.addr, "GET", target, &[STAFF], b"").await.json()
    };
    let concealed = list("/api/projects/?conceal_finished_projects=true").await;
    assert!(
        !concealed
            .as_array()
            .expect("a list")
            .iter()
            .any(|p| p["uuid"] == ENDED),
        "the project that ended in 2025 is concealed"
    );
    let all = list("/api/projects/").await;
    assert!(
        all.as_array()
            .expect("a list")
            .iter()
            .any(|p| p["uuid"] == ENDED)
    );
}

#[tokio::test]
async fn items_made_in_one_millisecond_still_sort_by_age() {
    let (mock, _) = start_bundled("waldur").await;
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(make_project(mock.addr, &format!("Burst {i}"), &[STAFF]).await["uuid"].clone());
    }
    let newest_first = send(
        mock.addr,
        "GET",
        "/api/projects/?query=Burst&o=-created",
        &[STAFF],
        b"",
    )
    .await
    .json();
    let order: Vec<Value> = newest_first
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["uuid"].clone())
        .collect();
    made.reverse();
    assert_eq!(order, made);
}

#[tokio::test]
async fn django_conventions_redirects_allow_and_pages() {
    let (mock, _) = start_bundled("waldur").await;
    let redirect = send(mock.addr, "GET", "/api/projects?page=2", &[STAFF], b"").await;
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/api/projects/?page=2"));
    assert!(redirect.body.is_empty());
    let page = send(
        mock.addr,
        "GET",
        "/api/projects/?page_size=abc&name=a%20b",
        &[STAFF],
        b"",
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("allow"), Some("GET, POST, HEAD, OPTIONS"));
    assert_eq!(
        page.header("link"),
        Some(&*format!(
            "<http://{0}/api/projects/?name=a+b&page_size=abc>; rel=\"first\", <http://{0}/api/projects/?name=a+b&page_size=abc>; rel=\"last\"",
            mock.addr
        ))
    );
    let bad_page = send(mock.addr, "GET", "/api/projects/?page=abc", &[STAFF], b"").await;
    assert_eq!(bad_page.status, 404);
    assert_eq!(bad_page.json(), json!({"detail": "Invalid page."}));
    let broken = send(
        mock.addr,
        "POST",
        "/api/projects/",
        &[STAFF, ("content-type", "application/json")],
        b"{\"name\": \"x\",}",
    )
    .await;
    assert_eq!(
        broken.json(),
        json!({"detail": "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 14 (char 13)"})
    );
}
