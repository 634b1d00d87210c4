//! `understudy run` as CI calls it: exit codes, report files, and bad
//! scenario files exiting 2 with file, line and the problem.

use std::process::Command;

/// Runs the binary in the repository; exit code, stdout and stderr.
fn understudy(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn passing_scenarios_exit_0_and_write_both_reports() {
    let dir = std::env::temp_dir().join(format!("understudy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let junit = dir.join("junit.xml");
    let json = dir.join("run.json");
    let (code, stdout, stderr) = understudy(&[
        "run",
        "scenarios/datallog",
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("json={}", json.display()),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("scenarios: 10 passed"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert!(
        xml.contains("<testsuite name=\"datallog\" tests=\"10\""),
        "{xml}"
    );
    let text = std::fs::read_to_string(&json).expect("the JSON report is written");
    let report = understudy::report::json::parse(&text).expect("the JSON report parses");
    assert_eq!(report.scenarios.len(), 10);
}

#[test]
fn an_unreachable_target_exits_2() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let (code, _, stderr) = understudy(&[
        "run",
        "--target",
        &format!("http://127.0.0.1:{port}"),
        "scenarios/datallog",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot reach the target"), "{stderr}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["run", "--shard", "3/2", "scenarios"][..],
        &["run", "--target", "ftp://x", "scenarios"][..],
        &["run", "--report", "html=x.html", "scenarios"][..],
        &["run", "scenarios/nowhere"][..],
    ] {
        let (code, _, stderr) = understudy(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
    }
}
