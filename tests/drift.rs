//! `understudy diff`: the bundled mittwald scenarios against two mocks that
//! differ in two known ways, over loopback. The drift must be exactly those
//! two differences, in exactly the steps that show a project.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use understudy::behaviour::Fixture;
use understudy::mock::RunningMock;
use understudy::report::{self, Report};
use understudy::runner::drift::{self, Difference};
use understudy::runner::{self, RunOptions, TargetArg};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The bundled mittwald mock, with the fixture text changed by `edit`.
async fn mittwald(edit: impl Fn(String) -> String) -> RunningMock {
    let path = repo("fixtures/mittwald.yaml");
    let text = edit(std::fs::read_to_string(&path).expect("bundled fixture"));
    let api = understudy::spec::Api::load(&repo("specs/mittwald.json")).expect("bundled spec");
    let mut fixture = Fixture::from_text(&path, &text).expect("edited fixture reads");
    fixture.bind(&api).expect("edited fixture binds");
    common::start(api, fixture).await.0
}

/// Two changes a real service might drift by: a value, and a list item.
fn drifted(text: String) -> String {
    let edited = text
        .replace(
            "clusterDomain: project.host",
            "clusterDomain: project.example",
        )
        .replace(
            "supportedFeatures: [redis, node, runtimeApps, container]",
            "supportedFeatures: [redis, node, runtimeApps]",
        );
    assert_ne!(
        edited, text,
        "the fixture still has the lines this test edits"
    );
    edited
}

async fn observe(url: &str) -> Report {
    let options = RunOptions {
        paths: vec![repo("scenarios/mittwald")],
        targets: vec![TargetArg {
            api: Some("mittwald".into()),
            url: url.to_string(),
        }],
        observe: true,
        ..RunOptions::default()
    };
    runner::run(&options, Arc::new(|_: &report::ScenarioReport| {}))
        .await
        .unwrap_or_else(|e| panic!("the run starts: {e}"))
}

#[tokio::test]
async fn two_mocks_drift_by_exactly_the_differences_made() {
    let left = mittwald(|t| t).await;
    let right = mittwald(drifted).await;
    let (left_run, right_run) = (observe(&left.url()).await, observe(&right.url()).await);
    assert_eq!(left_run.exit_code(), 0, "the suite passes on both sides");
    assert_eq!(right_run.exit_code(), 0, "the drift breaks no expectation");

    let found = drift::compare(&left_run, &right_run);
    let mut steps: Vec<String> = found
        .scenarios
        .iter()
        .flat_map(|s| {
            s.steps
                .iter()
                .map(move |st| format!("{} / {}", s.name, st.name))
        })
        .collect();
    steps.sort();
    assert_eq!(
        steps,
        [
            "a customer's projects include one made on its server / GET /v2/customers/${customer_id}/projects",
            "a project is created on a server and becomes ready / at first it is not ready",
            "a project is created on a server and becomes ready / it is listed for its server",
            "a project is created on a server and becomes ready / wait until it is ready",
            "a project's description is changed / GET /v2/projects/${project_id}",
            "a project's description is changed / GET /v2/projects/${project_id}",
            "the older placement group path creates projects too / GET /v2/projects/${project_id}",
            "the project list counts what it finds / GET /v2/projects",
        ],
        "{}",
        drift::render(&found, "left", "right")
    );
    for step in found.scenarios.iter().flat_map(|s| &s.steps) {
        let [Difference::Content { diff }] = step.differences.as_slice() else {
            panic!(
                "{}: only the content differs: {:?}",
                step.name, step.differences
            );
        };
        let changed: Vec<String> = diff
            .lines()
            .filter(|l| {
                (l.starts_with('-') || l.starts_with('+'))
                    && !l.starts_with("---")
                    && !l.starts_with("+++")
            })
            .map(|l| format!("{}{}", &l[..1], l[1..].trim()))
            .collect();
        assert_eq!(
            changed,
            [
                "-\"clusterDomain\": \"project.host\",",
                "+\"clusterDomain\": \"project.example\",",
                "-\"runtimeApps\",",
                "-\"container\"",
                "+\"runtimeApps\"",
            ],
            "{}: {diff}",
            step.name
        );
    }
    assert!(found.compared >= 30, "{} steps compared", found.compared);

    // The same mock twice: ids, times and run names differ, nothing drifts.
    let again = observe(&left.url()).await;
    let none = drift::compare(&left_run, &again);
    assert_eq!(
        none.exit_code(),
        0,
        "{}",
        drift::render(&none, "left", "right")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_diff_command_prints_the_drift_and_exits_1() {
    let left = mittwald(|t| t).await;
    let right = mittwald(drifted).await;
    let html = std::env::temp_dir().join(format!("understudy-drift-{}.html", std::process::id()));
    let args = vec![
        "diff".to_string(),
        "--report".into(),
        format!("html={}", html.display()),
        "--color".into(),
        "never".into(),
        "--target".into(),
        format!("mittwald={}", left.url()),
        "--against".into(),
        format!("mittwald={}", right.url()),
        repo("scenarios/mittwald").display().to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(&args)
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("-  \"clusterDomain\": \"project.host\","),
        "{stdout}"
    );
    assert!(stdout.contains("steps differ"), "{stdout}");
    let page = std::fs::read_to_string(&html).expect("the HTML drift report is written");
    let _ = std::fs::remove_file(&html);
    assert!(page.contains("steps differ"), "{page}");
    assert!(
        page.contains(
            "<span class=\"del\">-  &quot;clusterDomain&quot;: &quot;project.host&quot;,</span>"
        ),
        "the content diff, marked: {page}"
    );
    assert!(page.contains("<h4>left: response</h4>") && page.contains("<h4>right: response</h4>"));

    let output = tokio::task::spawn_blocking(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(["diff", "--accept", "--against", "http://127.0.0.1:9"])
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("joined");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--accept"));
}
