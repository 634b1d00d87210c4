//! `understudy mutate` on the bundled suite: every mutant of the three
//! bundled APIs is killed; with one scenario taken away, the mutant only
//! that scenario noticed survives and is named in the report.

use std::path::{Path, PathBuf};
use understudy::mutate::{self, MutateOptions, report};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn options(paths: Vec<PathBuf>) -> MutateOptions {
    MutateOptions {
        paths,
        spec: None,
        fixture: None,
        overlays: Vec::new(),
        jobs: 4,
        snapshots: root().join("snapshots"),
        only: None,
    }
}

/// `API/ID` of every mutant no scenario killed.
fn survivors(report: &mutate::MutationReport) -> Vec<String> {
    report
        .mutants
        .iter()
        .filter(|m| m.killed_by.is_none())
        .map(|m| format!("{}/{}", m.api, m.fault.id()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_suite_kills_every_mutant_of_the_three_apis() {
    let report = mutate::run(&options(vec![root().join("scenarios")]), &|_| {})
        .await
        .expect("the suite runs");
    let survivors = survivors(&report);
    assert!(survivors.is_empty(), "survivors: {survivors:?}");
    assert_eq!(report.score(), 100.0);
    for api in ["mittwald", "waldur", "datallog"] {
        let of_api = report.mutants.iter().filter(|m| m.api == api).count();
        assert!(of_api >= 5, "only {of_api} mutants of {api}");
    }
    assert!(
        report.mutants.len() > 100,
        "{} mutants",
        report.mutants.len()
    );
    assert!(report::terminal(&report).contains("score 100.0%"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_scenario_of_a_refusal_that_mutant_survives_and_is_named() {
    // The Waldur suite, with the one scenario that adds a member to a
    // terminated project taken out of its file.
    let dir = std::env::temp_dir().join(format!("understudy-mutate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for entry in std::fs::read_dir(root().join("scenarios/waldur")).expect("scenarios") {
        let path = entry.expect("entry").path();
        let mut text = std::fs::read_to_string(&path).expect("readable");
        if let Some(at) = text.find("  - name: a terminated project takes no new members") {
            let rest = &text[at + 1..];
            let end = rest
                .find("\n  - name: ")
                .map_or(text.len(), |i| at + 1 + i + 1);
            text.replace_range(at..end, "");
        }
        std::fs::write(dir.join(path.file_name().expect("a name")), text).expect("copied");
    }
    let report = mutate::run(&options(vec![dir.clone()]), &|_| {})
        .await
        .expect("the suite runs");
    let _ = std::fs::remove_dir_all(&dir);
    let survivors = survivors(&report);
    assert_eq!(survivors, ["waldur/skip-refusal:projects_add_user:1"]);
    let text = report::terminal(&report);
    assert!(
        text.contains("SURVIVED waldur/skip-refusal:projects_add_user:1")
            && text.contains("refusal rule 1 never fires")
            && text.contains("understudy serve --mutant waldur/skip-refusal:projects_add_user:1"),
        "{text}"
    );
    assert!(report.score() < 100.0);
}
