//! The runner must catch a broken implementation. Each test puts a server
//! with one defect in front of a bundled mock (a wrong status, a missing
//! required field, a wrongly typed field, projects that never become ready,
//! a wrong error message) and asserts the bundled scenarios fail, saying
//! what is wrong, with exit code 1.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use understudy::mock::RunningMock;
use understudy::report::{self, Outcome, Report, ScenarioReport};
use understudy::runner::{self, RunOptions, TargetArg};

mod common;

/// Changes a response: `(method, path, status, body)` in, `(status, body)` out.
type Defect = Arc<dyn Fn(&str, &str, u16, Value) -> (u16, Value) + Send + Sync>;

/// A server that answers like `mock` except for `defect`.
struct BrokenServer {
    addr: SocketAddr,
    _mock: RunningMock,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BrokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn broken(api: &str, defect: Defect) -> BrokenServer {
    let (mock, _) = common::start_bundled(api).await;
    let upstream = mock.url();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let client = client.clone();
            let upstream = upstream.clone();
            let defect = defect.clone();
            tokio::spawn(async move {
                let handler = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let client = client.clone();
                    let upstream = upstream.clone();
                    let defect = defect.clone();
                    async move {
                        Ok::<_, Infallible>(forward(&client, &upstream, &defect, request).await)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), handler)
                    .await;
            });
        }
    });
    BrokenServer {
        addr,
        _mock: mock,
        task,
    }
}

async fn forward(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    defect: &Defect,
    request: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut builder = hyper::Request::builder()
        .method(method.clone())
        .uri(format!("{upstream}{target}"));
    for (name, value) in request.headers() {
        if name != hyper::header::HOST {
            builder = builder.header(name, value);
        }
    }
    let body = request
        .into_body()
        .collect()
        .await
        .expect("request body")
        .to_bytes();
    let answer = client
        .request(builder.body(Full::new(body)).expect("request"))
        .await
        .expect("the mock answers");
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let bytes = answer.into_body().collect().await.expect("body").to_bytes();
    let (status, bytes) = match serde_json::from_slice::<Value>(&bytes) {
        Ok(json) if !path.starts_with("/__understudy") => {
            let (status, json) = defect(method.as_str(), &path, status, json);
            (status, Bytes::from(json.to_string()))
        }
        _ => (status, bytes),
    };
    let mut response = hyper::Response::builder().status(status);
    for (name, value) in &headers {
        if name != hyper::header::CONTENT_LENGTH {
            response = response.header(name, value);
        }
    }
    response.body(Full::new(bytes)).expect("response")
}

async fn run_against(server: &BrokenServer, scenarios: &str, filter: &str) -> Report {
    let options = RunOptions {
        paths: vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(scenarios)],
        targets: vec![TargetArg {
            api: None,
            url: format!("http://{}", server.addr),
        }],
        filter: Some(filter.to_string()),
        ..RunOptions::default()
    };
    let report = runner::run(&options, Arc::new(|_: &ScenarioReport| {}))
        .await
        .unwrap_or_else(|e| panic!("the run starts: {e}"));
    assert!(
        !report.scenarios.is_empty(),
        "`{filter}` selects a scenario"
    );
    report
}

/// The failures of the first failed scenario, as the terminal shows them.
fn failure_text(report: &Report) -> String {
    let failed = report
        .scenarios
        .iter()
        .find(|s| s.outcome == Outcome::Failed)
        .unwrap_or_else(|| {
            panic!(
                "a scenario fails: {}",
                report::terminal::render(report, false)
            )
        });
    report::terminal::describe_scenario(failed, false)
}

fn checks_of(report: &Report) -> Vec<String> {
    report
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .flat_map(|s| &s.failures)
        .map(|f| f.check.to_string())
        .collect()
}

#[tokio::test]
async fn a_wrong_success_status_fails() {
    let server = broken(
        "datallog",
        Arc::new(|method, _path, status, body| {
            if method == "POST" && status == 200 {
                (201, body)
            } else {
                (status, body)
            }
        }),
    )
    .await;
    let report = run_against(&server, "scenarios/datallog", "a project is created").await;
    assert_eq!(report.exit_code(), 1);
    let text = failure_text(&report);
    // The failure names the line of the expectation in the scenario file.
    assert!(
        text.contains("✗ status (line 30): expected 200, got 201"),
        "{text}"
    );
    let notes: Vec<&String> = report
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .flat_map(|s| &s.notes)
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("undocumented status 201 for `create-project`")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_missing_required_field_breaks_the_schema() {
    let server = broken(
        "mittwald",
        Arc::new(|method, path, status, mut body| {
            if method == "GET"
                && path.starts_with("/v2/projects/")
                && let Value::Object(map) = &mut body
            {
                map.remove("shortId");
            }
            (status, body)
        }),
    )
    .await;
    let report = run_against(&server, "scenarios/mittwald", "description is changed").await;
    assert_eq!(report.exit_code(), 1);
    let text = failure_text(&report);
    assert!(
        text.contains("✗ schema: 200 of `project-get-project` breaks the spec"),
        "{text}"
    );
    assert!(
        text.contains("\"shortId\" is a required property"),
        "{text}"
    );
}

#[tokio::test]
async fn a_wrongly_typed_field_breaks_the_schema() {
    let server = broken(
        "waldur",
        Arc::new(|_method, path, status, mut body| {
            if path.starts_with("/api/projects/")
                && let Some(count) = body.get_mut("resources_count")
            {
                *count = Value::String(count.to_string());
            }
            (status, body)
        }),
    )
    .await;
    let report = run_against(&server, "scenarios/waldur", "created for a customer").await;
    assert_eq!(report.exit_code(), 1);
    let text = failure_text(&report);
    assert!(text.contains("at `/resources_count`"), "{text}");
    assert!(text.contains("is not of type \"integer\""), "{text}");
    assert!(
        text.contains("✗ json /resources_count (line 53): expected 0, got \"0\""),
        "{text}"
    );
}

#[tokio::test]
async fn projects_that_never_become_ready_fail_the_poll() {
    let server = broken(
        "mittwald",
        Arc::new(|method, path, status, mut body| {
            if method == "GET" && path.starts_with("/v2/projects/") && status == 200 {
                body["isReady"] = Value::Bool(false);
                body["readiness"] = Value::String("creating".into());
                body["status"] = Value::String("pending".into());
            }
            (status, body)
        }),
    )
    .await;
    let report = run_against(&server, "scenarios/mittwald", "becomes ready").await;
    assert_eq!(report.exit_code(), 1);
    let text = failure_text(&report);
    assert!(
        text.contains(
            "✗ until: the condition did not hold within 60000 ms (61 tries, virtual clock)"
        ),
        "{text}"
    );
    assert!(
        text.contains("json /isReady (line 46): expected true, got false"),
        "{text}"
    );
}

#[tokio::test]
async fn a_wrong_error_message_fails_with_a_diff() {
    let server = broken(
        "datallog",
        Arc::new(|_method, _path, status, mut body| {
            if let Some(Value::String(message)) = body.get_mut("message")
                && message.contains("already exists")
            {
                *message = "Name taken.".into();
            }
            (status, body)
        }),
    )
    .await;
    let report = run_against(&server, "scenarios/datallog", "duplicate name").await;
    assert_eq!(report.exit_code(), 1);
    assert_eq!(checks_of(&report), ["body"]);
    let text = failure_text(&report);
    assert!(
        text.contains("-  \"message\": \"A project with the name 'dup-"),
        "{text}"
    );
    assert!(text.contains("+  \"message\": \"Name taken.\""), "{text}");
}

#[tokio::test]
async fn an_unbroken_server_passes_the_same_scenarios() {
    let server = broken("datallog", Arc::new(|_m, _p, status, body| (status, body))).await;
    let report = run_against(&server, "scenarios/datallog", "").await;
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        report::terminal::render(&report, false)
    );
    assert_eq!(report.targets[0].kind, "understudy mock");
}
