//! Rule semantics on a small API written for the test: ids, readiness by
//! reads, answers the spec forbids, fall-through to the spec, and fixtures
//! that contradict their spec.

mod common;

use common::{send, start};
use std::path::Path;
use understudy::behaviour::Fixture;
use understudy::spec::Api;

const SPEC: &str = r#"
openapi: 3.1.0
info: {title: Jobs, version: "1"}
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
        '400':
          description: invalid
          content:
            application/json:
              schema: {type: object, required: [message], properties: {message: {type: string}}}
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
  /health:
    get:
      operationId: health
      parameters: [{name: broken, in: query, schema: {type: boolean}}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object, required: [ok], properties: {ok: {type: boolean}}}
components:
  schemas:
    Job:
      type: object
      required: [id, code, kind, state]
      properties:
        id: {type: integer}
        code: {type: string, pattern: '^J-[0-9]{4}$'}
        kind: {type: string}
        state: {type: string, enum: [queued, done]}
"#;

const FIXTURE: &str = r#"
collections:
  jobs:
    key: id
    generate:
      id: sequence
      code: {pattern: "J-[0-9]{4}"}
    ready:
      reads: 2
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
  health:
    rules:
      - when: "query.broken"
        body: {ok: "not a boolean"}
"#;

async fn jobs_mock() -> common::RunningPair {
    jobs_mock_from(FIXTURE).await
}

/// The jobs spec served with the fixture `text`.
async fn jobs_mock_from(text: &str) -> common::RunningPair {
    let api = Api::from_text(Path::new("jobs.yaml"), SPEC).expect("spec loads");
    let mut fixture =
        Fixture::from_text(Path::new("jobs-fixture.yaml"), text).expect("fixture loads");
    fixture.bind(&api).expect("fixture fits the spec");
    start(api, fixture).await
}

/// The `detail` of a problem+json answer.
fn detail(answer: &common::Answer) -> String {
    answer.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn sequence_and_pattern_ids_and_readiness_after_reads() {
    let (mock, _) = jobs_mock().await;
    let json_type = ("content-type", "application/json");
    for expected_id in [1, 2] {
        let created = send(
            mock.addr,
            "POST",
            "/jobs",
            &[json_type],
            br#"{"kind":"build"}"#,
        )
        .await;
        assert_eq!(created.status, 201);
        let job = created.json();
        assert_eq!(job["id"], expected_id);
        assert!(
            job["code"]
                .as_str()
                .is_some_and(|c| c.len() == 6 && c.starts_with("J-"))
        );
        assert_eq!(job["state"], "queued");
    }
    let states: Vec<String> = {
        let mut states = Vec::new();
        for _ in 0..3 {
            let read = send(mock.addr, "GET", "/jobs/1", &[], b"").await;
            states.push(
                read.json()["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        states
    };
    assert_eq!(
        states,
        ["queued", "queued", "done"],
        "ready after two reads"
    );
    assert_eq!(
        send(mock.addr, "GET", "/jobs/99", &[], b"").await.status,
        404
    );
}

#[tokio::test]
async fn a_rule_body_the_spec_forbids_is_a_500_naming_the_rule() {
    let (mock, _) = jobs_mock().await;
    let answer = send(mock.addr, "GET", "/health?broken=true", &[], b"").await;
    assert_eq!(answer.status, 500);
    let detail = detail(&answer);
    assert!(detail.contains("/operations/health/rules/0"), "{detail}");
}

#[tokio::test]
async fn with_no_matching_rule_the_spec_answers() {
    let (mock, _) = jobs_mock().await;
    let answer = send(mock.addr, "GET", "/health", &[], b"").await;
    assert_eq!(answer.status, 200);
    assert!(answer.json()["ok"].is_boolean());
}

fn bind_error(fixture: &str) -> String {
    let api = Api::from_text(Path::new("jobs.yaml"), SPEC).expect("spec loads");
    match Fixture::from_text(Path::new("bad-fixture.yaml"), fixture) {
        Err(e) => e.to_string(),
        Ok(mut f) => match f.bind(&api) {
            Err(e) => e.to_string(),
            Ok(()) => panic!("the fixture should be refused:\n{fixture}"),
        },
    }
}

#[test]
fn fixtures_that_contradict_their_spec_are_refused_with_file_and_line() {
    let cases = [
        (
            "operations:\n  deleteJob:\n    rules: [{status: 204}]\n",
            "bad-fixture.yaml:2: the spec has no operation `deleteJob`",
        ),
        (
            "operations:\n  getJob:\n    rules:\n      - status: 409\n",
            "bad-fixture.yaml:4: `getJob` does not document status 409",
        ),
        (
            "collections:\n  jobs: {}\noperations:\n  getJob:\n    target: planets\n    rules: []\n",
            "bad-fixture.yaml:5: no collection `planets`",
        ),
        (
            "collections:\n  jobs:\n    ready: {after: soon}\n",
            "bad-fixture.yaml:3: `after` must be a duration",
        ),
        (
            "collections:\n  jobs:\n    keys: id\n",
            "bad-fixture.yaml:3: unknown key `keys`",
        ),
        (
            "operations:\n  getJob:\n    rules:\n      - action: read\n",
            "bad-fixture.yaml:4: this action needs a collection",
        ),
        (
            "collections:\n  jobs: {}\noperations:\n  getJob:\n    rules:\n      - {action: read, collection: jobs}\n",
            "bad-fixture.yaml:6: `action: read` needs an item",
        ),
        (
            "operations:\n  health:\n    rules:\n      - when: \"query.broken ==\"\n",
            "bad-fixture.yaml:4: expression does not compile",
        ),
        (
            "collections:\n  body: {}\n",
            "bad-fixture.yaml:2: `body` cannot name a collection",
        ),
    ];
    for (fixture, expected) in cases {
        let error = bind_error(fixture);
        assert!(
            error.starts_with(expected),
            "expected `{expected}`, got `{error}`"
        );
    }
}

#[test]
fn undocumented_statuses_load_when_marked() {
    let api = Api::from_text(Path::new("jobs.yaml"), SPEC).expect("spec loads");
    let mut fixture = Fixture::from_text(
        Path::new("ok.yaml"),
        "operations:\n  health:\n    rules:\n      - {status: 503, undocumented: true, body: {down: true}}\n",
    )
    .expect("loads");
    fixture
        .bind(&api)
        .expect("an undocumented status is allowed when marked");
    let rule = &fixture.model.operations["health"].rules[0];
    assert!(rule.undocumented);
    assert_eq!(rule.status, Some(503));
}

/// The jobs mock with `errors` rules of its own (`fixture_errors` is YAML
/// under `errors:`).
async fn jobs_mock_with_errors(fixture_errors: &str) -> common::RunningPair {
    jobs_mock_from(&format!("{FIXTURE}errors:\n{fixture_errors}")).await
}

#[tokio::test]
async fn an_error_rule_condition_is_read_as_an_operation_rule_condition_is() {
    // `{{ … }}` around a condition was refused in an error rule and
    // accepted in an operation rule.
    let (mock, _) = jobs_mock_with_errors(
        "  validation:\n    - when: \"{{ missing | length > 0 }}\"\n      body: {message: \"missing {{ missing | join(', ') }}\"}\n    - body: {message: other}\n",
    )
    .await;
    let json_type = ("content-type", "application/json");
    let missing = send(mock.addr, "POST", "/jobs", &[json_type], b"{}").await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["message"], "missing kind");
    let wrong_type = send(mock.addr, "POST", "/jobs", &[json_type], br#"{"kind":1}"#).await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.json()["message"], "other");
}

#[tokio::test]
async fn an_error_rule_body_that_breaks_the_spec_is_a_500_naming_the_rule() {
    let (mock, _) =
        jobs_mock_with_errors("  validation:\n    - body: {msg: \"{{ detail }}\"}\n").await;
    let answer = send(
        mock.addr,
        "POST",
        "/jobs",
        &[("content-type", "application/json")],
        b"{}",
    )
    .await;
    assert_eq!(answer.status, 500, "the spec's 400 needs `message`");
    let detail = detail(&answer);
    assert!(detail.contains("/errors/validation/0"), "{detail}");
    assert!(detail.contains("message"), "{detail}");
}

#[test]
fn a_template_error_under_a_key_with_a_slash_names_its_line() {
    let fixture = "operations:\n  health:\n    rules:\n      - body:\n          \"a/b\": \"{{ broken == }}\"\n";
    let error = bind_error(fixture);
    assert!(
        error.starts_with("bad-fixture.yaml:5:"),
        "the line of `a/b`: {error}"
    );
}

#[test]
fn a_pattern_generator_that_loads_is_one_that_runs() {
    // A word boundary parses as a regular expression but cannot be
    // generated from: it used to load, and every id generated was "".
    let error = bind_error(
        "collections:\n  jobs:\n    key: id\n    generate:\n      code: {pattern: '\\bJ-[0-9]{4}'}\n",
    );
    assert!(
        error.starts_with("bad-fixture.yaml:5: `pattern`: no string can be generated"),
        "{error}"
    );
}

/// An operation whose 200 is documented as JSON and as text.
const NOTE_SPEC: &str = r#"openapi: 3.0.3
info: {title: notes, version: "1"}
paths:
  /note:
    get:
      operationId: getNote
      responses:
        "200":
          description: the note
          content:
            application/json:
              schema: {type: object, required: [id], properties: {id: {type: string}}}
            text/plain:
              schema: {type: string, maxLength: 5}
"#;

async fn note_mock(body: &str) -> common::RunningPair {
    let api = Api::from_text(Path::new("notes.yaml"), NOTE_SPEC).expect("spec loads");
    let text = format!(
        "operations:\n  getNote:\n    rules:\n      - content_type: text/plain\n        body: {body}\n"
    );
    let mut fixture = Fixture::from_text(Path::new("notes-fixture.yaml"), &text).expect("loads");
    fixture.bind(&api).expect("fits the spec");
    start(api, fixture).await
}

#[tokio::test]
async fn a_rule_that_declares_its_content_type_is_held_to_that_types_schema() {
    // The body was checked against the media type `Accept` chose (JSON
    // here), not the one the rule declares and sends.
    let (mock, _) = note_mock("hello").await;
    let answer = send(mock.addr, "GET", "/note", &[], b"").await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(String::from_utf8_lossy(&answer.body), "hello");
    let (mock, _) = note_mock("much too long").await;
    let answer = send(mock.addr, "GET", "/note", &[], b"").await;
    assert_eq!(answer.status, 500, "the text schema allows 5 characters");
    assert!(
        String::from_utf8_lossy(&answer.body).contains("maxLength")
            || String::from_utf8_lossy(&answer.body).contains("longer"),
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_would_loop_for_ever_runs_out_of_fuel_and_names_its_rule() {
    // Two of these used to hold both worker threads for good: the admin API
    // stopped answering and SIGTERM was ignored.
    let fixture = FIXTURE.replace(
        "body: {ok: \"not a boolean\"}",
        "body: {ok: \"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"}",
    );
    let (mock, _) = jobs_mock_from(&fixture).await;
    let started = std::time::Instant::now();
    let ask = || send(mock.addr, "GET", "/health?broken=true", &[], b"");
    let (first, second) = tokio::join!(ask(), ask());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "bounded: {:?}",
        started.elapsed()
    );
    for answer in [first, second] {
        assert_eq!(answer.status, 500);
        let detail = detail(&answer);
        assert!(detail.contains("/operations/health/rules/0"), "{detail}");
        assert!(detail.contains("fuel"), "{detail}");
    }
    let sessions = send(mock.addr, "GET", "/__understudy/sessions", &[], b"").await;
    assert_eq!(sessions.status, 200);
}

/// A loop that runs out of `--template-fuel`.
const ENDLESS: &str =
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";

/// The jobs fixture with `rules` for creating and updating a job, and
/// `generate` lines added to the collection's.
fn jobs_fixture_with(generate: &str, create: &str, update: &str) -> String {
    FIXTURE
        .replace(
            "      code: {pattern: \"J-[0-9]{4}\"}\n",
            &format!("      code: {{pattern: \"J-[0-9]{{4}}\"}}\n{generate}"),
        )
        .replace(
            "      - action: create\n        collection: jobs\n",
            &format!("      - action: create\n        collection: jobs\n{create}"),
        )
        + &format!("  updateJob:\n    target: jobs\n    rules:\n      - action: update\n{update}")
}

/// `POST /jobs` of a build job.
async fn create_build_job(mock: &understudy::mock::RunningMock) -> common::Answer {
    let json_type = ("content-type", "application/json");
    send(
        mock.addr,
        "POST",
        "/jobs",
        &[json_type],
        br#"{"kind":"build"}"#,
    )
    .await
}

/// Asserts a 500 that names where the template is, in the fixture file,
/// and that it ran out of fuel.
fn assert_template_failed(answer: &common::Answer, at: &str) {
    assert_eq!(
        answer.status,
        500,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let problem = answer.json();
    assert_eq!(problem["at"], at, "{problem}");
    let detail = detail(answer);
    assert!(detail.starts_with("jobs-fixture.yaml:"), "{detail}");
    assert!(detail.contains(at) && detail.contains("fuel"), "{detail}");
}

#[tokio::test]
async fn a_template_that_fails_where_any_string_fits_answers_500_and_stores_nothing() {
    // The error's text used to become the field's value: `kind` is a free
    // string, so the create answered 201 and stored "template error: …".
    let generate = format!("      kind: \"{ENDLESS}\"\n");
    let (mock, _) = jobs_mock_from(&jobs_fixture_with(&generate, "", "")).await;
    let created = create_build_job(&mock).await;
    assert_template_failed(&created, "/collections/jobs/generate/kind");
    let read = send(mock.addr, "GET", "/jobs/1", &[], b"").await;
    assert_eq!(read.status, 404, "nothing was stored");
}

#[tokio::test]
async fn a_rule_whose_answer_fails_after_it_wrote_leaves_the_item_as_it_was() {
    // The answer is rendered after the write: the write is undone.
    let body = format!(
        "        body: {{id: \"{{{{ item.id }}}}\", code: \"{{{{ item.code }}}}\", state: queued, kind: \"{ENDLESS}\"}}\n"
    );
    let with_body = |create: bool| {
        let (create, update) = if create {
            (body.as_str(), "")
        } else {
            ("", body.as_str())
        };
        jobs_fixture_with("", create, update)
    };
    let json_type = ("content-type", "application/json");
    let (mock, _) = jobs_mock_from(&with_body(true)).await;
    let created = create_build_job(&mock).await;
    assert_template_failed(&created, "/operations/createJob/rules/0/body/kind");
    assert_eq!(
        send(mock.addr, "GET", "/jobs/1", &[], b"").await.status,
        404
    );

    let (mock, _) = jobs_mock_from(&with_body(false)).await;
    let created = create_build_job(&mock).await;
    assert_eq!(created.status, 201);
    let updated = send(
        mock.addr,
        "PATCH",
        "/jobs/1",
        &[json_type],
        br#"{"kind":"test"}"#,
    )
    .await;
    assert_template_failed(&updated, "/operations/updateJob/rules/0/body/kind");
    let read = send(mock.addr, "GET", "/jobs/1", &[], b"").await;
    assert_eq!(read.json()["kind"], "build", "the update was undone");
}

#[tokio::test]
async fn an_error_rule_whose_template_fails_answers_500_naming_it() {
    let fixture =
        format!("{FIXTURE}errors:\n  validation:\n    - body: {{message: \"{ENDLESS}\"}}\n");
    let (mock, _) = jobs_mock_from(&fixture).await;
    let json_type = ("content-type", "application/json");
    let refused = send(mock.addr, "POST", "/jobs", &[json_type], b"{}").await;
    assert_template_failed(&refused, "/errors/validation/0/body/message");
}

#[test]
fn a_seed_item_whose_template_fails_is_left_out_and_the_log_says_so() {
    use std::sync::Arc;
    let text = jobs_fixture_with(&format!("      kind: \"{ENDLESS}\"\n"), "", "").replace(
        "    ready:\n",
        "    seed:\n      - {id: 7, code: J-0007, state: done, kind: given}\n      - {id: 8, code: J-0008, state: done}\n    ready:\n",
    );
    let api = Api::from_text(Path::new("jobs.yaml"), SPEC).expect("spec loads");
    let mut fixture = Fixture::from_text(Path::new("jobs-fixture.yaml"), &text).expect("loads");
    fixture.bind(&api).expect("fits the spec");
    let store = understudy::behaviour::Store::new(1);
    let session = understudy::behaviour::engine::session(&Arc::new(fixture), &store, "s", "");
    let session = session.lock().expect("not poisoned");
    let jobs = session.collection("jobs");
    assert!(
        jobs.get("7").is_some(),
        "the seed item that names its kind is kept"
    );
    assert!(
        jobs.get("8").is_none(),
        "the one whose kind is generated is left out"
    );
    let events = store.take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].contains("session `s` was seeded without an item")
            && events[0].contains("/collections/jobs/generate/kind"),
        "{events:?}"
    );
}

#[tokio::test]
async fn only_requests_that_change_the_state_count_as_changes() {
    use std::sync::Arc;
    use understudy::mock::{MockOptions, MockService, RunningMock};
    // The count is what a state file saves after: reads that change
    // nothing must not make it serialise the whole state again.
    let api = Api::from_text(Path::new("jobs.yaml"), SPEC).expect("spec loads");
    let mut fixture =
        Fixture::from_text(Path::new("jobs-fixture.yaml"), FIXTURE).expect("fixture loads");
    fixture.bind(&api).expect("fixture fits the spec");
    let service = Arc::new(MockService::new(
        Arc::new(api),
        Arc::new(fixture),
        MockOptions::default(),
    ));
    let mock = RunningMock::start_shared(service.clone())
        .await
        .expect("mock starts");
    let json_type = ("content-type", "application/json");
    let mut last = service.change_count();
    let mut changed = async |method: &str, target: &str, body: &[u8]| {
        let answer = send(mock.addr, method, target, &[json_type], body).await;
        let now = service.change_count();
        let moved = now != last;
        last = now;
        (answer.status, moved)
    };
    assert_eq!(
        changed("POST", "/jobs", br#"{"kind":"build"}"#).await,
        (201, true),
        "a create"
    );
    // Ready after two reads: the first two move readiness, the rest don't.
    assert_eq!(changed("GET", "/jobs/1", b"").await, (200, true));
    assert_eq!(changed("GET", "/jobs/1", b"").await, (200, true));
    for _ in 0..3 {
        assert_eq!(changed("GET", "/jobs/1", b"").await, (200, false));
    }
    assert_eq!(changed("GET", "/jobs/99", b"").await, (404, false));
    assert_eq!(changed("POST", "/jobs", b"{}").await, (400, false));
    assert_eq!(changed("GET", "/health", b"").await, (200, false));
}
