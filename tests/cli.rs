//! The binary: broken specs and fixtures exit 2 naming file, line and problem.

use std::process::Command;

/// Runs `serve` with `--spec` or `--fixture` pointing at `file`; exit code and stderr.
fn serve_with(flag: &str, file: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["serve", "--quiet", "--port", "0", flag, file])
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_dangling_ref_names_file_and_line() {
    let (code, stderr) = serve_spec("tests/bad-specs/dangling-ref.yaml");
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn bad_yaml_names_file_and_line() {
    let (code, stderr) = serve_spec("tests/bad-specs/bad-yaml.yaml");
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn an_unknown_version_names_file_and_line() {
    let (code, stderr) = serve_spec("tests/bad-specs/unknown-version.yaml");
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_missing_file_is_reported() {
    let (code, stderr) = serve_spec("tests/bad-specs/does-not-exist.yaml");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("does-not-exist.yaml") && stderr.contains("cannot read"),
        "{stderr}"
    );
}

fn serve_spec(spec: &str) -> (i32, String) {
    serve_with("--spec", spec)
}

fn serve_fixture(fixture: &str) -> (i32, String) {
    serve_with("--fixture", fixture)
}

#[test]
fn a_fixture_answering_an_undocumented_status_names_file_and_line() {
    let (code, stderr) = serve_fixture("tests/bad-fixtures/undocumented-status.yaml");
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_fixture_with_an_unknown_filter_names_file_and_line() {
    let (code, stderr) = serve_fixture("tests/bad-fixtures/bad-filter-op.yaml");
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}
