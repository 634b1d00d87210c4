//! `understudy run` and `understudy diff`: arguments into [`RunOptions`],
//! a progress line while scenarios finish, then the terminal report and the
//! report files.

use super::args::{DiffArgs, RunArgs};
use super::common::{EXIT_UNUSABLE, duration_flag, parse_var, render_run_error};
use crate::report::{self, ScenarioReport};
use crate::runner::drift;
use crate::runner::{self, RunOptions};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A report file asked for with `--report FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportFile {
    Junit(PathBuf),
    Json(PathBuf),
    /// One self-contained page for a person (`report::html`).
    Html(PathBuf),
}

impl std::str::FromStr for ReportFile {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some(("junit", path)) if !path.is_empty() => Ok(ReportFile::Junit(path.into())),
            Some(("json", path)) if !path.is_empty() => Ok(ReportFile::Json(path.into())),
            Some(("html", path)) if !path.is_empty() => Ok(ReportFile::Html(path.into())),
            _ => Err(format!(
                "`--report {text}`: write junit=FILE, json=FILE or html=FILE"
            )),
        }
    }
}

pub fn run_command(args: RunArgs) -> i32 {
    let (options, reports, color) = match options(args) {
        Ok(o) => o,
        Err(message) => {
            eprint!("{message}");
            return EXIT_UNUSABLE;
        }
    };
    let Some(runtime) = super::common::runtime() else {
        return EXIT_UNUSABLE;
    };
    let report = match runtime.block_on(run_with_marks(&options, color)) {
        Ok(report) => report,
        Err(e) => {
            let rendered = render_run_error(&e);
            eprint!("{rendered}");
            // Every report asked for is still written, with the reason in it.
            let _ = write_reports(&report::Report::unusable(&rendered), &reports);
            return EXIT_UNUSABLE;
        }
    };
    println!();
    print!("{}", report::terminal::render(&report, color));
    if let Err(code) = write_reports(&report, &reports) {
        return code;
    }
    report.exit_code()
}

/// Writes each `--report` file; `Err` holds the exit code when one cannot be written.
fn write_reports(report: &report::Report, reports: &[ReportFile]) -> Result<(), i32> {
    for file in reports {
        let (path, text) = match file {
            ReportFile::Json(path) => (path, report::json::render(report)),
            ReportFile::Html(path) => (path, report::html::run(report)),
            ReportFile::Junit(path) => match report::junit::render(report) {
                Ok(text) => (path, text),
                Err(e) => {
                    eprintln!("error: cannot write the JUnit report: {e}");
                    return Err(EXIT_UNUSABLE);
                }
            },
        };
        if let Err(e) = crate::source::atomic_file::write(path, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return Err(EXIT_UNUSABLE);
        }
    }
    Ok(())
}

/// Runs with one progress mark per finished scenario.
async fn run_with_marks(
    options: &RunOptions,
    color: bool,
) -> Result<report::Report, runner::RunError> {
    let marks = Arc::new(Mutex::new(0usize));
    let on_done = {
        let marks = marks.clone();
        Arc::new(move |scenario: &ScenarioReport| {
            let mut count = marks.lock().unwrap_or_else(|e| e.into_inner());
            *count += 1;
            let mut out = std::io::stdout().lock();
            let _ = write!(
                out,
                "{}",
                report::terminal::progress_mark(scenario.outcome, color)
            );
            if (*count).is_multiple_of(80) {
                let _ = writeln!(out);
            }
            let _ = out.flush();
        })
    };
    runner::run(options, on_done).await
}

/// `understudy diff`: the scenarios against `--target` (or the mocks) and
/// against `--against`, then where the two differ.
pub fn diff_command(args: DiffArgs) -> i32 {
    if args.run.accept || args.run.reports.iter().any(|r| r.starts_with("junit=")) {
        eprintln!(
            "error: `understudy diff` writes no snapshots and no JUnit: drop --accept, and use --report json=FILE or html=FILE for the drift"
        );
        return EXIT_UNUSABLE;
    }
    let (left, reports, color) = match options(args.run) {
        Ok(o) => o,
        Err(message) => {
            eprint!("{message}");
            return EXIT_UNUSABLE;
        }
    };
    let left = RunOptions {
        observe: true,
        ..left
    };
    // `--mock-var` switches the mock under test, the left side; the right
    // side is what it is compared with.
    let right = RunOptions {
        targets: args.against,
        mock_vars: Vec::new(),
        ..left.clone()
    };
    let Some(runtime) = super::common::runtime() else {
        return EXIT_UNUSABLE;
    };
    let runs = runtime.block_on(async {
        let left = run_with_marks(&left, color).await?;
        let right = run_with_marks(&right, color).await?;
        Ok::<_, runner::RunError>((left, right))
    });
    let (left, right) = match runs {
        Ok(runs) => runs,
        Err(e) => {
            eprint!("{}", render_run_error(&e));
            return EXIT_UNUSABLE;
        }
    };
    println!();
    let found = drift::compare(&left, &right);
    let side = |report: &report::Report| {
        report
            .targets
            .iter()
            .map(|t| format!("{} {} ({})", t.api, t.url, t.kind))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (left_side, right_side) = (side(&left), side(&right));
    print!("{}", drift::render(&found, &left_side, &right_side));
    for file in &reports {
        let (path, text) = match file {
            ReportFile::Json(path) => (
                path,
                serde_json::to_string_pretty(&found).unwrap_or_default(),
            ),
            ReportFile::Html(path) => (
                path,
                report::html::diff(&left, &right, &found, &left_side, &right_side),
            ),
            ReportFile::Junit(_) => continue,
        };
        if let Err(e) = crate::source::atomic_file::write(path, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_UNUSABLE;
        }
    }
    found.exit_code()
}

type Parsed = (RunOptions, Vec<ReportFile>, bool);

fn options(args: RunArgs) -> Result<Parsed, String> {
    let mut vars = Vec::new();
    for var in &args.vars {
        vars.push(parse_var(var)?);
    }
    let mut mock_vars = Vec::new();
    for var in &args.mock_vars {
        mock_vars.push(parse_var(var)?);
    }
    let reports = args
        .reports
        .iter()
        .map(|r| r.parse::<ReportFile>().map_err(|e| format!("error: {e}\n")))
        .collect::<Result<Vec<_>, _>>()?;
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        "auto" => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        other => {
            return Err(format!(
                "error: `--color {other}`: write auto, always or never\n"
            ));
        }
    };
    if args.jobs == 0 {
        return Err("error: `--jobs 0`: at least one scenario must run at a time\n".into());
    }
    let options = RunOptions {
        paths: args.paths,
        targets: args.targets,
        spec: args.spec,
        fixture: args.fixture,
        stateless: args.stateless,
        overlays: args.overlays,
        jobs: args.jobs,
        shard: args.shard,
        filter: args.filter,
        tags: args.tags,
        skip_tags: args.skip_tags,
        vars,
        mock_vars,
        request_timeout: duration_flag("timeout", &args.timeout)?,
        scenario_timeout: duration_flag("scenario-timeout", &args.scenario_timeout)?,
        real_time: args.real_time,
        max_body: args.max_body,
        snapshots: crate::snapshot::Settings {
            dir: args.snapshots,
            accept: args.accept,
            accept_new: false,
            ci: crate::snapshot::ci_from(std::env::var("CI").ok().as_deref()),
            read_only: false,
        }
        // `--accept` wins over the environment.
        .with_update(
            if args.accept {
                None
            } else {
                std::env::var("INSTA_UPDATE").ok()
            }
            .as_deref(),
        )
        .map_err(|e| format!("error: {e}\n"))?,
        ..RunOptions::default()
    };
    Ok((options, reports, color))
}
