//! Requests repeated exactly while the state does not change are answered
//! with the answer they got before (`--repeat-cache`): over HTTP, such an
//! answer must be the one the request would have been given, through
//! readiness and credentials that expire with time, other credentials and
//! sessions, changes of state, for a fixture's rules and for the state
//! inferred from a spec with none; and the journal, the log and the
//! sessions' use must not tell repeated requests from others.

mod common;

use common::{Answer, send};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use understudy::behaviour::Fixture;
use understudy::behaviour::store::StoreLimits;
use understudy::mock::{MockOptions, MockService, RunningMock};
use understudy::spec::Api;

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Jobs, version: "1"}
security: [{key: []}]
paths:
  /jobs:
    post:
      operationId: createJob
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [kind], properties: {kind: {type: string}}}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Job'}
  /jobs/{id}:
    get:
      operationId: getJob
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Job'}
        '401': {description: no credentials}
        '404': {description: missing}
    patch:
      operationId: updateJob
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, properties: {kind: {type: string}}}
      responses:
        '200':
          description: updated
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Job'}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: x-key}
  schemas:
    Job:
      type: object
      required: [id, kind, state]
      properties:
        id: {type: string}
        kind: {type: string}
        state: {type: string, enum: [queued, done]}
"#;

/// Jobs are done 300 ms after they are made.
const FIXTURE: &str = r#"
auth:
  users: users
  schemes:
    key: key
collections:
  users:
    key: id
    seed:
      - {id: u-1, key: good-key}
  jobs:
    key: id
    generate:
      id: uuid
    ready:
      after: 300ms
      pending: {state: queued}
      ready: {state: done}
operations:
  createJob:
    rules:
      - action: create
        collection: jobs
  getJob:
    target: jobs
    rules:
      - action: read
  updateJob:
    target: jobs
    rules:
      - action: update
"#;

/// The jobs API with [`FIXTURE`], and keys that expire `lifetime` after
/// their session began, if given.
async fn jobs_mock(max_sessions: usize, lifetime: Option<&str>) -> (RunningMock, Arc<MockService>) {
    let api = Api::from_text(Path::new("jobs.yaml"), SPEC).expect("spec loads");
    let text = match lifetime {
        Some(lifetime) => FIXTURE.replace(
            "    key: key\n",
            &format!("    key: key\n  lifetime: {lifetime}\n"),
        ),
        None => FIXTURE.to_string(),
    };
    let mut fixture =
        Fixture::from_text(Path::new("jobs-fixture.yaml"), &text).expect("fixture loads");
    fixture.bind(&api).expect("fixture fits the spec");
    let options = MockOptions {
        limits: StoreLimits {
            max_sessions,
            ..StoreLimits::default()
        },
        ..MockOptions::default()
    };
    common::start_service(api, fixture, options).await
}

async fn get(addr: SocketAddr, target: &str, key: &str, session: &str) -> Answer {
    let headers = [("x-key", key), ("x-understudy-session", session)];
    send(addr, "GET", target, &headers, b"").await
}

async fn create(addr: SocketAddr, session: &str) -> String {
    let headers = [
        ("x-key", "good-key"),
        ("x-understudy-session", session),
        ("content-type", "application/json"),
    ];
    let created = send(addr, "POST", "/jobs", &headers, br#"{"kind":"build"}"#).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    format!("/jobs/{}", created.json()["id"].as_str().expect("an id"))
}

/// Polls `job` until it is done; how long that took from `started`.
async fn poll_until_done(addr: SocketAddr, job: &str, started: Instant) -> Duration {
    let mut polls = 0;
    loop {
        let answer = get(addr, job, "good-key", "poll").await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        polls += 1;
        if answer.json()["state"] == "done" {
            assert!(polls > 3, "polled {polls} times");
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never done");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_polled_job_becomes_done_on_time_and_is_then_answered_again() {
    let (mock, service) = jobs_mock(100, None).await;
    let started = Instant::now();
    let job = create(mock.addr, "poll").await;
    // Polled as a frontend polls: the same request over and over.
    let done_after = poll_until_done(mock.addr, &job, started).await;
    assert!(done_after >= Duration::from_millis(300), "{done_after:?}");
    // Done, and unchanged: answered again without being run.
    for _ in 0..5 {
        let answer = get(mock.addr, &job, "good-key", "poll").await;
        assert_eq!(answer.json()["state"], "done");
    }
    assert!(service.repeated_answers() > 0, "no answer was repeated");
}

#[tokio::test]
async fn a_key_that_expires_with_time_is_refused_on_time() {
    let (mock, service) = jobs_mock(100, Some("1500ms")).await;
    let started = Instant::now();
    let job = create(mock.addr, "poll").await;
    poll_until_done(mock.addr, &job, started).await;
    for _ in 0..5 {
        assert_eq!(get(mock.addr, &job, "good-key", "poll").await.status, 200);
    }
    // Answered again while the key is good: when it stops being good is
    // kept with the answer.
    assert!(service.repeated_answers() > 0, "no answer was repeated");
    // The key's lifetime ends while nothing changes: the same request, on
    // the same connection and on another, is refused as soon as it has.
    let expires = Duration::from_millis(1500);
    let mut kept_alive = common::KeptAlive::open(mock.addr).await;
    let headers = [("x-key", "good-key"), ("x-understudy-session", "poll")];
    while started.elapsed() + Duration::from_millis(150) < expires {
        let answer = kept_alive.send("GET", &job, &headers, b"").await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(expires.saturating_sub(started.elapsed()) + Duration::from_millis(100))
        .await;
    let expired = kept_alive.send("GET", &job, &headers, b"").await;
    assert_eq!(expired.status, 401, "{:?}", expired.body);
    let expired = get(mock.addr, &job, "good-key", "poll").await;
    assert_eq!(expired.status, 401, "{:?}", expired.body);
}

#[tokio::test]
async fn other_credentials_sessions_methods_and_changes_get_their_own_answers() {
    let (mock, service) = jobs_mock(100, None).await;
    let job = create(mock.addr, "a").await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    for _ in 0..3 {
        let answer = get(mock.addr, &job, "good-key", "a").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json()["state"], "done");
    }
    assert!(service.repeated_answers() > 0, "no answer was repeated");
    assert_eq!(get(mock.addr, &job, "bad-key", "a").await.status, 401);
    // Another session has no such job.
    assert_eq!(get(mock.addr, &job, "good-key", "b").await.status, 404);
    // HEAD: the same status and headers, no body.
    let headers = [("x-key", "good-key"), ("x-understudy-session", "a")];
    let head = send(mock.addr, "HEAD", &job, &headers, b"").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-type"), Some("application/json"));
    // A change of state is seen by the very next read.
    let patch = send(
        mock.addr,
        "PATCH",
        &job,
        &[
            ("x-key", "good-key"),
            ("x-understudy-session", "a"),
            ("content-type", "application/json"),
        ],
        br#"{"kind":"deploy"}"#,
    )
    .await;
    assert_eq!(patch.status, 200, "{:?}", patch.body);
    let after = get(mock.addr, &job, "good-key", "a").await;
    assert_eq!(after.json()["kind"], "deploy");
    let again = get(mock.addr, &job, "good-key", "a").await;
    assert_eq!(again.json()["kind"], "deploy");
}

#[tokio::test]
async fn repeated_reads_are_journaled_and_keep_their_session_in_use() {
    let (mock, service) = jobs_mock(2, None).await;
    let polled = create(mock.addr, "polled").await;
    let other = create(mock.addr, "other").await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    for _ in 0..2 {
        assert_eq!(
            get(mock.addr, &polled, "good-key", "polled").await.status,
            200
        );
    }
    // A read changes nothing: "polled"'s answer stays kept.
    assert_eq!(
        get(mock.addr, &other, "good-key", "other").await.status,
        200
    );
    for _ in 0..2 {
        assert_eq!(
            get(mock.addr, &polled, "good-key", "polled").await.status,
            200
        );
    }
    assert!(service.repeated_answers() > 0, "no answer was repeated");
    // A third session drops the one idle longest: "other", used before
    // the last reads of "polled", which were answered again.
    create(mock.addr, "third").await;
    let sessions = send(mock.addr, "GET", "/__understudy/sessions", &[], b"").await;
    let names = sessions.json().to_string();
    assert!(names.contains("polled"), "{names}");
    assert!(!names.contains("other"), "{names}");
    assert_eq!(
        get(mock.addr, &polled, "good-key", "polled").await.status,
        200
    );
    // Every read is in the journal.
    let journal = send(
        mock.addr,
        "GET",
        "/__understudy/requests?limit=100",
        &[],
        b"",
    )
    .await
    .json();
    let reads = journal["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|e| e["method"] == "GET" && e["session"] == "polled")
        .count();
    assert_eq!(reads, 5, "{journal}");
}

#[tokio::test]
async fn a_spec_served_without_a_fixture_repeats_reads_of_its_inferred_items() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/infer/shop.openapi.yaml");
    let api = Api::load(&path).expect("spec loads");
    let fixture = understudy::behaviour::infer::fixture(&api, "shop.openapi.yaml");
    let (mock, service) = common::start_service(api, fixture, MockOptions::default()).await;
    let json = [("content-type", "application/json")];
    let made = send(
        mock.addr,
        "POST",
        "/v1/stores",
        &json,
        br#"{"name":"corner"}"#,
    )
    .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.json()["store_id"].as_str().expect("an id").to_string();
    let store = format!("/v1/stores/{id}");
    let first = send(mock.addr, "GET", &store, &[], b"").await;
    assert_eq!(first.status, 200);
    for _ in 0..3 {
        let again = send(mock.addr, "GET", &store, &[], b"").await;
        assert_eq!(again.body, first.body);
    }
    assert!(service.repeated_answers() > 0, "no answer was repeated");
    let replaced = send(mock.addr, "PUT", &store, &json, br#"{"name":"renamed"}"#).await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    let after = send(mock.addr, "GET", &store, &[], b"").await;
    assert_eq!(after.json()["name"], "renamed");
}

/// What every request on the kept-alive connection carries.
const KEPT_ALIVE: [(&str, &str); 3] = [
    ("x-key", "good-key"),
    ("x-understudy-session", "kept-alive"),
    ("content-type", "application/json"),
];

#[tokio::test]
async fn on_one_kept_alive_connection_changes_other_requests_and_reloads_are_seen() {
    let (mock, service) = jobs_mock(100, None).await;
    let mut connection = common::KeptAlive::open(mock.addr).await;
    let made = connection
        .send("POST", "/jobs", &KEPT_ALIVE, br#"{"kind":"build"}"#)
        .await;
    let job = format!("/jobs/{}", made.json()["id"].as_str().expect("an id"));
    let other = connection
        .send("POST", "/jobs", &KEPT_ALIVE, br#"{"kind":"test"}"#)
        .await;
    let other = format!("/jobs/{}", other.json()["id"].as_str().expect("an id"));
    tokio::time::sleep(Duration::from_millis(350)).await;
    // Built, kept with the item, then repeated on this connection.
    for _ in 0..4 {
        let read = connection.send("GET", &job, &KEPT_ALIVE, b"").await;
        assert_eq!(read.json()["kind"], "build");
    }
    assert!(service.repeated_answers() > 0, "no answer was repeated");
    // Another request on the same connection gets its own answer.
    assert_eq!(
        connection
            .send("GET", &other, &KEPT_ALIVE, b"")
            .await
            .json()["kind"],
        "test"
    );
    assert_eq!(
        connection.send("GET", &job, &KEPT_ALIVE, b"").await.json()["kind"],
        "build"
    );
    // A change is seen by the next read on the connection.
    let patch = connection
        .send("PATCH", &job, &KEPT_ALIVE, br#"{"kind":"deploy"}"#)
        .await;
    assert_eq!(patch.status, 200);
    for _ in 0..3 {
        assert_eq!(
            connection.send("GET", &job, &KEPT_ALIVE, b"").await.json()["kind"],
            "deploy"
        );
    }
    // A reload that keeps the state (so no change is counted) but answers
    // reads with a header: the next read on the connection has it.
    let api = Api::from_text(Path::new("jobs.yaml"), SPEC).expect("spec loads");
    let text = FIXTURE.replace(
        "      - action: read\n",
        "      - action: read\n        headers: {X-Version: \"2\"}\n",
    );
    let mut fixture = Fixture::from_text(Path::new("jobs-fixture.yaml"), &text).expect("loads");
    fixture.bind(&api).expect("fixture fits the spec");
    service.replace(Arc::new(api), Arc::new(fixture));
    let reloaded = connection.send("GET", &job, &KEPT_ALIVE, b"").await;
    assert_eq!(reloaded.header("x-version"), Some("2"));
    assert_eq!(reloaded.json()["kind"], "deploy");
}
