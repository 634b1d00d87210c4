//! `understudy run` as CI calls it: exit codes, report files, and bad
//! scenario files exiting 2 with file, line and the problem.

mod common;

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
fn passing_scenarios_exit_0_and_write_every_report() {
    let dir = std::env::temp_dir().join(format!("understudy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let junit = dir.join("junit.xml");
    let json = dir.join("run.json");
    let html = dir.join("run.html");
    let (code, stdout, stderr) = understudy(&[
        "run",
        "scenarios/datallog",
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("html={}", html.display()),
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
    let page = std::fs::read_to_string(&html).expect("the HTML report is written");
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.contains("10 passed · 0 failed"), "{page}");
    // Each scenario, each with its exchanges.
    for scenario in &report.scenarios {
        let name = scenario
            .name
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;");
        assert!(page.contains(&name), "{name}");
    }
    assert!(page.contains("POST http://127.0.0.1:"), "the requests sent");
    assert!(
        !page.contains("src=") && !page.contains("href="),
        "self-contained"
    );
}

#[test]
fn an_unreachable_target_exits_2_and_still_writes_every_report_with_the_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let dir = std::env::temp_dir().join(format!("understudy-cli-down-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let junit = dir.join("junit.xml");
    let json = dir.join("run.json");
    let (code, _, stderr) = understudy(&[
        "run",
        "--target",
        &format!("http://127.0.0.1:{port}"),
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("html={}", dir.join("run.html").display()),
        "scenarios/datallog",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let page = std::fs::read_to_string(dir.join("run.html")).expect("the HTML report is written");
    assert!(page.contains("cannot reach the target"), "{page}");
    assert!(stderr.contains("cannot reach the target"), "{stderr}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report is written");
    assert!(xml.contains("<error"), "{xml}");
    assert!(xml.contains("cannot reach the target"), "{xml}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report is written"))
            .expect("JSON");
    assert_eq!(report["scenarios"][0]["outcome"], "error");
    assert!(
        report["scenarios"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot reach the target")),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["run", "--shard", "3/2", "scenarios"][..],
        &["run", "--target", "ftp://x", "scenarios"][..],
        &["run", "--report", "pdf=x.pdf", "scenarios"][..],
        &["run", "scenarios/nowhere"][..],
    ] {
        let (code, _, stderr) = understudy(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
    }
}

#[test]
fn a_selection_that_matches_no_scenario_is_an_error_listing_what_there_is() {
    let (code, stdout, stderr) = understudy(&["run", "--tag", "nonexistent", "scenarios/datallog"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("error: no scenario matches --tag nonexistent"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tags: ") && stderr.contains("happy"),
        "{stderr}"
    );
    assert!(stderr.contains("a project is created"), "{stderr}");
    let (code, _, stderr) = understudy(&[
        "diff",
        "--against",
        "http://127.0.0.1:9",
        "--filter",
        "no such scenario",
        "scenarios/datallog",
    ]);
    assert_eq!(code, 2, "diff selects the same way: {stderr}");
    assert!(stderr.contains("--filter no such scenario"), "{stderr}");
}

#[test]
fn mutate_only_matching_no_mutant_is_an_error_and_takes_the_ids_its_report_prints() {
    let (code, stdout, stderr) = understudy(&[
        "mutate",
        "--only",
        "drop-feild",
        "--min-score",
        "100",
        "scenarios/datallog",
    ]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("`--only drop-feild` matches no mutant"),
        "{stderr}"
    );
    assert!(
        stderr.contains("datallog/drop-field:create-project:message"),
        "the ids are listed: {stderr}"
    );
    // The id exactly as the report prints it, API first.
    let (code, stdout, stderr) = understudy(&[
        "mutate",
        "--only",
        "datallog/drop-field:create-project:message",
        "scenarios/datallog",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 of 1"), "{stdout}");
    // Progress comes before the report: the baseline, then a mark per mutant.
    assert!(
        stdout.starts_with(
            "running the suite against the unmutated datallog mock\ntrying 1 mutant (1 at a time): . killed, S survived\n.\n"
        ),
        "{stdout}"
    );
}

#[test]
fn a_scenario_folder_with_a_link_to_its_parent_is_read_once() {
    let dir = std::env::temp_dir().join(format!("understudy-loop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("inner")).expect("scratch folder");
    std::fs::copy(
        "scenarios/datallog/create-project.yaml",
        dir.join("inner/create-project.yaml"),
    )
    .expect("a scenario file");
    // inner/up → the folder itself: walking it naively never ends.
    std::os::unix::fs::symlink(&dir, dir.join("inner/up")).expect("symlink");
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--color", "never"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("runs");
    let status = common::wait_within(&mut child, std::time::Duration::from_secs(60));
    let mut stdout = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{stdout}");
    assert!(stdout.contains("passed"), "{stdout}");
}

/// A server on an ephemeral port that answers `/__understudy/` with 404
/// and everything else with a JSON body that never ends, until the client
/// hangs up. It stops with the test process.
fn endless_server() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut head = [0u8; 4096];
                let n = stream.read(&mut head).unwrap_or(0);
                let request = String::from_utf8_lossy(&head[..n]);
                if request.contains("/__understudy/") {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                    return;
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n[\"x\",\r\n",
                );
                let chunk = format!("{:x}\r\n{}\r\n", 8192, "\"x\",".repeat(2048));
                // At most 1 GiB, in case the client never hangs up.
                for _ in 0..131_072 {
                    if stream.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn an_answer_longer_than_max_body_fails_its_step_and_is_not_read_further() {
    let port = endless_server();
    let dir = std::env::temp_dir().join(format!("understudy-cli-endless-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let scenario = dir.join("endless.yaml");
    std::fs::write(
        &scenario,
        "api: datallog\nscenarios:\n  - name: endless answer\n    steps:\n      - request: GET /platform-api/list-regions\n        expect: {status: 200}\n",
    )
    .expect("scenario written");
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = understudy(&[
        "run",
        scenario.to_str().expect("utf-8 path"),
        "--target",
        &format!("datallog=http://127.0.0.1:{port}"),
        "--max-body",
        "1000000",
        "--timeout",
        "20s",
    ]);
    // Like any answer that never came whole: the scenario could not run.
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "the answer's body is over --max-body (1000000 bytes); the rest was not read"
        ),
        "{stdout}{stderr}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "the run waited for the endless body: {:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Forty lines of `vars`, each repeating the one before twice, would fill
/// in to 2^39 bytes. Under a 2 GiB address-space cap (so a regression
/// fails fast instead of swapping), the run stops at the variable that
/// passes `--max-filled-length`, names it and the scenario's line.
#[cfg(unix)]
#[test]
fn variables_that_double_each_other_stop_at_the_fill_limit() {
    let output = Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("-c")
        .arg(format!(
            "ulimit -v 2097152; exec '{}' run \
             tests/data/vars-doubling.yaml",
            env!("CARGO_BIN_EXE_understudy")
        ))
        .output()
        .expect("the shell runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "unusable input: {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(!stderr.contains("memory allocation"), "{stderr}");
    assert!(
        stdout.contains("tests/data/vars-doubling.yaml:")
            && stdout
                .contains("var `v23`: filling in `${…}` makes a text of more than 16777216 bytes"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn an_unset_environment_variable_is_unusable_input_and_exits_2() {
    let dir = std::env::temp_dir().join(format!("understudy-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let in_vars = dir.join("in-vars.yaml");
    std::fs::write(
        &in_vars,
        "api: datallog\nvars: {token: \"${env.UNDERSTUDY_SURELY_UNSET}\"}\nheaders: {Authorization: \"Token ${token}\", x-api-key: mock-key}\nscenarios:\n  - name: needs a token\n    steps:\n      - request: {method: POST, path: /api/create-project, json: {name: x}}\n        expect: {status: 400}\n",
    )
    .expect("scenario written");
    let in_step = dir.join("in-step.yaml");
    std::fs::write(
        &in_step,
        "api: datallog\nheaders: {Authorization: Token mock-token, x-api-key: mock-key}\nscenarios:\n  - name: needs a path\n    steps:\n      - request: {method: GET, path: \"/api/${env.UNDERSTUDY_SURELY_UNSET}\"}\n        expect: {status: 404}\n",
    )
    .expect("scenario written");
    for file in [&in_vars, &in_step] {
        let (code, stdout, stderr) =
            understudy(&["run", "--color", "never", &file.display().to_string()]);
        assert_eq!(code, 2, "{file:?}: {stdout}{stderr}");
        assert!(
            stdout.contains("the environment variable UNDERSTUDY_SURELY_UNSET is not set"),
            "{stdout}"
        );
        assert!(stdout.contains("1 could not run"), "{stdout}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
