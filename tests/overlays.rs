//! OpenAPI Overlays correct a third-party spec without editing it:
//! `--overlay` on the command line, `overlays:` in fixtures and scenario
//! files, applied before the spec is checked.

mod common;

use common::spawn_binary;
use std::ffi::OsStr;
use std::process::Command;

const HEX_ID: &str = "/items/4b2f6e1a9c3d4e8fa1b2c3d4e5f60001";

fn get_status(addr: std::net::SocketAddr, path: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connects");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line")
}

fn serve(args: &[&str]) -> (std::process::Child, std::net::SocketAddr) {
    let mut all: Vec<&OsStr> = vec![
        OsStr::new("serve"),
        OsStr::new("--port"),
        OsStr::new("0"),
        OsStr::new("--quiet"),
        OsStr::new("--no-reload"),
    ];
    all.extend(args.iter().map(OsStr::new));
    spawn_binary(&all)
}

#[test]
fn the_overlay_flag_corrects_the_spec_that_is_served() {
    let (mut plain, addr) = serve(&["tests/data/overlays/api.yaml"]);
    assert_eq!(get_status(addr, HEX_ID), 400, "the spec alone wants a UUID");
    let _ = plain.kill();
    let _ = plain.wait();

    let (mut corrected, addr) = serve(&[
        "tests/data/overlays/api.yaml",
        "--overlay",
        "tests/data/overlays/hex-ids.overlay.yaml",
    ]);
    assert_eq!(get_status(addr, HEX_ID), 200);
    assert_eq!(
        get_status(addr, "/items/4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001"),
        400,
        "the corrected pattern is enforced"
    );
    let _ = corrected.kill();
    let _ = corrected.wait();
}

#[test]
fn a_fixtures_overlays_apply_to_its_spec() {
    let (mut server, addr) = serve(&["--fixture", "tests/data/overlays/fixture.yaml"]);
    assert_eq!(get_status(addr, HEX_ID), 200);
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn a_scenario_files_overlays_apply_to_its_spec() {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(["run", "tests/data/overlays/scenario.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 scenario: 1 passed"), "{stdout}");
}

#[test]
fn an_overlay_that_does_not_apply_names_its_file_and_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args([
            "serve",
            "tests/data/overlays/api.yaml",
            "--overlay",
            "tests/data/overlays/broken.overlay.yaml",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("selects nothing"), "{stderr}");
    assert!(
        stderr.contains("tests/data/overlays/broken.overlay.yaml:4"),
        "{stderr}"
    );
}

fn understudy(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn the_overlay_flag_applies_to_run_diff_and_mutate() {
    let scenario = "tests/data/overlays/plain-scenario.yaml";
    let overlay = "tests/data/overlays/hex-ids.overlay.yaml";
    let (code, out) = understudy(&["run", scenario]);
    assert_eq!(
        code,
        Some(1),
        "without the overlay the hex id is refused: {out}"
    );
    let (code, out) = understudy(&["run", "--overlay", overlay, scenario]);
    assert_eq!(code, Some(0), "{out}");

    // diff: the left side (the in-process mock) takes the overlay; the right
    // side is a server started with it, so the two agree.
    let (mut server, addr) = serve(&["tests/data/overlays/api.yaml", "--overlay", overlay]);
    let against = format!("http://{addr}");
    let (code, out) = understudy(&[
        "diff",
        "--overlay",
        overlay,
        "--against",
        &against,
        scenario,
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, Some(0), "{out}");

    // mutate: the suite passes on the corrected spec, so mutants are tried.
    let (code, out) = understudy(&["mutate", "--overlay", overlay, scenario]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("mutants"), "{out}");
}

/// Starts `understudy record` on an ephemeral port and returns it with the
/// proxy's address (from its first line).
fn record(args: &[&str]) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .arg("record")
        .args(args)
        .args(["--port", "0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("reads");
    let Some(url) = first
        .strip_prefix("understudy recording: http://")
        .and_then(|rest| rest.split_whitespace().next())
    else {
        let _ = child.kill();
        panic!("the recorder did not start: {first:?}");
    };
    (child, url.parse().expect("an address"))
}

#[test]
fn a_recording_is_checked_and_replayed_against_the_corrected_spec() {
    let overlay = "tests/data/overlays/hex-ids.overlay.yaml";
    let scratch =
        std::env::temp_dir().join(format!("understudy-record-overlay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let (mut upstream, upstream_addr) =
        serve(&["tests/data/overlays/api.yaml", "--overlay", overlay]);
    let upstream_url = format!("http://{upstream_addr}");
    let (mut recorder, proxy) = record(&[
        "--upstream",
        &upstream_url,
        "--spec",
        "tests/data/overlays/api.yaml",
        "--overlay",
        overlay,
        "--out",
        scratch.to_str().expect("a UTF-8 path"),
        "--name",
        "rec",
        "--snapshots",
        scratch.join("snapshots").to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(get_status(proxy, HEX_ID), 200);
    let file = scratch.join("rec.yaml");
    // Written after every exchange: the file is whole once it names the step.
    let mut written = String::new();
    for _ in 0..100 {
        written = std::fs::read_to_string(&file).unwrap_or_default();
        if written.contains(HEX_ID) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = recorder.kill();
    let _ = recorder.wait();
    assert!(written.contains("overlays: ["), "{written}");
    assert!(
        !written.contains("# spec:"),
        "checked against the corrected spec, the exchange has nothing to say: {written}"
    );

    let (code, out) = understudy(&[
        "run",
        "--target",
        &upstream_url,
        "--snapshots",
        scratch.join("snapshots").to_str().expect("a UTF-8 path"),
        file.to_str().expect("a UTF-8 path"),
    ]);
    let _ = upstream.kill();
    let _ = upstream.wait();
    let _ = std::fs::remove_dir_all(&scratch);
    assert_eq!(
        code,
        Some(0),
        "the replay checks against the corrected spec too: {out}"
    );
}

#[test]
fn an_overlay_on_a_bundled_api_is_refused_by_record() {
    use std::io::Read;
    // A recorder that starts runs until stopped: the test stops it after
    // 10 s rather than waiting for ever.
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args([
            "record",
            "--upstream",
            "http://127.0.0.1:9",
            "--api",
            "waldur",
            "--overlay",
            "tests/data/overlays/hex-ids.overlay.yaml",
            "--port",
            "0",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let status = common::wait_within(&mut child, std::time::Duration::from_secs(10));
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut stderr));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(2),
        "refused at once: {stderr}"
    );
    assert!(
        stderr.contains("`--overlay` applies to `--spec`"),
        "{stderr}"
    );
}
