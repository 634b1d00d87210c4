//! The bundled Waldur fixture over HTTP: customers and projects, filters,
//! ordering and pages, soft delete with the undocumented 409, recover,
//! move, team members and stats.

mod common;

use common::{Answer, send_json, start_bundled};
use serde_json::{Value, json};
use std::net::SocketAddr;

const AUTH: (&str, &str) = ("authorization", "Token alice-token");
const ALPHA: &str = "4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001";
const BETA: &str = "4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60002";
const GENOME: &str = "9d1e7c3b-5a2f-4b8e-9c6d-1e2f3a4b0001"; // has 2 resources
const CLIMATE: &str = "9d1e7c3b-5a2f-4b8e-9c6d-1e2f3a4b0002"; // ended 2025-01-31
const BOB: &str = "2c8e4a6f-1b3d-4f5a-8e7c-9d0b1a2c0002";

async fn call(addr: SocketAddr, method: &str, target: &str, body: Value) -> Answer {
    send_json(addr, method, target, &[AUTH], body).await
}

fn names(answer: &Answer) -> Vec<String> {
    answer
        .json()
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|p| p["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn customer_url(addr: SocketAddr, uuid: &str) -> String {
    format!("http://{addr}/api/customers/{uuid}/")
}

#[tokio::test]
async fn create_belongs_to_one_customer_and_reads_back() {
    let (mock, _) = start_bundled("waldur").await;
    let created = call(
        mock.addr,
        "POST",
        "/api/projects/",
        json!({"name": "Deep Learning", "customer": customer_url(mock.addr, BETA), "description": "GPU work"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let project = created.json();
    assert_eq!(project["customer_uuid"], BETA);
    assert_eq!(project["customer_name"], "Beta Research Lab");
    assert_eq!(project["is_removed"], false);
    assert_eq!(project["resources_count"], 0);
    let uuid = project["uuid"].as_str().expect("uuid");
    assert_eq!(
        project["url"],
        format!("http://{}/api/projects/{uuid}/", mock.addr)
    );
    let read = call(
        mock.addr,
        "GET",
        &format!("/api/projects/{uuid}/"),
        Value::Null,
    )
    .await;
    assert_eq!(read.json()["description"], "GPU work");
    let customer = call(
        mock.addr,
        "GET",
        &format!("/api/customers/{BETA}/"),
        Value::Null,
    )
    .await;
    assert_eq!(customer.json()["projects_count"], 2);
}

#[tokio::test]
async fn unknown_customers_get_drfs_hyperlink_error() {
    let (mock, _) = start_bundled("waldur").await;
    let answer = call(
        mock.addr,
        "POST",
        "/api/projects/",
        json!({"name": "X", "customer": customer_url(mock.addr, "00000000-0000-4000-8000-000000000000")}),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        json!({"customer": ["Invalid hyperlink - Object does not exist."]})
    );
}

#[tokio::test]
async fn update_and_partial_update_merge_fields() {
    let (mock, _) = start_bundled("waldur").await;
    let path = format!("/api/projects/{CLIMATE}/");
    let patched = call(
        mock.addr,
        "PATCH",
        &path,
        json!({"description": "Global models"}),
    )
    .await;
    assert_eq!(patched.status, 200);
    let body = patched.json();
    assert_eq!(body["description"], "Global models");
    assert_eq!(body["name"], "Climate Models", "untouched fields stay");
    let put = call(
        mock.addr,
        "PUT",
        &path,
        json!({"name": "Climate", "customer": customer_url(mock.addr, ALPHA)}),
    )
    .await;
    assert_eq!(put.status, 200);
    assert_eq!(put.json()["name"], "Climate");
}

#[tokio::test]
async fn delete_is_refused_with_409_while_resources_are_active() {
    let (mock, _) = start_bundled("waldur").await;
    let answer = call(
        mock.addr,
        "DELETE",
        &format!("/api/projects/{GENOME}/"),
        Value::Null,
    )
    .await;
    assert_eq!(answer.status, 409);
    assert!(
        answer.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("2 active resources"))
    );
    let still = call(
        mock.addr,
        "GET",
        &format!("/api/projects/{GENOME}/"),
        Value::Null,
    )
    .await;
    assert_eq!(still.status, 200);
}

#[tokio::test]
async fn soft_delete_hides_until_include_terminated_and_recover_brings_it_back() {
    let (mock, _) = start_bundled("waldur").await;
    let path = format!("/api/projects/{CLIMATE}/");
    assert_eq!(
        call(mock.addr, "DELETE", &path, Value::Null).await.status,
        204
    );
    assert_eq!(call(mock.addr, "GET", &path, Value::Null).await.status, 404);
    let listed = call(mock.addr, "GET", "/api/projects/?name=climate", Value::Null).await;
    assert!(names(&listed).is_empty());
    let terminated = call(
        mock.addr,
        "GET",
        "/api/projects/?name=climate&include_terminated=true",
        Value::Null,
    )
    .await;
    assert_eq!(names(&terminated), ["Climate Models"]);
    assert_eq!(terminated.json()[0]["is_removed"], true);

    let recovered = call(
        mock.addr,
        "POST",
        &format!("/api/projects/{CLIMATE}/recover/"),
        json!({}),
    )
    .await;
    assert_eq!(recovered.status, 200);
    assert_eq!(recovered.json()["is_removed"], false);
    assert_eq!(call(mock.addr, "GET", &path, Value::Null).await.status, 200);
    let again = call(
        mock.addr,
        "POST",
        &format!("/api/projects/{CLIMATE}/recover/"),
        json!({}),
    )
    .await;
    assert_eq!(again.status, 400, "a live project cannot be recovered");
}

#[tokio::test]
async fn list_filters_select_projects() {
    let (mock, _) = start_bundled("waldur").await;
    let cases: [(&str, &[&str]); 17] = [
        ("", &["Climate Models", "Genome Analysis", "Robotics Lab"]),
        (&format!("customer={BETA}"), &["Robotics Lab"]),
        (
            &format!("customer={ALPHA},{BETA}"),
            &["Climate Models", "Genome Analysis", "Robotics Lab"],
        ),
        ("name=LAB", &["Robotics Lab"]),
        ("name_exact=Robotics", &[]),
        ("query=genome-01", &["Genome Analysis"]),
        ("customer_name=beta", &["Robotics Lab"]),
        (
            "created=2024-03-01T00:00:00Z&created_before=2024-05-01T00:00:00Z",
            &["Climate Models"],
        ),
        (
            "conceal_finished_projects=true",
            &["Genome Analysis", "Robotics Lab"],
        ),
        ("name_exact=Robotics%20Lab", &["Robotics Lab"]),
        ("description=SIMULATIONS", &["Climate Models"]),
        ("slug=genome-analysis", &["Genome Analysis"]),
        ("customer_abbreviation=brl", &["Robotics Lab"]),
        (
            "customer_native_name=universit",
            &["Climate Models", "Genome Analysis"],
        ),
        ("modified_before=2024-03-01T00:00:00Z", &["Genome Analysis"]),
        ("modified=2024-05-01T00:00:00Z", &["Robotics Lab"]),
        (
            "is_removed=false",
            &["Climate Models", "Genome Analysis", "Robotics Lab"],
        ),
    ];
    for (query, expected) in cases {
        let answer = call(
            mock.addr,
            "GET",
            &format!("/api/projects/?{query}"),
            Value::Null,
        )
        .await;
        assert_eq!(answer.status, 200, "{query}");
        assert_eq!(names(&answer), expected, "{query}");
    }
    let admin = call(
        mock.addr,
        "GET",
        "/api/projects/?can_admin=true",
        Value::Null,
    )
    .await;
    assert_eq!(
        names(&admin),
        ["Genome Analysis"],
        "alice administers one project"
    );
}

#[tokio::test]
async fn ordering_and_pages_follow_drf() {
    let (mock, _) = start_bundled("waldur").await;
    let ordered = call(mock.addr, "GET", "/api/projects/?o=-created", Value::Null).await;
    assert_eq!(
        names(&ordered),
        ["Robotics Lab", "Climate Models", "Genome Analysis"]
    );
    let by_customer = call(
        mock.addr,
        "GET",
        "/api/projects/?o=-customer_name,name",
        Value::Null,
    )
    .await;
    assert_eq!(
        names(&by_customer),
        ["Robotics Lab", "Climate Models", "Genome Analysis"]
    );

    let page = call(
        mock.addr,
        "GET",
        "/api/projects/?page=2&page_size=2",
        Value::Null,
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(names(&page), ["Robotics Lab"]);
    assert_eq!(page.header("x-result-count"), Some("3"));
    let link = page.header("link").unwrap_or_default().to_string();
    assert!(link.contains("page_size=2&page=1>; rel=\"prev\""), "{link}");
    assert!(!link.contains("rel=\"next\""), "{link}");
    let beyond = call(
        mock.addr,
        "GET",
        "/api/projects/?page=3&page_size=2",
        Value::Null,
    )
    .await;
    assert_eq!(beyond.status, 404);
    assert_eq!(beyond.json(), json!({"detail": "Invalid page."}));
}

#[tokio::test]
async fn move_project_changes_the_customer() {
    let (mock, _) = start_bundled("waldur").await;
    let moved = call(
        mock.addr,
        "POST",
        &format!("/api/projects/{CLIMATE}/move_project/"),
        json!({"customer": customer_url(mock.addr, BETA)}),
    )
    .await;
    assert_eq!(moved.status, 200);
    assert_eq!(moved.json()["customer_name"], "Beta Research Lab");
    let listed = call(
        mock.addr,
        "GET",
        &format!("/api/projects/?customer={BETA}"),
        Value::Null,
    )
    .await;
    assert_eq!(names(&listed), ["Climate Models", "Robotics Lab"]);
}

#[tokio::test]
async fn team_members_are_added_listed_updated_and_removed() {
    let (mock, _) = start_bundled("waldur").await;
    let base = format!("/api/projects/{GENOME}");
    let grant =
        json!({"user": BOB, "role": "PROJECT.MANAGER", "expiration_time": "2027-01-01T00:00:00Z"});
    let added = call(
        mock.addr,
        "POST",
        &format!("{base}/add_user/"),
        grant.clone(),
    )
    .await;
    assert_eq!(added.status, 201);
    assert_eq!(
        added.json(),
        json!({"expiration_time": "2027-01-01T00:00:00Z"})
    );
    let twice = call(mock.addr, "POST", &format!("{base}/add_user/"), grant).await;
    assert_eq!(twice.status, 400);
    let bad_role = call(
        mock.addr,
        "POST",
        &format!("{base}/add_user/"),
        json!({"user": BOB, "role": "PROJECT.KING"}),
    )
    .await;
    assert_eq!(bad_role.status, 400);
    assert!(bad_role.json().get("role").is_some());

    let users = call(
        mock.addr,
        "GET",
        &format!("{base}/list_users/"),
        Value::Null,
    )
    .await;
    assert_eq!(users.header("x-result-count"), Some("2"));
    let managers = call(
        mock.addr,
        "GET",
        &format!("{base}/list_users/?role=PROJECT.MANAGER"),
        Value::Null,
    )
    .await;
    let managers = managers.json();
    assert_eq!(managers.as_array().map(Vec::len), Some(1));
    assert_eq!(managers[0]["user_username"], "bob");

    let updated = call(
        mock.addr,
        "POST",
        &format!("{base}/update_user/"),
        json!({"user": BOB, "role": "PROJECT.MANAGER", "expiration_time": "2028-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["expiration_time"], "2028-01-01T00:00:00Z");

    let removed = call(
        mock.addr,
        "POST",
        &format!("{base}/delete_user/"),
        json!({"user": BOB, "role": "PROJECT.MANAGER"}),
    )
    .await;
    assert_eq!(removed.status, 200);
    let users = call(
        mock.addr,
        "GET",
        &format!("{base}/list_users/"),
        Value::Null,
    )
    .await;
    assert_eq!(users.header("x-result-count"), Some("1"));
    let again = call(
        mock.addr,
        "POST",
        &format!("{base}/delete_user/"),
        json!({"user": BOB, "role": "PROJECT.MANAGER"}),
    )
    .await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn terminated_projects_refuse_new_members_and_stats_count_them() {
    let (mock, _) = start_bundled("waldur").await;
    let stats = call(
        mock.addr,
        "GET",
        &format!("/api/projects/{GENOME}/stats/"),
        Value::Null,
    )
    .await;
    assert_eq!(stats.status, 200);
    assert_eq!(stats.json()["components"][0]["usage"], 2);
    assert_eq!(stats.json()["components"][1]["usage"], 1);

    call(
        mock.addr,
        "DELETE",
        &format!("/api/projects/{CLIMATE}/"),
        Value::Null,
    )
    .await;
    let refused = call(
        mock.addr,
        "POST",
        &format!("/api/projects/{CLIMATE}/add_user/"),
        json!({"user": BOB, "role": "PROJECT.MEMBER"}),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(refused.json().get("non_field_errors").is_some());
}
