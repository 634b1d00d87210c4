//! Regression snapshots end to end: a scenario with a `snapshot:` step run
//! against the in-process mittwald mock, through a snapshot's whole life:
//! proposed, refused under CI, accepted, matched, and changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use understudy::report::{self, Outcome, Report};
use understudy::runner::{self, RunOptions};
use understudy::snapshot::Settings;

const SCENARIO: &str = r#"
api: mittwald
headers: {x-access-token: mock-token}
scenarios:
  - name: a new project, snapshotted
    steps:
      - request:
          method: POST
          path: /v2/servers/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f/projects
          json: {description: "DESCRIPTION ${run_id}"}
        expect: {status: 201}
        capture: {id: /id}
      - request: GET /v2/projects/${id}
        expect: {status: 200}
        snapshot: {name: project, headers: [x-not-sent], redact: [shortId]}
"#;

struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "understudy-snapshots-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Self { dir }
    }

    fn scenario(&self, description: &str) -> PathBuf {
        let path = self.dir.join("projects.yaml");
        let text = SCENARIO.replace("DESCRIPTION", description);
        std::fs::write(&path, text).expect("scenario written");
        path
    }

    fn snapshot(&self) -> PathBuf {
        self.dir
            .join("snapshots/mittwald/projects__a-new-project-snapshotted__project.snap")
    }

    fn pending(&self) -> PathBuf {
        let mut name = self.snapshot().into_os_string();
        name.push(".new");
        PathBuf::from(name)
    }

    async fn run(&self, scenario: &Path, accept: bool, ci: bool) -> Report {
        let options = RunOptions {
            paths: vec![scenario.to_path_buf()],
            snapshots: Settings {
                dir: self.dir.join("snapshots"),
                accept,
                accept_new: false,
                ci,
                read_only: false,
            },
            ..RunOptions::default()
        };
        runner::run(&options, Arc::new(|_: &report::ScenarioReport| {}))
            .await
            .unwrap_or_else(|e| panic!("the run starts: {e}"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn snapshot_step(report: &Report) -> &report::StepReport {
    &report.scenarios[0].steps[1]
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn a_snapshot_is_proposed_refused_under_ci_accepted_matched_and_changed() {
    let scratch = Scratch::new("lifecycle");
    let scenario = scratch.scenario("first");

    // New: proposed as .snap.new, the step passes with a note.
    let report = scratch.run(&scenario, false, false).await;
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        report::terminal::render(&report, false)
    );
    let notes = &snapshot_step(&report).notes;
    assert!(
        notes.iter().any(|n| n.starts_with("new snapshot:")),
        "{notes:?}"
    );
    assert!(scratch.pending().exists() && !scratch.snapshot().exists());

    // New under CI: a failure, with the proposal still written for review.
    let report = scratch.run(&scenario, false, true).await;
    assert_eq!(report.exit_code(), 1);
    let failure = &snapshot_step(&report).failures[0];
    assert_eq!(failure.check, understudy::report::Check::Snapshot);
    assert!(failure.message.contains("under CI"), "{}", failure.message);

    // Accepted: written in place, the proposal removed, readable by insta.
    let report = scratch.run(&scenario, true, true).await;
    assert_eq!(report.exit_code(), 0);
    assert!(scratch.snapshot().exists() && !scratch.pending().exists());
    let stored = read(&scratch.snapshot());
    let parsed = insta::Snapshot::from_file(&scratch.snapshot()).expect("insta reads it");
    assert_eq!(
        parsed.metadata().expression(),
        Some("GET /v2/projects/${id}")
    );
    let contents = parsed.contents().as_text().expect("text").to_string();
    assert!(stored.ends_with(&format!("{contents}\n")), "{stored}");

    // Redacted: ids, times, the run's id and the named field; the header
    // asked for but not sent shows as absent; real values stay.
    for expected in [
        "status: 200\n",
        "x-not-sent: (absent)\n",
        "\"id\": \"[uuid]\"",
        "\"createdAt\": \"[datetime]\"",
        "\"description\": \"first [run_id]\"",
        "\"shortId\": \"[string]\"",
        "\"isReady\": false",
        "\"clusterDomain\": \"project.host\"",
    ] {
        assert!(contents.contains(expected), "{expected} in\n{contents}");
    }

    // Matched on the next run, under CI too: redaction made it repeatable.
    let report = scratch.run(&scenario, false, true).await;
    assert_eq!(
        report.exit_code(),
        0,
        "{}",
        report::terminal::render(&report, false)
    );
    assert!(snapshot_step(&report).notes.is_empty());

    // Changed: a failure with a diff of just the change; the stored
    // snapshot is kept and the new one proposed.
    let changed = scratch.scenario("second");
    let report = scratch.run(&changed, false, false).await;
    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.scenarios[0].steps[1].outcome, Outcome::Failed);
    let text = report::terminal::render(&report, false);
    assert!(text.contains("✗ snapshot: differs from"), "{text}");
    assert!(
        text.contains("-  \"description\": \"first [run_id]\","),
        "{text}"
    );
    assert!(
        text.contains("+  \"description\": \"second [run_id]\","),
        "{text}"
    );
    let changed_lines = text
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .count();
    assert_eq!(changed_lines, 2, "only the description differs:\n{text}");
    assert_eq!(read(&scratch.snapshot()), stored);
    assert!(read(&scratch.pending()).contains("second [run_id]"));
}

#[tokio::test]
async fn a_broken_snapshot_file_fails_the_step_and_names_the_file() {
    let scratch = Scratch::new("broken");
    let scenario = scratch.scenario("first");
    std::fs::create_dir_all(scratch.snapshot().parent().expect("folder")).expect("folder");
    std::fs::write(scratch.snapshot(), "not a snapshot\n").expect("written");
    let report = scratch.run(&scenario, false, false).await;
    assert_eq!(report.exit_code(), 1);
    let failure = &snapshot_step(&report).failures[0];
    assert_eq!(failure.check, understudy::report::Check::Snapshot);
    assert!(
        failure
            .message
            .contains("projects__a-new-project-snapshotted__project.snap"),
        "{}",
        failure.message
    );
    assert_eq!(
        read(&scratch.snapshot()),
        "not a snapshot\n",
        "left as it was"
    );
}

/// The binary with `args` in `dir`, `input` on its standard input and the
/// environment's snapshot switches cleared but for `update`.
fn understudy_in(
    dir: &Path,
    args: &[&str],
    update: Option<&str>,
    input: &str,
) -> (i32, String, String) {
    use std::io::Write;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_understudy"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(update) = update {
        command.env("INSTA_UPDATE", update);
    }
    let mut child = command.spawn().expect("the binary runs");
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes());
    let output = child.wait_with_output().expect("it ends");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn snapshots_are_reviewed_accepted_and_rejected_without_cargo() {
    // A folder with no Cargo.toml, as an API project's is.
    let scratch = Scratch::new("cli");
    let dir = scratch.dir.clone();
    scratch.scenario("first");
    let run = |update: Option<&str>| understudy_in(&dir, &["run", "projects.yaml"], update, "");

    let (code, stdout, stderr) = run(None);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(scratch.pending().exists());
    let (code, stdout, _) = understudy_in(&dir, &["snapshots", "list"], None, "");
    assert_eq!(code, 0);
    assert!(
        stdout.contains(
            "new      snapshots/mittwald/projects__a-new-project-snapshotted__project.snap"
        ),
        "{stdout}"
    );

    // Review, answered on standard input: the diff is shown, `a` accepts.
    let (code, stdout, _) = understudy_in(&dir, &["snapshots", "review"], None, "a\n");
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("[1/1] new snapshots/mittwald/"), "{stdout}");
    assert!(
        stdout.contains("+  \"description\": \"first [run_id]\","),
        "{stdout}"
    );
    assert!(
        stdout.contains("accepted 1, rejected 0, skipped 0"),
        "{stdout}"
    );
    assert!(scratch.snapshot().exists() && !scratch.pending().exists());

    // A change is proposed; `reject` throws the proposal away.
    scratch.scenario("second");
    let (code, stdout, _) = run(None);
    assert_eq!(code, 1, "a changed snapshot fails: {stdout}");
    let (code, stdout, _) = understudy_in(&dir, &["snapshots", "reject", "mittwald/"], None, "");
    assert_eq!(code, 0);
    assert!(stdout.contains("rejected snapshots/mittwald/"), "{stdout}");
    assert!(!scratch.pending().exists());
    assert!(read(&scratch.snapshot()).contains("first [run_id]"));

    // Skipped in review, then accepted by `accept`.
    run(None);
    let (_, stdout, _) = understudy_in(&dir, &["snapshots", "review"], None, "x\ns\n");
    assert!(
        stdout.contains("a, r, s or q > "),
        "an unknown answer asks again: {stdout}"
    );
    assert!(
        stdout.contains("accepted 0, rejected 0, skipped 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-  \"description\": \"first [run_id]\","),
        "{stdout}"
    );
    let (code, _, _) = understudy_in(&dir, &["snapshots", "accept"], None, "");
    assert_eq!(code, 0);
    assert!(read(&scratch.snapshot()).contains("second [run_id]"));

    // INSTA_UPDATE, read as insta reads it.
    scratch.scenario("third");
    let (code, stdout, _) = run(Some("no"));
    assert_eq!(code, 1, "{stdout}");
    assert!(!scratch.pending().exists(), "`no` writes nothing");
    let (code, stdout, _) = run(Some("always"));
    assert_eq!(code, 0, "{stdout}");
    assert!(read(&scratch.snapshot()).contains("third [run_id]"));
    assert!(!scratch.pending().exists());
    let (code, _, stderr) = run(Some("sometimes"));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`INSTA_UPDATE=sometimes`: write always, unseen, new, no or auto"),
        "{stderr}"
    );
    let (code, stdout, _) = understudy_in(&dir, &["snapshots", "list"], None, "");
    assert_eq!(code, 0);
    assert!(
        stdout.contains("no proposed snapshots under snapshots"),
        "{stdout}"
    );
}
