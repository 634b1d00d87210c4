//! The bundled conformance suite against the bundled mocks, and the
//! report formats CI systems read.

use std::path::PathBuf;
use std::sync::Arc;
use understudy::report::{self, Outcome, Report};
use understudy::runner::{self, RunOptions};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

async fn run(options: RunOptions) -> Report {
    runner::run(&options, Arc::new(|_: &report::ScenarioReport| {}))
        .await
        .unwrap_or_else(|e| panic!("the run starts: {e}"))
}

/// A scenario file written for one test, in a folder of its own.
fn scratch_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("understudy-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, text).expect("scratch file");
    path
}

#[tokio::test]
async fn every_bundled_scenario_passes_against_the_bundled_mocks() {
    let report = run(RunOptions {
        paths: vec![repo("scenarios")],
        // Under CI rules: a snapshot missing from the repository fails.
        snapshots: understudy::snapshot::Settings {
            dir: repo("snapshots"),
            accept: false,
            accept_new: false,
            ci: true,
            read_only: false,
        },
        ..RunOptions::default()
    })
    .await;
    let failed: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| s.outcome != Outcome::Passed)
        .map(|s| report::terminal::describe_scenario(s, false))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    for api in ["mittwald", "waldur", "datallog"] {
        let count = report.scenarios.iter().filter(|s| s.api == api).count();
        assert!(count >= 8, "{api} has {count} scenarios");
    }
    assert_eq!(report.exit_code(), 0);
    // The happy paths of all three APIs carry snapshots, and they match.
    for api in ["mittwald", "waldur", "datallog"] {
        let snapshotted = std::fs::read_dir(repo("snapshots").join(api))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "snap"))
                    .count()
            })
            .unwrap_or(0);
        assert!(snapshotted >= 1, "{api} has no snapshots");
    }
    let polled = report
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .find(|s| s.name == "wait until it is ready")
        .expect("the readiness step ran");
    assert!(
        polled.attempts >= 2,
        "readiness is polled through the virtual clock: {} attempts",
        polled.attempts
    );
}

#[tokio::test]
async fn shards_split_the_suite_without_overlap() {
    let mut seen = Vec::new();
    for index in 1..=3 {
        let report = run(RunOptions {
            paths: vec![repo("scenarios/waldur")],
            shard: Some(runner::Shard { index, count: 3 }),
            ..RunOptions::default()
        })
        .await;
        assert!(!report.scenarios.is_empty());
        for s in report.scenarios {
            let key = format!("{}#{}", s.file, s.name);
            assert!(!seen.contains(&key), "{key} ran in two shards");
            seen.push(key);
        }
    }
    let whole = run(RunOptions {
        paths: vec![repo("scenarios/waldur")],
        ..RunOptions::default()
    })
    .await;
    assert_eq!(seen.len(), whole.scenarios.len());
}

#[tokio::test]
async fn filters_and_tags_select_scenarios() {
    let tagged = run(RunOptions {
        paths: vec![repo("scenarios")],
        tags: vec!["auth".into()],
        ..RunOptions::default()
    })
    .await;
    assert!(tagged.scenarios.len() >= 3);
    assert!(
        tagged
            .scenarios
            .iter()
            .all(|s| s.tags.contains(&"auth".to_string()))
    );
    let filtered = run(RunOptions {
        paths: vec![repo("scenarios")],
        filter: Some("PLAN'S PROJECT LIMIT".into()),
        ..RunOptions::default()
    })
    .await;
    assert_eq!(filtered.scenarios.len(), 1);
    assert_eq!(filtered.scenarios[0].api, "datallog");
}

const FAILING: &str = r#"
api: datallog
# Any credentials act as the mock's first account: the secret is made up.
mock_vars: {any_token: true}
headers: {Authorization: "Token ${env.UNDERSTUDY_TEST_SECRET:-x}", x-api-key: k}
scenarios:
  - name: wrong expectations
    steps:
      - request: {method: POST, path: /api/create-project, json: {region: us-east-1, docker_version: python-3.10, name: "p-${run_id}"}}
        expect:
          status: 201
          body: {message: "Deploy created"}
      - request: GET /api/create-project
  - name: right expectations
    steps:
      - request: {method: POST, path: /api/create-project, json: {region: us-east-1, docker_version: python-3.10, name: "p-${run_id}"}}
        expect: {status: 200}
"#;

async fn failing_report() -> Report {
    let env = [(
        "UNDERSTUDY_TEST_SECRET".to_string(),
        "s3cr3t-t0ken".to_string(),
    )];
    run(RunOptions {
        paths: vec![scratch_file("failing", FAILING)],
        env: Arc::new(env.into_iter().collect()),
        ..RunOptions::default()
    })
    .await
}

#[tokio::test]
async fn the_json_report_round_trips_and_keeps_secrets_out() {
    let report = failing_report().await;
    assert_eq!(report.exit_code(), 1);
    let text = report::json::render(&report);
    assert!(!text.contains("s3cr3t-t0ken"), "the secret leaked: {text}");
    assert!(text.contains("Token ***"));
    let back = report::json::parse(&text).expect("the JSON report parses");
    assert_eq!(back, report);
    let failing = &report.scenarios[0];
    assert_eq!(failing.outcome, Outcome::Failed);
    assert_eq!(failing.steps[1].outcome, Outcome::Skipped);
    let checks: Vec<String> = failing.steps[0]
        .failures
        .iter()
        .map(|f| f.check.to_string())
        .collect();
    assert_eq!(checks, ["status", "body"]);
}

fn junit_schema() -> xmlschema::Schema {
    let xsd = std::fs::read_to_string(repo("tests/data/junit.xsd")).expect("the XSD is there");
    xmlschema::parse_schema(&xsd).expect("the XSD parses")
}

fn junit_violations(xml: &str) -> Vec<String> {
    let doc = oxml::parse(xml).expect("the report is well-formed XML");
    xmlschema::validate(&doc, &junit_schema())
        .violations
        .iter()
        .map(|v| format!("{v:?}"))
        .collect()
}

#[tokio::test]
async fn junit_output_is_valid_junit_xml() {
    let report = failing_report().await;
    let xml = report::junit::render(&report).expect("renders");
    let violations = junit_violations(&xml);
    assert!(violations.is_empty(), "{violations:#?}\n{xml}");
    assert!(xml.contains("<failure message=\"status: expected 201, got 200\""));
    assert!(!xml.contains("s3cr3t-t0ken"));
    // Where each scenario is written, for annotation actions, and when the run began.
    let case = xml
        .split("<testcase ")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("a test case");
    assert!(
        case.contains(" file=\"") && case.contains(".yaml\""),
        "{case}"
    );
    assert!(case.contains(" line=\""), "{case}");
    assert!(xml.contains(" timestamp=\"20"), "{xml}");

    // The check itself can fail: a test case without a name is refused.
    let broken = xml.replacen("<testcase name=\"wrong expectations\"", "<testcase", 1);
    assert_ne!(broken, xml);
    assert!(!junit_violations(&broken).is_empty());
    let misplaced = xml.replacen("<testcase ", "<failure/><testcase ", 1);
    assert!(!junit_violations(&misplaced).is_empty());
    let not_a_count = xml.replacen(
        "<testsuite name=\"datallog\" tests=\"2\"",
        "<testsuite name=\"datallog\" tests=\"two\"",
        1,
    );
    assert_ne!(not_a_count, xml);
    assert!(!junit_violations(&not_a_count).is_empty());
}

#[tokio::test]
async fn the_readme_scenario_example_runs() {
    let readme = std::fs::read_to_string(repo("README.md")).expect("README");
    let section = readme
        .split("### Scenario files")
        .nth(1)
        .expect("the README documents scenario files");
    let example = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("with a YAML example");
    let report = run(RunOptions {
        paths: vec![scratch_file("readme", example)],
        ..RunOptions::default()
    })
    .await;
    assert_eq!(report.scenarios.len(), 1);
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        report::terminal::render(&report, false)
    );
    assert_eq!(report.scenarios[0].steps.len(), 2);
}
