//! `understudy record` end to end: a frontend's session through the
//! recording proxy to the bundled mittwald mock (a server of its own), then
//! the recorded scenario replayed against that mock by the runner, with
//! its snapshots, under CI rules.

mod common;

use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use understudy::record::{RecordOptions, Recorder, RunningRecorder};
use understudy::report::{self, Outcome};
use understudy::runner::{self, RunOptions, TargetArg};

const TOKEN: &str = "token-that-must-not-be-written-0451";
const SERVER: &str = "/v2/servers/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process, killed when the test ends however it ends.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn a_recorded_session_replays_against_the_upstream_with_its_snapshots() {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("understudy-record-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    // The upstream takes any token (a stand-in for a real account).
    let (upstream, api) = {
        let (api, mut fixture) = understudy::behaviour::bundled::find("mittwald")
            .expect("bundled")
            .load()
            .expect("loads");
        fixture
            .model
            .vars
            .insert("any_token".into(), serde_json::Value::Bool(true));
        common::start(api, fixture).await
    };
    let (_, fixture) = understudy::behaviour::bundled::find("mittwald")
        .expect("bundled")
        .load()
        .expect("loads");
    let out = scratch.0.join("scenarios/mittwald/onboarding.yaml");
    let snapshots = scratch.0.join("snapshots");
    let options = RecordOptions {
        upstream: upstream.url(),
        api,
        label: "mittwald".into(),
        api_line: "api: mittwald".into(),
        out: out.clone(),
        scenario: "onboarding".into(),
        snapshots: snapshots.clone(),
        volatile: fixture.model.volatile_fields(),
        timeout: Duration::from_secs(10),
        body_limit: 1 << 20,
        max_body: understudy::runner::http::DEFAULT_MAX_BODY,
        write_credentials: false,
        mock_vars: Default::default(),
    };
    let proxy = RunningRecorder::start(Recorder::new(options), "127.0.0.1", 0)
        .await
        .expect("the proxy starts");

    // A frontend's session, through the proxy.
    let auth = [("x-access-token", TOKEN)];
    let created = common::send_json(
        proxy.addr,
        "POST",
        &format!("{SERVER}/projects"),
        &auth,
        json!({"description": "shop"}),
    )
    .await;
    assert_eq!(created.status, 201, "the upstream's answer comes back");
    let id = created.json()["id"].as_str().expect("an id").to_string();
    let read = common::send(proxy.addr, "GET", &format!("/v2/projects/{id}"), &auth, b"").await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["description"], "shop");
    let refused = common::send_json(
        proxy.addr,
        "POST",
        &format!("{SERVER}/projects"),
        &auth,
        json!({"description": 7}),
    )
    .await;
    assert_eq!(
        refused.status, 400,
        "a request the spec forbids is still forwarded"
    );
    let renamed = common::send_json(
        proxy.addr,
        "PATCH",
        &format!("/v2/projects/{id}/description"),
        &auth,
        json!({"description": "shop two"}),
    )
    .await;
    assert_eq!(renamed.status, 204);
    let gone = common::send(
        proxy.addr,
        "DELETE",
        &format!("/v2/projects/{id}"),
        &auth,
        b"",
    )
    .await;
    assert_eq!(gone.status, 204);
    assert_eq!(proxy.recorder.recorded(), 5);
    drop(proxy);

    // What was written: steps with a capture, the id as a variable, the
    // token as an environment reference, the spec mismatch as a comment.
    let text = std::fs::read_to_string(&out).expect("the scenario is written");
    assert!(text.contains("capture: {\"id_1\":\"/id\"}"), "{text}");
    assert!(text.contains("\"path\":\"/v2/projects/${id_1}\""), "{text}");
    assert!(
        !text.contains(&id),
        "the recorded id is not replayed literally:\n{text}"
    );
    assert!(text.contains("${env.RECORDED_X_ACCESS_TOKEN}"), "{text}");
    assert!(
        text.contains("# spec: request:"),
        "the bad request is noted:\n{text}"
    );
    let written = files_under(&scratch.0);
    assert_eq!(
        written
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "snap"))
            .count(),
        5,
        "{written:?}"
    );
    for path in &written {
        let content = std::fs::read_to_string(path).expect("readable");
        assert!(
            !content.contains(TOKEN),
            "{} holds the token",
            path.display()
        );
        if path.extension().is_some_and(|e| e == "snap") {
            insta::Snapshot::from_file(path).expect("insta reads the snapshot");
        }
    }

    // Replayed against the upstream: every step passes and every snapshot
    // matches, under CI rules (a missing snapshot would fail).
    let env: HashMap<String, String> =
        HashMap::from([("RECORDED_X_ACCESS_TOKEN".to_string(), TOKEN.to_string())]);
    let report = runner::run(
        &RunOptions {
            paths: vec![out.clone()],
            targets: vec![TargetArg {
                api: Some("mittwald".into()),
                url: upstream.url(),
            }],
            env: Arc::new(env),
            snapshots: understudy::snapshot::Settings {
                dir: snapshots.clone(),
                accept: false,
                accept_new: false,
                ci: true,
                read_only: false,
            },
            ..RunOptions::default()
        },
        Arc::new(|_: &report::ScenarioReport| {}),
    )
    .await
    .expect("the replay starts");
    let scenario = &report.scenarios[0];
    assert_eq!(
        scenario.outcome,
        Outcome::Passed,
        "{}",
        report::terminal::render(&report, false)
    );
    assert_eq!(scenario.steps.len(), 5);
    let notes: Vec<&String> = scenario.steps.iter().flat_map(|s| &s.notes).collect();
    assert!(
        notes.iter().all(|n| !n.contains("snapshot")),
        "every snapshot matched: {notes:?}"
    );
    assert!(
        !files_under(&scratch.0)
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".snap.new")),
        "no snapshot was proposed anew"
    );
}

#[test]
fn the_record_command_logs_one_line_per_exchange() {
    use std::io::Read;
    let scratch =
        Scratch(std::env::temp_dir().join(format!("understudy-record-log-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&scratch.0);
    let (upstream, upstream_addr) = common::spawn_mittwald(&[]);
    let upstream = Stopped(upstream);
    let out = scratch.0.join("recorded");
    let snapshots = scratch.0.join("snapshots");
    let args: Vec<std::ffi::OsString> = vec![
        "record".into(),
        "--upstream".into(),
        format!("http://{upstream_addr}").into(),
        "--api".into(),
        "mittwald".into(),
        "--port".into(),
        "0".into(),
        "--out".into(),
        out.into(),
        "--snapshots".into(),
        snapshots.into(),
    ];
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (mut proxy, addr) = common::spawn_binary(&args);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let auth = [("x-access-token", "mock-token")];
    runtime.block_on(async {
        let created = common::send_json(
            addr,
            "POST",
            &format!("{SERVER}/projects"),
            &auth,
            json!({"description": 7}),
        )
        .await;
        assert_eq!(created.status, 400);
        let listed = common::send(addr, "GET", "/v2/servers", &auth, b"").await;
        assert_eq!(listed.status, 200);
    });
    let _ = proxy.kill();
    let _ = proxy.wait();
    drop(upstream);
    let mut log = String::new();
    let _ = proxy.stderr.take().map(|mut e| e.read_to_string(&mut log));
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("recorded step"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].ends_with(&format!(
            "mittwald recorded step 1: POST {SERVER}/projects → 400 (1 problem)"
        )),
        "{log}"
    );
    assert!(
        lines[1].ends_with("mittwald recorded step 2: GET /v2/servers → 200"),
        "{log}"
    );
    // Each line starts with the time, as the mock's do.
    assert!(
        lines[0].as_bytes()[2] == b':' && lines[0].as_bytes()[8] == b'.',
        "{log}"
    );
}
