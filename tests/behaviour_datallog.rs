//! The bundled Datallog fixture over HTTP: names unique per user, the plan
//! limit, both create paths (the documented one and the CLI's), the region
//! list the CLI reads, credentials as data, and atomic creates under 500
//! concurrent requests.

mod common;

use common::{Answer, send, start, start_bundled};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// The seeded accounts: user → (token, API key).
fn account(user: &str) -> (&'static str, &'static str) {
    match user {
        "ann" => ("mock-token", "mock-key"),
        _ => ("other-token", "other-key"),
    }
}

async fn create(addr: SocketAddr, user: &str, name: &str) -> Answer {
    create_at(addr, "/api/create-project", user, name).await
}

async fn create_at(addr: SocketAddr, path: &str, user: &str, name: &str) -> Answer {
    let (token, key) = account(user);
    let auth = format!("Token {token}");
    let body = json!({"region": "us-east-1", "docker_version": "python-3.10", "name": name});
    send(
        addr,
        "POST",
        path,
        &[
            ("authorization", auth.as_str()),
            ("x-api-key", key),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
    .await
}

#[tokio::test]
async fn the_cli_path_and_the_documented_path_share_the_projects() {
    let (mock, _) = start_bundled("datallog").await;
    let first = create_at(mock.addr, "/api/sdk/create-project", "ann", "shared").await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.json(),
        json!({"message": "Deploy created successfully"})
    );
    let again = create_at(mock.addr, "/api/create-project", "ann", "shared").await;
    assert_eq!(
        again.json(),
        json!({"message": "A project with the name 'shared' already exists."})
    );
}

#[tokio::test]
async fn the_region_list_is_what_the_mock_accepts_and_needs_no_credentials() {
    let (mock, api) = start_bundled("datallog").await;
    let answer = send(mock.addr, "GET", "/platform-api/list-regions", &[], b"").await;
    assert_eq!(answer.status, 200);
    let listed: Vec<Value> = answer.json()["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|r| r["region_name"].clone())
        .collect();
    let accepted = api
        .root()
        .pointer("/components/schemas/CreateProjectRequest/properties/region/enum")
        .cloned()
        .expect("the spec's regions");
    assert_eq!(Value::Array(listed), accepted);
}

#[tokio::test]
async fn credentials_must_name_one_account() {
    let (mock, _) = start_bundled("datallog").await;
    let body =
        json!({"region": "us-east-1", "docker_version": "python-3.10", "name": "x"}).to_string();
    let post = |auth: &'static str, key: &'static str| {
        let body = body.clone();
        async move {
            send(
                mock.addr,
                "POST",
                "/api/create-project",
                &[
                    ("authorization", auth),
                    ("x-api-key", key),
                    ("content-type", "application/json"),
                ],
                body.as_bytes(),
            )
            .await
        }
    };
    assert_eq!(post("Token mock-token", "mock-key").await.status, 200);
    for (auth, key) in [
        ("Token nobody", "mock-key"),
        // Two real credentials of two accounts are no account.
        ("Token mock-token", "other-key"),
    ] {
        let refused = post(auth, key).await;
        assert_eq!(refused.status, 401, "{auth} {key}");
        assert_eq!(refused.json(), json!({"detail": "Invalid token."}));
    }
}

#[tokio::test]
async fn a_name_is_unique_per_user_not_globally() {
    let (mock, _) = start_bundled("datallog").await;
    let first = create(mock.addr, "ann", "my-project").await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.json(),
        json!({"message": "Deploy created successfully"})
    );
    let again = create(mock.addr, "ann", "my-project").await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json(),
        json!({"message": "A project with the name 'my-project' already exists."})
    );
    let other_user = create(mock.addr, "ben", "my-project").await;
    assert_eq!(other_user.status, 200);
}

#[tokio::test]
async fn the_plan_limit_refuses_the_fourth_project() {
    let (mock, _) = start_bundled("datallog").await;
    for name in ["p1", "p2", "p3"] {
        assert_eq!(create(mock.addr, "ann", name).await.status, 200, "{name}");
    }
    let refused = create(mock.addr, "ann", "p4").await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({"message": "You've reached your plan's maximum project count, please update your plan"})
    );
    // A duplicate is reported as a duplicate even at the limit.
    let duplicate = create(mock.addr, "ann", "p1").await;
    assert!(
        duplicate.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("already exists"))
    );
}

#[tokio::test]
async fn the_plan_limit_comes_from_the_fixture_vars() {
    let bundled = understudy::behaviour::bundled::find("datallog").expect("bundled");
    let (api, mut fixture) = bundled.load().expect("loads");
    fixture
        .model
        .vars
        .insert("plan_limit".into(), Value::from(1));
    let (mock, _) = start(api, fixture).await;
    assert_eq!(create(mock.addr, "ann", "only").await.status, 200);
    assert_eq!(create(mock.addr, "ann", "second").await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_creates_of_one_name_give_one_success() {
    let bundled = understudy::behaviour::bundled::find("datallog").expect("bundled");
    let (api, mut fixture) = bundled.load().expect("loads");
    // The limit would refuse most creates first; this test is about the name.
    fixture
        .model
        .vars
        .insert("plan_limit".into(), Value::from(1000));
    let (mock, _) = start(api, fixture).await;
    let addr = mock.addr;
    let mut tasks = Vec::new();
    for _ in 0..500 {
        tasks.push(tokio::spawn(async move {
            create(addr, "ann", "race").await.status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task"));
    }
    let successes = statuses.iter().filter(|s| **s == 200).count();
    let refusals = statuses.iter().filter(|s| **s == 400).count();
    assert_eq!((successes, refusals), (1, 499));
}
