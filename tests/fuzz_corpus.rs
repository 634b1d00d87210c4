//! The fuzz targets' seed corpus and every input a fuzzer ever crashed
//! (`fuzz/regressions/<target>/`), run through the targets' own harness on
//! stable Rust, so CI keeps them fixed without libFuzzer. See `fuzz/run`.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

fn inputs(target: &str) -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<_> = ["corpus", "regressions"]
        .iter()
        .filter_map(|kind| std::fs::read_dir(root.join(kind).join(target)).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= 5,
        "{target}: only {} seed inputs",
        files.len()
    );
    for file in files {
        let data = std::fs::read(&file).expect("readable");
        // A panic names the input, so it can be reproduced with
        // `cargo +nightly fuzz run TARGET FILE`.
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target} panicked on {}", file.display());
    }
}

#[test]
fn spec_load_corpus() {
    replay("spec_load", harness::spec_load);
}

#[test]
fn request_corpus() {
    replay("request", harness::request);
}

#[test]
fn request_structured_corpus() {
    replay("request_structured", harness::request_structured);
}

#[test]
fn scenario_load_corpus() {
    replay("scenario_load", harness::scenario_load);
}

#[test]
fn fixture_load_corpus() {
    replay("fixture_load", harness::fixture_load);
}
