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
