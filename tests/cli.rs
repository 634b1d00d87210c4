//! The binary: a spec that does not exist exits 2 naming it. Broken specs,
//! fixtures and scenarios are the corpus of `tests/bad_input.rs`.

use std::process::Command;

#[test]
fn a_missing_file_is_reported() {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["serve", "--quiet", "--port", "0", "--spec"])
        .arg("tests/bad-input/does-not-exist.yaml")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does-not-exist.yaml") && stderr.contains("cannot read"),
        "{stderr}"
    );
}

#[test]
fn the_bundled_apis_are_served_from_the_binary_wherever_it_runs() {
    use std::io::{BufRead, BufReader};
    // A base port whose next two are free too, below the ephemeral range.
    let base = (20_000..32_000u16)
        .step_by(7)
        .map(|p| p + (std::process::id() % 7) as u16)
        .find(|p| (0..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok()))
        .expect("three free ports");
    // Run from a folder with no specs in it, as an installed binary is.
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(std::env::temp_dir())
        .args(["serve", "--port", &base.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut banner = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("a line");
        let done = line.starts_with("ready") || banner.len() > 8;
        banner.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let banner = banner.join("\n");
    assert!(banner.contains("understudy serving 3 APIs:"), "{banner}");
    for (api, source) in [
        ("mittwald", "bundled specs/mittwald.json (13 operations)"),
        ("waldur", "bundled specs/waldur.json (20 operations)"),
        ("datallog", "bundled specs/datallog.yaml (3 operations)"),
    ] {
        assert!(
            banner
                .lines()
                .any(|l| l.trim_start().starts_with(api) && l.ends_with(source)),
            "{api}: {banner}"
        );
    }
    assert!(banner.contains("ready in"), "{banner}");
}
