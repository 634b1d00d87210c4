//! `understudy mutate`: arguments into [`MutateOptions`], the run, the
//! report and the exit code.

use super::args::MutateArgs;
use super::common::{EXIT_UNUSABLE, render_run_error};
use crate::mutate::{self, MutateOptions, Progress};

pub fn mutate_command(args: MutateArgs) -> i32 {
    if !(0.0..=100.0).contains(&args.min_score) {
        eprintln!(
            "error: `--min-score {}`: a percentage, 0 to 100",
            args.min_score
        );
        return EXIT_UNUSABLE;
    }
    let options = MutateOptions {
        paths: args.paths,
        spec: args.spec,
        fixture: args.fixture,
        overlays: args.overlays,
        jobs: args.jobs.max(1),
        snapshots: args.snapshots,
        only: args.only,
    };
    let Some(runtime) = super::common::runtime() else {
        return EXIT_UNUSABLE;
    };
    let report = match runtime.block_on(mutate::run(&options, &show_progress)) {
        Ok(report) => report,
        Err(e) => {
            eprint!("{}", render_run_error(&e));
            return EXIT_UNUSABLE;
        }
    };
    println!();
    print!("{}", mutate::report::terminal(&report));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&mutate::report::json(&report)).unwrap_or_default();
        if let Err(e) = crate::source::atomic_file::write(path, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_UNUSABLE;
        }
    }
    if report.score() + 1e-9 < args.min_score {
        eprintln!(
            "the score {:.1}% is below --min-score {}",
            report.score(),
            args.min_score
        );
        return 1;
    }
    0
}

/// The progress of a run on standard output, as `run` shows its own: a
/// line per baseline, then a mark per mutant (`.` killed, `S` survived).
fn show_progress(progress: Progress) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = match progress {
        Progress::Baseline { api } => {
            writeln!(out, "running the suite against the unmutated {api} mock")
        }
        Progress::Trying { mutants, jobs } => writeln!(
            out,
            "trying {mutants} mutant{} ({jobs} at a time): . killed, S survived",
            if mutants == 1 { "" } else { "s" }
        ),
        Progress::Tried { killed } => write!(out, "{}", if killed { "." } else { "S" }),
    };
    let _ = out.flush();
}
