//! The bundled APIs over HTTP: auth, validation in each API's own error
//! shape, routing answers, content negotiation and CORS.

mod common;

use common::{send, start_bundled};
use serde_json::json;

const JSON: (&str, &str) = ("content-type", "application/json");
const DATALLOG_AUTH: [(&str, &str); 3] = [
    ("authorization", "Token mock-token"),
    ("x-api-key", "mock-key"),
    JSON,
];

#[tokio::test]
async fn datallog_needs_both_auth_headers() {
    let (mock, _) = start_bundled("datallog").await;
    let body = br#"{"region":"us-east-1","docker_version":"python-3.10","name":"app1"}"#;
    let answer = send(
        mock.addr,
        "POST",
        "/api/create-project",
        &[("authorization", "Token t"), JSON],
        body,
    )
    .await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    let answer = send(
        mock.addr,
        "POST",
        "/api/create-project",
        &[("x-api-key", "k"), JSON],
        body,
    )
    .await;
    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn datallog_errors_use_its_exact_messages() {
    let (mock, api) = start_bundled("datallog").await;
    let cases = [
        // No body at all: every required field is missing (it used to say
        // "Missing required field(s): " with an empty list).
        (
            serde_json::Value::Null,
            json!({"error": "Missing required field(s): region, docker_version, name"}),
        ),
        (
            json!({"region": "us-east-1", "docker_version": "python-3.10"}),
            json!({"error": "Missing required field(s): name"}),
        ),
        (
            json!({"name": "x"}),
            json!({"error": "Missing required field(s): region, docker_version"}),
        ),
        (
            json!({"region": "mars-1", "docker_version": "python-3.10", "name": "x"}),
            json!({"message": "The selected region isn't supported"}),
        ),
        (
            json!({"region": "us-east-1", "docker_version": "cobol-1", "name": "x"}),
            json!({"message": "This container image isn't supported"}),
        ),
        (
            json!({"region": "us-east-1", "docker_version": "python-3.10", "name": "_start"}),
            json!({"message": "Invalid project name. It must start with a lowercase letter or number, and can only contain lowercase letters, numbers, hyphens (-), or underscores (_). Uppercase letters and special characters are not allowed."}),
        ),
    ];
    let operation = api.operation("create-project").expect("documented");
    let schema = operation
        .response_for(400)
        .and_then(|r| r.media.first())
        .and_then(|m| m.schema.as_ref())
        .expect("400 schema");
    for (body, expected) in cases {
        let sent = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let answer = send(
            mock.addr,
            "POST",
            "/api/create-project",
            &DATALLOG_AUTH,
            sent.as_bytes(),
        )
        .await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.json(), expected, "{body}");
        assert!(
            api.compiled(schema)
                .expect("compiles")
                .is_valid(&answer.json()),
            "error body fits the spec"
        );
    }
}

#[tokio::test]
async fn datallog_valid_request_succeeds_within_the_spec() {
    let (mock, _) = start_bundled("datallog").await;
    let body = br#"{"region":"us-east-1","docker_version":"python-3.10","name":"my-new-project"}"#;
    let answer = send(
        mock.addr,
        "POST",
        "/api/create-project",
        &DATALLOG_AUTH,
        body,
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        json!({"message": "Deploy created successfully"})
    );
}

#[tokio::test]
async fn mittwald_lists_servers_and_reports_validation_in_its_shape() {
    let (mock, _) = start_bundled("mittwald").await;
    let token = [("x-access-token", "mock-token")];
    let answer = send(mock.addr, "GET", "/v2/servers", &token, b"").await;
    assert_eq!(answer.status, 200);
    assert!(answer.json().as_array().is_some_and(|a| !a.is_empty()));

    let order = json!({"orderType": "projectHosting", "orderData": {"customerId": "c", "description": "d", "diskspaceInGiB": 30, "spec": {}}});
    let answer = send(
        mock.addr,
        "POST",
        "/v2/orders",
        &[token[0], JSON],
        order.to_string().as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["type"], "ValidationError");
    let errors = body["validationErrors"].as_array().expect("a list");
    let paths: Vec<&str> = errors.iter().filter_map(|e| e["path"].as_str()).collect();
    assert!(paths.contains(&".orderData.diskspaceInGiB"), "{body}");
    assert!(errors.iter().any(|e| e["type"] == "multipleOf"), "{body}");
}

#[tokio::test]
async fn both_mittwald_create_paths_answer_201_with_an_id() {
    let (mock, _) = start_bundled("mittwald").await;
    for path in [
        "/v2/servers/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f/projects",
        "/v2/placementgroups/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f/projects",
    ] {
        let answer = send(
            mock.addr,
            "POST",
            path,
            &[("x-access-token", "mock-token"), JSON],
            br#"{"description":"p"}"#,
        )
        .await;
        assert_eq!(answer.status, 201, "{path}");
        assert!(answer.json()["id"].is_string());
    }
}

const WALDUR_STAFF: (&str, &str) = (
    "authorization",
    "Token 0123456789abcdef0123456789abcdef01234567",
);

#[tokio::test]
async fn waldur_validation_errors_are_drf_shaped() {
    let (mock, _) = start_bundled("waldur").await;
    let answer = send(
        mock.addr,
        "POST",
        "/api/projects/",
        &[WALDUR_STAFF, JSON],
        br#"{"customer":"not a url"}"#,
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        json!({"name": ["This field is required."], "customer": ["Invalid hyperlink - No URL match."]})
    );
}

#[tokio::test]
async fn waldur_query_parameters_are_typed_and_checked() {
    let (mock, _) = start_bundled("waldur").await;
    let auth = [WALDUR_STAFF];
    let answer = send(
        mock.addr,
        "GET",
        "/api/projects/?page=1&o=name,-created&include_terminated=true",
        &auth,
        b"",
    )
    .await;
    assert_eq!(answer.status, 200);
    let answer = send(
        mock.addr,
        "GET",
        "/api/projects/?customer=nope&o=bogus",
        &auth,
        b"",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        json!({
            "customer": ["Enter a valid UUID."],
            "o": ["Select a valid choice. bogus is not one of the available choices."]
        }),
        "every violation is reported"
    );
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_media_types() {
    let (mock, _) = start_bundled("waldur").await;
    let auth = WALDUR_STAFF;
    assert_eq!(
        send(mock.addr, "GET", "/api/nothing/", &[auth], b"")
            .await
            .status,
        404
    );
    let answer = send(mock.addr, "PUT", "/api/projects/", &[auth], b"").await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET, POST, HEAD, OPTIONS"));
    let answer = send(
        mock.addr,
        "POST",
        "/api/projects/",
        &[auth, ("content-type", "text/plain")],
        b"name=x",
    )
    .await;
    assert_eq!(answer.status, 415);
}

#[tokio::test]
async fn prefer_selects_a_documented_status() {
    let (mock, _) = start_bundled("mittwald").await;
    let answer = send(
        mock.addr,
        "GET",
        "/v2/servers/5d4b5d0e-8b3c-4a1f-9f25-2b0b5f3c1a10",
        &[("x-access-token", "mock-token"), ("prefer", "code=404")],
        b"",
    )
    .await;
    assert_eq!(answer.status, 404);
    assert!(answer.json()["message"].is_string());
}

#[tokio::test]
async fn cors_preflight_and_exposed_headers() {
    let (mock, _) = start_bundled("waldur").await;
    let origin = ("origin", "http://localhost:3000");
    let answer = send(
        mock.addr,
        "OPTIONS",
        "/api/projects/",
        &[
            origin,
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
        b"",
    )
    .await;
    assert_eq!(answer.status, 204);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("authorization, content-type")
    );
    let answer = send(
        mock.addr,
        "GET",
        "/api/projects/",
        &[origin, ("authorization", "Token t")],
        b"",
    )
    .await;
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let exposed = answer
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("link") && exposed.contains("x-result-count"),
        "{exposed}"
    );
}

/// Without a fixture, a refusal takes the spec's own documented error:
/// mittwald's 400 is a `ValidationError` with one entry per problem, and
/// the body is checked against the spec by the runner's own check.
#[tokio::test]
async fn without_a_fixture_errors_take_the_specs_own_shape() {
    let spec = understudy::behaviour::bundled::find("mittwald")
        .expect("bundled")
        .load()
        .expect("loads")
        .0;
    let (mock, api) = common::start(spec, understudy::behaviour::Fixture::default()).await;
    let answer = send(
        mock.addr,
        "POST",
        "/v2/orders",
        &[("x-access-token", "mock-token"), JSON],
        br#"{"orderType":"other"}"#,
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let body = answer.json();
    assert_eq!(body["type"], "ValidationError", "{body}");
    let paths: Vec<&str> = body["validationErrors"]
        .as_array()
        .expect("validationErrors")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(paths, ["orderType"], "{body}");
    assert!(
        body["validationErrors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("other")),
        "{body}"
    );
    let schema = api
        .operation("order-create-order")
        .and_then(|o| o.response_for(400))
        .and_then(|r| r.media.first())
        .and_then(|m| m.schema.as_ref())
        .expect("a documented 400 schema");
    let compiled = api.compiled(schema).expect("compiles");
    assert!(compiled.is_valid(&body), "{body}");
}

/// A spec that documents no error answers refusals as problem+json.
#[tokio::test]
async fn with_no_documented_error_refusals_are_problem_details() {
    let spec = understudy::spec::Api::from_text(
        std::path::Path::new("small.yaml"),
        r#"
openapi: 3.0.3
info: {title: small, version: "1"}
paths:
  /things:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string}}}
      responses:
        "201": {description: made}
"#,
    )
    .expect("loads");
    let (mock, _) = common::start(spec, understudy::behaviour::Fixture::default()).await;
    let answer = send(mock.addr, "POST", "/things", &[JSON], b"{}").await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let body = answer.json();
    assert_eq!(body["status"], 400);
    assert_eq!(
        body["errors"][0]["detail"], "\"name\" is a required property",
        "{body}"
    );
}
